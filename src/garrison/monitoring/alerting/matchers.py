"""Label matchers, written the way Alertmanager writes them: ``name="value"``, ``name!=value``,
``name=~"regex"``, ``name!~"regex"``.

Parsing uses plain string operations; regular expressions are compiled with RE2 (linear time,
no backtracking) and anchored at both ends, as Alertmanager anchors them, because label values
come from untrusted events (user IDs, rule labels).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2

MAX_MATCHER_LENGTH = 1000


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


# Longest operators first, so that "!=" is not read as "!" followed by "=".
_OPS = (MatchOp.REGEX, MatchOp.NOT_REGEX, MatchOp.NOT_EQUAL, MatchOp.EQUAL)


class MatcherError(ValueError):
    """A matcher that cannot be parsed or whose regular expression RE2 refuses."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _compiled: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                compiled = re2.compile(f"^(?:{self.value})$")
            except re2.error as exc:
                raise MatcherError(
                    f"matcher {self}: invalid regular expression ({exc}); RE2 syntax is expected"
                ) from None
            object.__setattr__(self, "_compiled", compiled)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Alertmanager semantics: a missing label is the empty string."""
        value = labels.get(self.name, "")
        if self.op is MatchOp.EQUAL:
            return value == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return value != self.value
        found = self._compiled.fullmatch(value) is not None
        return found if self.op is MatchOp.REGEX else not found

    def __str__(self) -> str:
        quoted = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{quoted}"'

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op.value, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matcher:
        return cls(str(data["name"]), MatchOp(str(data["op"])), str(data["value"]))


def _valid_name(name: str) -> bool:
    # Alertmanager's label-name charset, plus "." so that event field names (user.id) read as-is.
    if not name or not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        return False
    return all(c.isascii() and (c.isalnum() or c in "_.") for c in name)


def parse_matcher(text: str) -> Matcher:
    """``severity="critical"`` -> Matcher. Values may be bare or double-quoted."""
    if len(text) > MAX_MATCHER_LENGTH:
        raise MatcherError(f"matcher is {len(text)} characters; the limit is {MAX_MATCHER_LENGTH}")
    stripped = text.strip()
    for op in _OPS:
        index = stripped.find(op.value)
        if index <= 0:
            continue
        # "a!=b" also contains "=" at a later index; take the operator that starts first.
        earlier = [o for o in _OPS if 0 < stripped.find(o.value) < index]
        if earlier:
            continue
        name = stripped[:index].strip()
        raw = stripped[index + len(op.value) :].strip()
        if not _valid_name(name):
            raise MatcherError(
                f"matcher {text!r}: label name {name!r} must start with a letter or _ and "
                "contain only letters, digits, _ and ."
            )
        return Matcher(name, op, _unquote(raw, text))
    raise MatcherError(
        f"matcher {text!r} has no operator; write name=value, name!=value, name=~regex "
        'or name!~regex (e.g. severity="critical")'
    )


def _unquote(raw: str, text: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        body = raw[1:-1]
        out: list[str] = []
        escaped = False
        for char in body:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                raise MatcherError(f"matcher {text!r}: unescaped quote inside the value")
            else:
                out.append(char)
        return "".join(out)
    if raw.startswith('"') or raw.endswith('"'):
        raise MatcherError(f"matcher {text!r}: unbalanced quotes around the value")
    return raw


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
