"""One compiled pass of every pattern over each view of a message.

All pattern detectors' expressions go into ONE database, compiled once per process. Hyperscan
answers which patterns occur in a view in a single scan (``SINGLEMATCH``: at most one callback per
pattern, so a hostile input cannot trigger millions of Python callbacks). Only for patterns that
fired does RE2 (also linear time) find the spans, because Hyperscan cannot combine single-match
reporting with start-of-match. Where Hyperscan is not importable (or ``GARRISON_PATTERN_ENGINE=re2``
is set), an ``RE2::Set`` answers the first question instead; the second step is shared, so both
engines report the same spans.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import re2

from garrison.core.errors import ConfigurationError
from garrison.monitoring.detectors.normalise import ByteToChar, NormalisedText
from garrison.monitoring.detectors.patterns import Pattern, all_patterns

EngineName = Literal["hyperscan", "re2"]
ENGINE_ENV = "GARRISON_PATTERN_ENGINE"
MAX_SPANS_PER_PATTERN = 100_000
"""Occurrences reported per pattern and view; more are one finding's worth of evidence anyway."""


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
        self._hs_db: Any = None
        self._set: Any = None
        self._reads: dict[str, tuple[bool, ...]] = {}
        if engine == "hyperscan":
            self._hs_db = self._compile_hyperscan()
        else:
            self._set = self._compile_set()

    def _compile_hyperscan(self) -> Any:
        import hyperscan

        flags = []
        for pattern in self.patterns:
            flag = hyperscan.HS_FLAG_SINGLEMATCH
            if pattern.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            if pattern.multiline:
                flag |= hyperscan.HS_FLAG_MULTILINE
            if pattern.is_unicode:
                flag |= hyperscan.HS_FLAG_UTF8
            flags.append(flag)
        database = hyperscan.Database()
        database.compile(
            expressions=[p.expression.encode("utf-8") for p in self.patterns],
            ids=list(range(len(self.patterns))),
            elements=len(self.patterns),
            flags=flags,
        )
        return database

    def _compile_set(self) -> Any:
        matcher = re2.Set.SearchSet(re2.Options())
        for pattern in self.patterns:
            matcher.Add(_re2_source(pattern))
        matcher.Compile()
        return matcher

    def fired(self, text: str, data: bytes | None = None) -> list[int]:
        """Indexes of the patterns that occur anywhere in ``text``, ascending.

        ``data`` is ``text`` already encoded as UTF-8, when the caller has it."""
        if not text:
            return []
        if self._hs_db is not None:
            found: list[int] = []
            encoded = text.encode("utf-8") if data is None else data
            self._hs_db.scan(encoded, match_event_handler=_collect, context=found)
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
        expression = self._spanners[index]
        to_char = ByteToChar(encoded, len(encoded) == len(text))
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
        for index in self.fired(text, data):
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


@cache
def _engine(name: EngineName) -> PatternEngine:
    return PatternEngine(all_patterns(), name)


def get_engine(name: EngineName | None = None) -> PatternEngine:
    """The process-wide engine over every packaged pattern (compiled on first use)."""
    return _engine(name or default_engine_name())
