"""Compile a Sigma rule's detection into one predicate over a ``SecurityEvent``.

pySigma parses the rule and resolves its condition into a tree of AND / OR / NOT over
``field = value`` leaves (modifiers already applied to the values). This module turns that tree,
once per rule, into nested closures, so evaluating a rule is a few function calls per event.

Supported values: plain and wildcard strings (case-insensitive as Sigma defines them, or exact
with ``|cased``), numbers and booleans, ``null``, ``|exists``, ``|re`` (google-re2: linear time on
hostile text; flags ``i``, ``m``, ``s``), and ``|gt`` / ``|gte`` / ``|lt`` / ``|lte``. Anything else
(keyword search without a field, ``|cidr``, field references, placeholders...) is refused at load
with the field and the reason, never silently matched as false.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.rules.fields import Getter, getter

Predicate = Callable[[SecurityEvent], bool]
ValueTest = Callable[[Any], bool]

# Fields the engine indexes rules by, so an event only meets the rules that can match it.
INDEX_FIELDS = ("garrison.category", "garrison.event.type")


class UnsupportedSigma(ValueError):
    """A detection uses something the streaming evaluator does not implement."""


def _any_of(test: ValueTest) -> ValueTest:
    """Sigma matches a list-valued field when any element matches."""

    def check(value: Any) -> bool:
        if value is None:
            return False
        if type(value) is list:
            return any(test(v) for v in value)
        return test(value)

    return check


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _utf8(value: Any) -> bytes | None:
    # re2 matches UTF-8 bytes natively (a wildcard still takes a whole character); handing it
    # bytes skips the wrapper's mapping of byte offsets back to characters, up to half of a
    # match's cost. surrogatepass: a free-form attribute value must not make a rule raise.
    text = _text(value)
    return None if text is None else text.encode("utf-8", "surrogatepass")


def _wildcard_pattern(parts: tuple[Any, ...]) -> str:
    out: list[str] = []
    for part in parts:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        else:
            out.append(re2.escape(str(part)))
    return "".join(out)


def _string_test(value: SigmaString) -> ValueTest:
    cased = isinstance(value, SigmaCasedString)
    parts = tuple(value.s)
    literal_parts = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    fold: Callable[[str], str] = (lambda s: s) if cased else str.casefold
    middle = fold("".join(literal_parts))
    star = SpecialChars.WILDCARD_MULTI
    # The four shapes rules use nearly always are plain string operations; the rest go to re2.
    if not specials:
        return _any_of(lambda v: (t := _text(v)) is not None and fold(t) == middle)
    if len(parts) == 3 and parts[0] is star and parts[2] is star and isinstance(parts[1], str):
        return _any_of(lambda v: (t := _text(v)) is not None and middle in fold(t))
    if len(parts) == 2 and parts[1] is star and isinstance(parts[0], str):
        return _any_of(lambda v: (t := _text(v)) is not None and fold(t).startswith(middle))
    if len(parts) == 2 and parts[0] is star and isinstance(parts[1], str):
        return _any_of(lambda v: (t := _text(v)) is not None and fold(t).endswith(middle))
    options = re2.Options()
    options.case_sensitive = cased
    options.dot_nl = True
    compiled = re2.compile(_wildcard_pattern(parts).encode(), options)
    return _any_of(lambda v: (b := _utf8(v)) is not None and compiled.fullmatch(b) is not None)


def _regex_test(value: SigmaRegularExpression) -> ValueTest:
    options = re2.Options()
    options.case_sensitive = SigmaRegularExpressionFlag.IGNORECASE not in value.flags
    options.dot_nl = SigmaRegularExpressionFlag.DOTALL in value.flags
    options.never_nl = False
    options.log_errors = False
    pattern = str(value.regexp.to_plain())
    if SigmaRegularExpressionFlag.MULTILINE in value.flags:
        pattern = "(?m)" + pattern
    try:
        compiled = re2.compile(pattern.encode(), options)
    except re2.error as exc:
        raise UnsupportedSigma(f"regular expression {pattern!r} is not valid RE2 ({exc})") from None
    return _any_of(lambda v: (b := _utf8(v)) is not None and compiled.search(b) is not None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare_test(value: SigmaCompareExpression) -> ValueTest:
    bound = float(value.number.number)
    op = value.op
    if op is CompareOperators.GT:
        return _any_of(lambda v: (n := _number(v)) is not None and n > bound)
    if op is CompareOperators.GTE:
        return _any_of(lambda v: (n := _number(v)) is not None and n >= bound)
    if op is CompareOperators.LT:
        return _any_of(lambda v: (n := _number(v)) is not None and n < bound)
    return _any_of(lambda v: (n := _number(v)) is not None and n <= bound)


def _value_test(value: Any) -> ValueTest:  # noqa: PLR0911 - one branch per Sigma type
    if isinstance(value, SigmaNull):
        return lambda v: v is None or v == []
    if isinstance(value, SigmaExists):
        wanted = bool(value.exists)
        return lambda v: (v is not None and v != []) is wanted
    if isinstance(value, SigmaBool):
        flag = bool(value.boolean)
        return _any_of(lambda v: isinstance(v, bool) and v is flag)
    if isinstance(value, SigmaNumber):
        target = float(value.number)
        return _any_of(lambda v: (n := _number(v)) is not None and n == target)
    if isinstance(value, SigmaCompareExpression):
        return _compare_test(value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_test(value)
    if isinstance(value, SigmaString):
        return _string_test(value)
    raise UnsupportedSigma(
        f"value type {type(value).__name__} is not supported by the streaming evaluator "
        "(use plain or wildcard strings, numbers, null, |exists, |re, |gt/|gte/|lt/|lte)"
    )


def _leaf(field: str | None, value: Any) -> Predicate:
    if not field:
        raise UnsupportedSigma(
            "keyword search (a value without a field) is not supported; name the field, "
            "e.g. garrison.content.text|contains: ..."
        )
    get: Getter = getter(field)
    test = _value_test(value)
    return lambda event: test(get(event))


# Rules are evaluated per event; unrolling the common two-operand case avoids a generator per call.
def _all(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda event: first(event) and second(event)

    def check(event: SecurityEvent) -> bool:
        return all(part(event) for part in parts)

    return check


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda event: first(event) or second(event)

    def check(event: SecurityEvent) -> bool:
        return any(part(event) for part in parts)

    return check


def compile_condition(node: Any) -> Predicate:
    """The predicate of one parsed condition tree (``parsed_condition[i].parse()``)."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _leaf(node.field, node.value)
    if isinstance(node, ConditionAND):
        return _all(tuple(compile_condition(arg) for arg in node.args))
    if isinstance(node, ConditionOR):
        return _any(tuple(compile_condition(arg) for arg in node.args))
    if isinstance(node, ConditionNOT):
        (inner,) = (compile_condition(arg) for arg in node.args)
        return lambda event: not inner(event)
    if isinstance(node, ConditionValueExpression):
        _leaf(None, node.value)  # raises: a keyword search has no field
    raise UnsupportedSigma(
        f"condition element {type(node).__name__} is not supported by the streaming evaluator"
    )


