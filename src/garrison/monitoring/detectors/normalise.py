"""The one normalisation every detector scans: canonical text plus decoded views of it.

Attackers hide the words a detector looks for: look-alike letters from other scripts, invisible
characters inside words, ASCII smuggled in Unicode tag characters, and payloads wrapped in base64,
hex, percent-encoding, HTML entities or ROT13. ``normalise`` undoes each of these once per message,
so that every detector sees the same text and the same decoded *views*:

* the normalised text: invisible characters removed, Unicode NFKC (fullwidth and mathematical
  letters become ASCII), then confusable folding (Cyrillic small a, U+0430, becomes ASCII ``a``);
* views: the original script before folding (for multilingual patterns), tag-character payloads,
  decoded base64 / hex / percent-encoded runs (nested to ``MAX_DEPTH``), HTML entities and ROT13.

All work is linear in the input: candidate runs are found with RE2 (a linear-time engine) and
everything else is ``str`` methods. Decoded views are bounded in number and total size so that a
hostile message cannot make the scan explode; when a bound is hit, ``views_truncated`` says so and
the obfuscation detector reports it.
"""

from __future__ import annotations

import base64
import binascii
import html
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import re2
import yaml

MAX_DEPTH = 3
"""How many encodings deep a payload is unwrapped (base64 in hex in percent-encoding is 3)."""
VIEW_BUDGET_FACTOR = 4
"""All views together hold at most this many times the input's characters…"""
VIEW_BUDGET_CAP = 32 * 1024 * 1024
"""… and never more than this many characters."""
MAX_DECODED_VIEWS = 1024
"""Decoded runs beyond this many are not unwrapped; the flood itself is reported."""
MIN_BASE64_RUN = 16
MIN_HEX_RUN = 16
MIN_DECODED_CHARS = 4

_HEX_DIGITS = "0123456789abcdefABCDEF"
_WHITESPACE_DELETE = {ord(c): None for c in "\n\r\t"}

# Invisible characters by class. Each class is reported separately because their weight differs:
# a tag character has no use in a prompt, a zero-width joiner is part of many emoji.
INVISIBLE_CLASSES: Mapping[str, tuple[tuple[int, int], ...]] = {
    "zero_width": (
        (0x200B, 0x200B),
        (0x2060, 0x2064),
        (0xFEFF, 0xFEFF),
        (0x180E, 0x180E),
        (0x034F, 0x034F),
        (0x115F, 0x1160),
        (0x3164, 0x3164),
        (0xFFA0, 0xFFA0),
    ),
    "joiner": ((0x200C, 0x200D),),
    "bidi_control": ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069)),
    "soft_hyphen": ((0x00AD, 0x00AD),),
    "variation_selector": ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF)),
    "tag": ((0xE0000, 0xE007F),),
}
_SURROGATES = (0xD800, 0xDFFF)
_REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class View:
    """A decoded form of (part of) the normalised text, scanned like the text itself."""

    name: str
    """Unique within one message, e.g. ``base64@120`` or ``url@4>hex@0``; used in ``Span.view``."""
    kind: str
    """The decoder: ``nfkc``, ``tags``, ``base64``, ``hex``, ``url``, ``html`` or ``rot13``."""
    text: str
    origin: tuple[int, int]
    """Characters of the normalised text this view was decoded from (outermost run)."""
    depth: int = 1


