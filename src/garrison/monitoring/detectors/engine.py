"""One compiled pass of every pattern over each view of a message.

All pattern detectors' expressions go into ONE database (plus a smaller one for ROT13, below),
compiled once per process. Hyperscan answers which patterns occur in a view in a single scan
(``SINGLEMATCH``: at most one callback per pattern, so a hostile input cannot trigger millions of
Python callbacks). Only for patterns that fired does RE2 (also linear time) find the spans,
because Hyperscan cannot combine single-match reporting with start-of-match. Where Hyperscan is
not importable (or ``GARRISON_PATTERN_ENGINE=re2`` is set), an ``RE2::Set`` answers the first
question instead; the second step is shared, so both engines report the same spans.

Two Hyperscan databases are built: one with every pattern, and one with only the patterns that
read the ROT13 view (the phrase families). Every message has a ROT13 view; the smaller database
cuts that pass from ~14 to ~4 µs of CPU per 1 KB and no longer runs identifier patterns (e-mail,
IPv6) that fire on rotated text only to be discarded, since they may not trust it.

Compiling takes seconds, so compiled databases are serialised to a cache directory
(``GARRISON_PATTERN_CACHE``; ``off`` disables it), keyed by a digest of the expressions, flags
and Hyperscan version, and checked against a SHA-256 of their bytes when read back: a damaged or
foreign file is ignored and rebuilt. The digest proves integrity, not origin: whoever can write
the cache directory can feed Hyperscan a database, so a hardened deployment points the variable
at a directory only the service account can write, or sets it to ``off``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import re2

from garrison.core.errors import ConfigurationError
from garrison.monitoring.detectors.normalise import ByteToChar, NormalisedText
from garrison.monitoring.detectors.patterns import Pattern, all_patterns

EngineName = Literal["hyperscan", "re2"]
ENGINE_ENV = "GARRISON_PATTERN_ENGINE"
CACHE_ENV = "GARRISON_PATTERN_CACHE"
"""Directory for compiled Hyperscan databases; ``off`` (or empty) compiles in every process."""
MAX_SPANS_PER_PATTERN = 100_000
"""Occurrences reported per pattern and view; more are one finding's worth of evidence anyway."""
_CACHE_MAGIC = b"garrison-hsdb-1\n"
try:  # the wrapper's compiled object is called directly (see ``PatternEngine.spans``)
    _UNANCHORED: Any = re2._Anchor.UNANCHORED
except AttributeError:  # a wrapper without it: use its public search/finditer instead
    _UNANCHORED = None
_NO_MATCH = (-1, -1)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatternMatch:
    pattern: Pattern
    view: str
    kind: str
    spans: tuple[tuple[int, int], ...]
    """Character offsets in the view; the first occurrence only unless ``all_spans``."""
    text: str
    """The view's text, so validators can read the candidate."""


def hyperscan_available() -> bool:
    return importlib.util.find_spec("hyperscan") is not None


def default_engine_name() -> EngineName:
    chosen = os.environ.get(ENGINE_ENV, "").strip().lower()
    if chosen in ("", "auto"):
        return "hyperscan" if hyperscan_available() else "re2"
    if chosen not in ("hyperscan", "re2"):
        raise ConfigurationError(
            f"{ENGINE_ENV}={chosen!r} is not an engine", hint="use hyperscan, re2 or auto"
        )
    if chosen == "hyperscan" and not hyperscan_available():
        raise ConfigurationError(
            f"{ENGINE_ENV}=hyperscan but the hyperscan package is not installed",
            hint="install hyperscan or set the variable to re2",
        )
    return "hyperscan" if chosen == "hyperscan" else "re2"


def _re2_source(pattern: Pattern) -> str:
    flags = ("i" if pattern.caseless else "") + ("m" if pattern.multiline else "")
    return f"(?{flags}){pattern.expression}" if flags else pattern.expression