def required_values(node: Any, field: str) -> frozenset[str] | None:  # noqa: PLR0911
    """Values ``field`` must take for the condition to hold, or None when it may take any.

    Used only to index rules: ``None`` puts the rule on the path of every event, which is always
    correct, merely slower.
    """
    if isinstance(node, ConditionFieldEqualsValueExpression):
        value = node.value
        if node.field == field and isinstance(value, SigmaString) and not value.contains_special():
            return frozenset({str(value.to_plain()).casefold()})
        return None
    if isinstance(node, ConditionAND):
        found = [required_values(arg, field) for arg in node.args]
        known = [f for f in found if f is not None]
        if not known:
            return None
        result = known[0]
        for other in known[1:]:
            result = result & other
        return result
    if isinstance(node, ConditionOR):
        found = [required_values(arg, field) for arg in node.args]
        if any(f is None for f in found):
            return None
        return frozenset().union(*(f for f in found if f is not None))
    return None


def required_fields(node: Any) -> frozenset[str]:
    """Fields that must be present (not null) for the condition to hold.

    Lets the engine skip, say, every finding rule for the many events that carry no findings.
    """
    if isinstance(node, ConditionFieldEqualsValueExpression):
        value = node.value
        if isinstance(value, SigmaNull) or (isinstance(value, SigmaExists) and not value.exists):
            return frozenset()
        return frozenset({node.field}) if node.field else frozenset()
    if isinstance(node, ConditionAND):
        return frozenset().union(*(required_fields(arg) for arg in node.args))
    if isinstance(node, ConditionOR):
        parts = [required_fields(arg) for arg in node.args]
        result = parts[0]
        for other in parts[1:]:
            result = result & other
        return result
    return frozenset()
