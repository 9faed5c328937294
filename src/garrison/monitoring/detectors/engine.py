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
from garrison.monitoring.detectors.normalise import NormalisedText
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

    def fired(self, text: str) -> list[int]:
        """Indexes of the patterns that occur anywhere in ``text``, ascending."""
        if not text:
            return []
        if self._hs_db is not None:
            found: list[int] = []

            def on_match(index: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
                found.append(index)

            self._hs_db.scan(text.encode("utf-8"), match_event_handler=on_match)
            return sorted(found)
        indexes = self._set.Match(text)
        return sorted(indexes) if indexes else []

    def spans(self, index: int, text: str, *, every: bool) -> tuple[tuple[int, int], ...]:
        expression = self._spanners[index]
        if not every:
            match = expression.search(text)
            return () if match is None else ((match.start(), match.end()),)
        found: list[tuple[int, int]] = []
        for match in expression.finditer(text):
            found.append((match.start(), match.end()))
            if len(found) >= MAX_SPANS_PER_PATTERN:
                break
        return tuple(found)

    def match_text(self, text: str, view: str = "text", kind: str = "text") -> list[PatternMatch]:
        result: list[PatternMatch] = []
        for index in self.fired(text):
            pattern = self.patterns[index]
            if not pattern.reads(kind):
                continue
            spans = self.spans(index, text, every=pattern.all_spans)
            if spans:
                result.append(PatternMatch(pattern, view, kind, spans, text))
        return result

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


@cache
def _engine(name: EngineName) -> PatternEngine:
    return PatternEngine(all_patterns(), name)


def get_engine(name: EngineName | None = None) -> PatternEngine:
    """The process-wide engine over every packaged pattern (compiled on first use)."""
    return _engine(name or default_engine_name())