class PatternEngine:
    """A compiled set of patterns; ``match`` returns the patterns found in one text."""

    def __init__(self, patterns: Sequence[Pattern], engine: EngineName) -> None:
        self.patterns = tuple(patterns)
        self.name: EngineName = engine
        self._spanners = [re2.compile(_re2_source(p)) for p in self.patterns]
        # The wrapper's compiled RE2 object, called directly on bytes: the wrapper's generator and
        # match object cost more than the search itself for a 1 KB view.
        self._raw = [
            getattr(spanner, "_regexp", None) if _UNANCHORED is not None else None
            for spanner in self._spanners
        ]
        self._hs_db: Any = None
        self._hs_rot13: Any = None
        # Hyperscan scans without the GIL, and a scratch space serves one scan at a time: each
        # thread gets its own per database. The engine is shared by every caller in a process
        # (the SDK guard in a threaded application, ingest when it ran two batches at once), and
        # a shared scratch made concurrent scans fail.
        self._scratch = threading.local()
        self._new_scratch: Any = None
        self._set: Any = None
        self._reads: dict[str, tuple[bool, ...]] = {}
        if engine == "hyperscan":
            import hyperscan

            self._new_scratch = hyperscan.Scratch
            everything = range(len(self.patterns))
            self._hs_db = self._compile_hyperscan(everything)
            rot13 = [i for i in everything if self.patterns[i].reads("rot13")]
            self._hs_rot13 = self._compile_hyperscan(rot13) if rot13 else None
        else:
            self._set = self._compile_set()

    def _compile_hyperscan(self, members: Sequence[int]) -> Any:
        """One database over ``members``; a match reports the pattern's index in ``patterns``."""
        import hyperscan

        flags = []
        for index in members:
            pattern = self.patterns[index]
            flag = hyperscan.HS_FLAG_SINGLEMATCH
            if pattern.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            if pattern.multiline:
                flag |= hyperscan.HS_FLAG_MULTILINE
            if pattern.is_unicode:
                flag |= hyperscan.HS_FLAG_UTF8
            flags.append(flag)
        expressions = [self.patterns[i].expression.encode("utf-8") for i in members]
        ids = list(members)
        key = _database_key(expressions, flags, ids)
        cached = _read_cached_database(key)
        if cached is not None:
            return cached
        database = hyperscan.Database()
        database.compile(expressions=expressions, ids=ids, elements=len(ids), flags=flags)
        _write_cached_database(key, database)
        return database

    def _thread_scratch(self, database: Any) -> Any:
        """This thread's scratch space for ``database``, made on the thread's first scan."""
        spaces: dict[int, Any] | None = getattr(self._scratch, "spaces", None)
        if spaces is None:
            spaces = self._scratch.spaces = {}
        scratch = spaces.get(id(database))
        if scratch is None:
            scratch = spaces[id(database)] = self._new_scratch(database)
        return scratch

    def _compile_set(self) -> Any:
        matcher = re2.Set.SearchSet(re2.Options())
        for pattern in self.patterns:
            matcher.Add(_re2_source(pattern))
        matcher.Compile()
        return matcher

    def fired(self, text: str, data: bytes | None = None, kind: str = "text") -> list[int]:
        """Indexes of the patterns that occur anywhere in ``text``, ascending.

        ``data`` is ``text`` already encoded as UTF-8, when the caller has it. For the ``rot13``
        view kind only the patterns that read it are searched (with Hyperscan)."""
        if not text:
            return []
        if self._hs_db is not None:
            found: list[int] = []
            encoded = text.encode("utf-8") if data is None else data
            database = self._hs_db
            if kind == "rot13":
                database = self._hs_rot13
                if database is None:
                    return found
            database.scan(
                encoded,
                match_event_handler=_collect,
                context=found,
                scratch=self._thread_scratch(database),
            )
            found.sort()
            return found
        indexes = self._set.Match(text if data is None else data)
        return sorted(indexes) if indexes else []

    def spans(
        self, index: int, text: str, *, every: bool, data: bytes | None = None
    ) -> tuple[tuple[int, int], ...]:
        """Character offsets of the first (or ``every``) match of pattern ``index`` in ``text``.

        RE2 runs over the UTF-8 bytes (``data``, or encoded here): the Python wrapper's ``str``
        path re-encodes the text and converts offsets on every call. Byte offsets become
        character offsets only for the matches found, in one forward pass.
        """
        encoded = text.encode("utf-8") if data is None else data
        to_char = ByteToChar(encoded, len(encoded) == len(text))
        raw = self._raw[index]
        if raw is not None:
            return _raw_spans(raw, encoded, to_char, every)
        expression = self._spanners[index]
        if not every:
            match = expression.search(encoded)
            return () if match is None else ((to_char(match.start()), to_char(match.end())),)
        found: list[tuple[int, int]] = []
        for match in expression.finditer(encoded):
            found.append((to_char(match.start()), to_char(match.end())))
            if len(found) >= MAX_SPANS_PER_PATTERN:
                break
        return tuple(found)

    def match_text(self, text: str, view: str = "text", kind: str = "text") -> list[PatternMatch]:
        if not text:
            return []
        data = text.encode("utf-8")
        result: list[PatternMatch] = []
        readers = self._readers(kind)
        for index in self.fired(text, data, kind):
            if not readers[index]:
                continue
            pattern = self.patterns[index]
            spans = self.spans(index, text, every=pattern.all_spans, data=data)
            if spans:
                result.append(PatternMatch(pattern, view, kind, spans, text))
        return result

    def _readers(self, kind: str) -> tuple[bool, ...]:
        """``pattern.reads(kind)`` for every pattern, computed once per view kind."""
        readers = self._reads.get(kind)
        if readers is None:
            readers = tuple(pattern.reads(kind) for pattern in self.patterns)
            self._reads[kind] = readers
        return readers

    def match(self, normalised: NormalisedText) -> list[PatternMatch]:
        """Matches over the text and every view, computed once per message and engine."""
        key = f"patterns:{self.name}:{id(self)}"
        cached: list[PatternMatch] | None = normalised.cache.get(key)
        if cached is None:
            cached = []
            for view, kind, text in normalised.targets():
                cached.extend(self.match_text(text, view, kind))
            normalised.cache[key] = cached
        return cached


