"""Reading Sigma field names off a ``SecurityEvent`` without building its flat form.

The flat dotted keys of ``SecurityEvent.to_flat`` are the rules' field names (the contract); this
module maps each key once to a small getter so the engine never serializes an event per rule.
Values come back as plain Python scalars (enums as their string value, ``Decimal`` as ``float``)
or lists of scalars, exactly what the flat form would hold.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import Any

from garrison.monitoring.events import DERIVED_KEYS, SecurityEvent

Getter = Callable[[SecurityEvent], Any]

_ALIAS_TO_ATTR: dict[str, str] = {
    str(info.alias): name
    for name, info in SecurityEvent.model_fields.items()
    if info.alias and name not in ("findings", "attributes")
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def _derived(key: str) -> Getter:
    if key == "garrison.finding.count":
        return lambda e: len(e.findings) if e.findings else None
    if key == "garrison.finding.categories":
        return lambda e: _unique(f.category for f in e.findings) if e.findings else None
    if key == "garrison.finding.detectors":
        return lambda e: _unique(f.detector_id for f in e.findings) if e.findings else None
    if key == "garrison.finding.max_score":
        return lambda e: max(f.score for f in e.findings) if e.findings else None
    if key == "garrison.owasp.ids":
        return lambda e: _unique(i for f in e.findings for i in f.owasp) or None
    # garrison.atlas.ids, the last derived key
    return lambda e: _unique(i for f in e.findings for i in f.atlas) or None


def _attribute(name: str) -> Getter:
    annotation = repr(SecurityEvent.model_fields[name].annotation)
    if "Decimal" not in annotation and "datetime" not in annotation.lower():
        # Strings, numbers and StrEnums (which are strings) are read as they are: the hot path.
        return attrgetter(name)

    def get(event: SecurityEvent) -> Any:
        value = getattr(event, name)
        if isinstance(value, Enum | Decimal):
            return _plain(value)
        if isinstance(value, list):
            return [_plain(v) for v in value]
        return value

    return get


def _extra(key: str) -> Getter:
    return lambda e: e.attributes.get(key)


@cache
def getter(key: str) -> Getter:
    """The getter for flat key ``key``; keys Garrison does not define read ``attributes``."""
    if key in DERIVED_KEYS:
        return _derived(key)
    name = _ALIAS_TO_ATTR.get(key)
    if name is not None:
        return _attribute(name)
    return _extra(key)


def value_of(event: SecurityEvent, key: str) -> Any:
    return getter(key)(event)


def group_key(event: SecurityEvent, getters: tuple[Getter, ...]) -> tuple[str, ...] | None:
    """The group-by values of ``event`` as strings, or None when one of them is missing.

    An event without, say, a ``user.id`` cannot belong to a per-user group; it is left out of the
    correlation rather than lumped with every other anonymous event.
    """
    out: list[str] = []
    for get in getters:
        value = get(event)
        if value is None or isinstance(value, list):
            return None
        out.append(str(value))
    return tuple(out)