@dataclass
class NormalisedText:
    """A message ready for detectors: the normalised text, its views, and what was undone."""

    original: str
    text: str
    views: tuple[View, ...] = ()
    invisible: Mapping[str, int] = field(default_factory=dict)
    """Invisible characters removed, by class (see ``INVISIBLE_CLASSES``)."""
    folded: int = 0
    """Look-alike characters folded to ASCII."""
    mixed_script: int = 0
    """Places where a look-alike letter touches an ASCII letter: a homoglyph attack, not just
    Cyrillic or Greek text."""
    nfkc_changed: bool = False
    views_truncated: bool = False
    invalid_utf8: bool = False
    """The message arrived as bytes that were not valid UTF-8 (decoded with replacement)."""
    stripped: str = ""
    """The original without invisible characters: what redaction masks and shows."""
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Per-message results shared between detectors (e.g. the pattern engine's matches)."""

    def view(self, name: str) -> View | None:
        for candidate in self.views:
            if candidate.name == name:
                return candidate
        return None

    def targets(self) -> Iterator[tuple[str, str, str]]:
        """``(view name, kind, text)`` for the text itself and every view."""
        yield "text", "text", self.text
        for item in self.views:
            yield item.name, item.kind, item.text

    def origin_of(self, view_name: str, start: int, end: int) -> tuple[int, int]:
        """Where a span of a view lies in the normalised text."""
        if view_name == "text":
            return start, end
        found = self.view(view_name)
        if found is None:
            raise KeyError(view_name)
        if found.kind == "nfkc":  # folding is one character for one, offsets are shared
            return start, end
        return found.origin

    def stripped_range(self, start: int, end: int) -> tuple[int, int] | None:
        """The characters of ``stripped`` that became ``text[start:end]``, or None when NFKC
        changed the text in a way no per-character alignment explains."""
        alignment = self._alignment()
        if alignment is None:
            return None
        if not alignment:  # identity
            return start, end
        if start >= len(alignment):
            return len(self.stripped), len(self.stripped)
        first = alignment[start]
        last = alignment[end - 1] + 1 if end > start else first
        return first, last

    def _alignment(self) -> list[int] | None:
        """Index in ``stripped`` of each character of ``text``; ``[]`` means identity."""
        if "alignment" not in self.cache:
            self.cache["alignment"] = _align(self.stripped, self.text, self.nfkc_changed)
        result: list[int] | None = self.cache["alignment"]
        return result


# --- tables -------------------------------------------------------------------------------------


@cache
def confusables() -> dict[int, str]:
    """Code point → ASCII look-alike, from ``data/confusables.yaml``."""
    source = files("garrison.monitoring.detectors") / "data" / "confusables.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for group in data.values():
        for code, replacement in group.items():
            if len(replacement) != 1:
                raise ValueError(f"confusable U+{code} must map to one character")
            table[int(code, 16)] = replacement
    return table


@cache
def _strip_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for ranges in INVISIBLE_CLASSES.values():
        for low, high in ranges:
            table.update(dict.fromkeys(range(low, high + 1)))
    # Lone surrogates cannot be encoded as UTF-8; the engines only take valid UTF-8.
    table.update(dict.fromkeys(range(_SURROGATES[0], _SURROGATES[1] + 1), _REPLACEMENT))
    return table


@cache
def _surrogate_table() -> dict[int, str]:
    return dict.fromkeys(range(_SURROGATES[0], _SURROGATES[1] + 1), _REPLACEMENT)


@cache
def _fold_table() -> dict[int, str]:
    return dict(confusables())


MAX_MIXED_COUNT = 1000


def _count_mixed_script(composed: str) -> int:
    _, _, _, mixed = _run_finders()
    count = 0
    # Over UTF-8 bytes: only the number of matches is needed, never a character offset.
    for _ in mixed.finditer(composed.encode("utf-8")):
        count += 1
        if count >= MAX_MIXED_COUNT:
            break
    return count


@cache
def _tag_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {cp: chr(cp - 0xE0000) for cp in range(0xE0020, 0xE007F)}
    table.update({0xE0000: None, 0xE0001: None, 0xE007F: "\n"})
    return table


_ROT13 = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


def rot13(text: str) -> str:
    """ROT13 of the ASCII letters; through UTF-8 bytes because a 256-byte table is an order of
    magnitude faster than ``str.translate`` on non-ASCII text (multi-byte sequences are >= 0x80
    and pass through unchanged)."""
    return text.encode("utf-8").translate(_ROT13).decode("utf-8")


@cache
def _run_finders() -> tuple[Any, Any, Any, Any]:
    """RE2 (linear time) expressions for candidate encoded runs and tag-character runs."""
    encoded = re2.compile(
        r"[A-Za-z0-9+/_\-]{" + str(min(MIN_BASE64_RUN, MIN_HEX_RUN)) + r",}={0,2}"
    )
    percent = re2.compile(r"[^\s%]*(?:%[0-9A-Fa-f]{2}[^\s%]*)+")
    tags = re2.compile("[\U000e0000-\U000e007f]+")
    lookalikes = "".join(chr(code) for code in sorted(confusables()) if chr(code).isalpha())
    klass = "[" + re2.escape(lookalikes) + "]"
    mixed = re2.compile(f"[A-Za-z]{klass}|{klass}[A-Za-z]")
    return encoded, percent, tags, mixed


# --- the normalisation --------------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, bool]:
    """Text from bytes of unknown quality: ``(text, was_invalid)``; never raises."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def normalise(original: str, *, invalid_utf8: bool = False) -> NormalisedText:
    """Normalise one message and decode its views."""
    if original.isascii():
        # Nothing to strip, fold or compose in ASCII: the common case costs nothing.
        result = NormalisedText(
            original=original, text=original, stripped=original, invalid_utf8=invalid_utf8
        )
        tag_view: View | None = None
    else:
        result, tag_view = _normalise_unicode(original, invalid_utf8)
    _add_views(result, tag_view)
    return result


def _normalise_unicode(original: str, invalid_utf8: bool) -> tuple[NormalisedText, View | None]:
    # Per-character work goes through numpy code-point tables (``str.translate`` with a dict costs
    # a dictionary lookup per character, ~100 ns, i.e. ~100 us for 1 KB of non-English prose).
    try:
        codes = _codes(original)
    except UnicodeEncodeError:  # lone surrogates: replace them so the text encodes
        original = original.translate(_surrogate_table())
        codes = _codes(original)
    stripped = original
    invisible: dict[str, int] = {}
    classes = _class_ids().take(codes, mode="clip")
    hidden = classes != 0
    if hidden.any():
        codes = codes[~hidden]
        stripped = _from_codes(codes)
        counts = np.bincount(classes, minlength=len(INVISIBLE_CLASSES) + 1)
        invisible = {
            name: int(counts[number])
            for number, name in enumerate(INVISIBLE_CLASSES, start=1)
            if counts[number]
        }
    composed = stripped
    nfkc_changed = not unicodedata.is_normalized("NFKC", stripped)
    if nfkc_changed:
        # NFKC can itself produce characters we strip (rare compatibility forms); strip again.
        composed = strip_invisible(unicodedata.normalize("NFKC", stripped))
        codes = _codes(composed)
    text, folded = _fold_codes(composed, codes)
    mixed = _count_mixed_script(composed) if folded else 0
    result = NormalisedText(
        original=original,
        text=text,
        stripped=stripped,
        invisible=invisible,
        folded=folded,
        mixed_script=mixed,
        nfkc_changed=nfkc_changed,
        invalid_utf8=invalid_utf8,
    )
    tag_view = _tag_view(original, stripped) if invisible.get("tag") else None
    views: list[View] = []
    if folded:
        # Folding turns genuine Cyrillic or Greek words into nonsense; multilingual patterns
        # read the unfolded text, which shares the normalised text's offsets.
        views.append(View("nfkc", "nfkc", composed, (0, len(text)), 0))
    result.views = tuple(views)
    return result, tag_view


# --- numpy code-point tables ---------------------------------------------------------------------

_CLASS_LIMIT = max(high for ranges in INVISIBLE_CLASSES.values() for _, high in ranges) + 1
"""Code points at or above this are never invisible; the table's last entry (0) stands for them."""


@cache
def _class_ids() -> npt.NDArray[np.uint8]:
    """Per code point below ``_CLASS_LIMIT``: 0 when visible, else 1 + its invisible class."""
    table = np.zeros(_CLASS_LIMIT + 1, dtype=np.uint8)
    for number, ranges in enumerate(INVISIBLE_CLASSES.values(), start=1):
        for low, high in ranges:
            table[low : high + 1] = number
    return table


@cache
def _fold_deltas() -> npt.NDArray[np.int64]:
    """Per code point up to the highest confusable: ``ord(look-alike) - code`` (0 when not a
    confusable); the last entry (0) stands for every higher code point."""
    table = confusables()
    deltas = np.zeros(max(table) + 2, dtype=np.int64)
    for code, replacement in table.items():
        deltas[code] = ord(replacement) - code
    return deltas


def _codes(text: str) -> npt.NDArray[np.uint32]:
    """The code points of ``text``; raises ``UnicodeEncodeError`` on lone surrogates."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _from_codes(codes: npt.NDArray[np.uint32]) -> str:
    return codes.astype("<u4", copy=False).tobytes().decode("utf-32-le")


def strip_invisible(text: str) -> str:
    """``text`` without invisible characters (lone surrogates become U+FFFD)."""
    if text.isascii():
        return text
    try:
        codes = _codes(text)
    except UnicodeEncodeError:
        return text.translate(_strip_table())
    hidden = _class_ids().take(codes, mode="clip") != 0
    return _from_codes(codes[~hidden]) if hidden.any() else text


def fold_confusables(text: str) -> str:
    """``text`` with every look-alike character replaced by its ASCII counterpart."""
    if text.isascii():
        return text
    try:
        codes = _codes(text)
    except UnicodeEncodeError:
        return text.translate(_fold_table())
    return _fold_codes(text, codes)[0]


def _fold_codes(text: str, codes: npt.NDArray[np.uint32]) -> tuple[str, int]:
    """``text`` (whose code points are ``codes``) folded, and how many characters changed."""
    # ``take`` with ``clip`` maps every code point above the table to its last entry (0) in the
    # same pass as the gather: one numpy call instead of ``minimum`` and an index.
    shift = _fold_deltas().take(codes, mode="clip")
    changed = int(np.count_nonzero(shift))
    if not changed:
        return text, 0
    return _from_codes((codes + shift).astype(np.uint32)), changed


def _tag_view(original: str, stripped: str) -> View | None:
    """Unicode tag characters spell ASCII invisibly; decode every run of them into one view."""
    _, _, tags, _ = _run_finders()
    runs = list(tags.finditer(original))
    if not runs:
        return None
    decoded = "\n".join(run.group(0).translate(_tag_table()) for run in runs).strip()
    if not decoded:
        return None
    # Where the first run sat, in stripped coordinates (everything before it minus invisibles).
    position = len(original[: runs[0].start()].translate(_strip_table()))
    position = min(position, len(stripped))
    return View("tags", "tags", _clean(decoded), (position, position), 1)


def _clean(decoded: str) -> str:
    """The normalisation of a decoded payload (no views, no alignment: just the text)."""
    if decoded.isascii():
        return decoded
    stripped = strip_invisible(decoded)
    if not unicodedata.is_normalized("NFKC", stripped):
        stripped = strip_invisible(unicodedata.normalize("NFKC", stripped))
    return fold_confusables(stripped)


# --- decoded views ------------------------------------------------------------------------------


@dataclass
class _Budget:
    chars: int
    views: int = MAX_DECODED_VIEWS
    truncated: bool = False

    def take(self, size: int) -> bool:
        if size > self.chars or self.views <= 0:
            self.truncated = True
            return False
        self.chars -= size
        self.views -= 1
        return True


def _add_views(result: NormalisedText, tag_view: View | None) -> None:
    text = result.text
    budget = _Budget(chars=min(VIEW_BUDGET_FACTOR * max(len(result.original), 1), VIEW_BUDGET_CAP))
    views = list(result.views)
    for existing in views:
        budget.take(len(existing.text))
    queue: list[View] = []
    if tag_view is not None and budget.take(len(tag_view.text)):
        views.append(tag_view)
        queue.append(tag_view)
    for child in _decode_runs(text, None, (0, len(text)), 1, budget):
        views.append(child)
        queue.append(child)
    if ("&" in text) and (";" in text):
        unescaped = html.unescape(text)
        if unescaped != text and budget.take(len(unescaped)):
            html_view = View("html", "html", _clean(unescaped), (0, len(text)), 1)
            views.append(html_view)
            queue.append(html_view)
    rotated = rot13(text)
    if rotated != text and budget.take(len(rotated)):
        views.append(View("rot13", "rot13", rotated, (0, len(text)), 1))
    while queue:
        parent = queue.pop(0)
        if parent.depth >= MAX_DEPTH:
            continue
        for child in _decode_runs(parent.text, parent, parent.origin, parent.depth + 1, budget):
            views.append(child)
            queue.append(child)
    result.views = tuple(views)
    result.views_truncated = budget.truncated


def _decode_runs(
    text: str, parent: View | None, origin: tuple[int, int], depth: int, budget: _Budget
) -> Iterator[View]:
    """Views for every decodable base64, hex or percent-encoded run of ``text``."""
    encoded, percent, _, _ = _run_finders()
    runs: list[tuple[int, int, str, str]] = []
    # RE2 over the UTF-8 bytes: the wrapper's str path re-encodes and converts offsets per match.
    data = text.encode("utf-8")
    to_char = ByteToChar(data, len(data) == len(text))
    for match in encoded.finditer(data):
        run = match.group(0).decode("ascii")
        kind, decoded = _decode_token(run)
        if decoded is not None:
            runs.append((to_char(match.start()), to_char(match.end()), kind, decoded))
    if "%" in text:
        to_char = ByteToChar(data, len(data) == len(text))
        for match in percent.finditer(data):
            decoded_url = _decode_percent(match.group(0).decode("utf-8"))
            if decoded_url is not None:
                runs.append((to_char(match.start()), to_char(match.end()), "url", decoded_url))
    for start, end, kind, decoded in runs:
        if not budget.take(len(decoded)):
            return
        name = f"{kind}@{start}" if parent is None else f"{parent.name}>{kind}@{start}"
        where = (start, end) if parent is None else origin
        yield View(name, kind, _clean(decoded), where, depth)


def _decode_token(run: str) -> tuple[str, str | None]:
    """Hex when the run is only hex digits, otherwise base64 (standard or URL-safe)."""
    body = run.rstrip("=")
    if len(body) >= MIN_HEX_RUN and not body.lstrip(_HEX_DIGITS) and len(body) % 2 == 0:
        return "hex", _as_text(bytes.fromhex(body))
    if len(body) < MIN_BASE64_RUN:
        return "base64", None
    return "base64", _decode_base64(body)


def _decode_base64(body: str) -> str | None:
    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None
    if len(body) % 4 == 1:  # a stray character glued to the run; the rest may still decode
        body = body[:-1]
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _as_text(raw)


def _decode_percent(run: str) -> str | None:
    decoded = unquote(run, errors="replace")
    if decoded == run or len(decoded) < MIN_DECODED_CHARS:
        return None
    return decoded


def _as_text(raw: bytes) -> str | None:
    """Decoded bytes count as a payload only when they are printable UTF-8 text."""
    if len(raw) < MIN_DECODED_CHARS:
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded.translate(_WHITESPACE_DELETE).isprintable():
        return None
    return decoded


class ByteToChar:
    """Byte offsets of one UTF-8 text to character offsets, for ascending queries: each byte is
    decoded at most once per forward pass (a smaller offset starts a new pass)."""

    __slots__ = ("_ascii", "_byte", "_char", "_data")

    def __init__(self, data: bytes, ascii: bool) -> None:
        self._data = data
        self._ascii = ascii
        self._byte = 0
        self._char = 0

    def __call__(self, offset: int) -> int:
        if self._ascii:
            return offset
        if offset < self._byte:
            self._byte = self._char = 0
        self._char += len(self._data[self._byte : offset].decode("utf-8", "replace"))
        self._byte = offset
        return self._char


# --- alignment for redaction --------------------------------------------------------------------


def _align(stripped: str, text: str, nfkc_changed: bool) -> list[int] | None:
    if not nfkc_changed:
        return []  # folding is one-for-one: offsets are shared
    alignment: list[int] = []
    pieces: list[str] = []
    fold = _fold_table()
    strip = _strip_table()
    for index, char in enumerate(stripped):
        piece = unicodedata.normalize("NFKC", char).translate(strip).translate(fold)
        pieces.append(piece)
        alignment.extend([index] * len(piece))
    if "".join(pieces) != text:
        return None
    return alignment