def _collect(index: int, _start: int, _end: int, _flags: int, found: list[int]) -> None:
    found.append(index)


def _raw_spans(
    raw: Any, data: bytes, to_char: ByteToChar, every: bool
) -> tuple[tuple[int, int], ...]:
    """Leftmost-first matches of one compiled RE2 over UTF-8 ``data``, as character offsets,
    stepping past an empty match by one byte as the wrapper's ``finditer`` on bytes does."""
    found: list[tuple[int, int]] = []
    position, end = 0, len(data)
    while True:
        start, stop = raw.Match(_UNANCHORED, data, position, end)[0]
        if (start, stop) == _NO_MATCH:
            break
        found.append((to_char(start), to_char(stop)))
        if not every or len(found) >= MAX_SPANS_PER_PATTERN or position == end:
            break
        if stop == position:
            position += 1
        else:
            position = stop
    return tuple(found)


# --- the compiled-database cache -----------------------------------------------------------------


def _cache_dir() -> Path | None:
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        chosen = chosen.strip()
        return None if chosen.lower() in ("", "off", "0", "false", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (some service accounts): compile every time
            return None
    return Path(base) / "garrison" / "patterns"


def _database_key(expressions: Sequence[bytes], flags: Sequence[int], ids: Sequence[int]) -> str:
    """Digest of everything the compiled database depends on, including the library and CPU
    architecture it was built for (a database compiled elsewhere may not load)."""
    digest = hashlib.sha256()
    version = importlib.metadata.version("hyperscan")
    digest.update(f"hyperscan {version} {platform.machine()}\n".encode())
    for expression, flag, number in zip(expressions, flags, ids, strict=True):
        digest.update(f"{number}:{flag}:{len(expression)}:".encode())
        digest.update(expression)
    return digest.hexdigest()


def _read_cached_database(key: str) -> Any:
    """The cached database for ``key``, or None when absent, damaged or not loadable."""
    folder = _cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.hsdb"
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    header_end = len(_CACHE_MAGIC) + 64
    payload = blob[header_end + 1 :]
    if (
        not blob.startswith(_CACHE_MAGIC)
        or blob[header_end : header_end + 1] != b"\n"
        or hashlib.sha256(payload).hexdigest().encode() != blob[len(_CACHE_MAGIC) : header_end]
    ):
        _log.warning("ignoring damaged pattern cache file %s; recompiling", path)
        return None
    import hyperscan

    try:
        database = hyperscan.loadb(payload, hyperscan.HS_MODE_BLOCK)
        # A deserialised database comes without scratch space; scanning would fail without it.
        database.scratch = hyperscan.Scratch(database)
        return database
    except Exception:  # the library's own error types vary by version; recompiling is safe
        _log.warning("pattern cache file %s does not load here; recompiling", path)
        return None


def _write_cached_database(key: str, database: Any) -> None:
    """Store ``database`` atomically (a reader never sees half a file); failures only cost the
    next process a compile."""
    folder = _cache_dir()
    if folder is None:
        return
    import hyperscan

    try:
        payload = bytes(hyperscan.dumpb(database))
        folder.mkdir(parents=True, exist_ok=True)
        header = _CACHE_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".hsdb-")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(header + payload)
            os.replace(temporary, folder / f"{key}.hsdb")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        _log.info("pattern cache not written (%s); the next process compiles again", error)


@cache
def _engine(name: EngineName) -> PatternEngine:
    return PatternEngine(all_patterns(), name)


def get_engine(name: EngineName | None = None) -> PatternEngine:
    """The process-wide engine over every packaged pattern (compiled on first use)."""
    return _engine(name or default_engine_name())
