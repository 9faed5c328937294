"""Keeping firings: ``save_firings`` for the pipeline, ``get_firing`` for ``rules explain``.

Saving is idempotent per firing ID: a firing extended by later matches within its suppression is
saved again under the same ID and the stored row takes the larger window and count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from garrison.core.errors import NotFoundError
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.rules.firing import RuleFiring
from garrison.store.models.rules import RuleFiringRow


def _tags(firing: RuleFiring) -> dict[str, Any]:
    return {"atlas": list(firing.atlas), "owasp": list(firing.owasp), "labels": firing.labels}


def _values(firing: RuleFiring) -> dict[str, Any]:
    return {
        "firing_id": firing.firing_id,
        "rule_id": firing.rule_id,
        "title": firing.title[:200],
        "severity": firing.severity.value,
        "org": firing.org,
        "group": dict(firing.group),
        "window_start": firing.window_start,
        "window_end": firing.window_end,
        "fired_at": firing.fired_at,
        "event_ids": list(firing.event_ids),
        "event_count": firing.event_count,
        "asset_id": firing.asset_id,
        "user_id": firing.user_id,
        "session_id": firing.session_id,
        "tags": _tags(firing),
        "summary": firing.summary,
    }


def save_firings(session: Session, firings: Iterable[RuleFiring]) -> int:
    """Insert or update ``firings``; returns how many were written.

    The live path saves every firing of a write at once: one multi-row INSERT and one
    executemany UPDATE, not an ORM object per firing.
    """
    latest: dict[str, RuleFiring] = {}
    for firing in firings:
        latest[firing.firing_id] = firing  # a firing sent twice in a batch: its last version
    if not latest:
        return 0
    ids = sorted(latest)
    # The stored counts, in one query per 500 IDs: an update keeps the larger count.
    stored: dict[str, int] = {}
    for first in range(0, len(ids), 500):
        chosen = select(RuleFiringRow.firing_id, RuleFiringRow.event_count).where(
            RuleFiringRow.firing_id.in_(ids[first : first + 500])
        )
        stored.update((fid, count) for fid, count in session.execute(chosen))
    new = [_values(latest[i]) for i in ids if i not in stored]
    known = []
    for firing_id, count in stored.items():
        values = _values(latest[firing_id])
        values["event_count"] = max(values["event_count"], count)
        known.append(values)
    if new:
        session.execute(insert(RuleFiringRow), new)
    if known:
        session.execute(update(RuleFiringRow), known)
    return len(latest)


def _firing(row: RuleFiringRow) -> RuleFiring:
    tags = row.tags or {}
    return RuleFiring(
        firing_id=row.firing_id,
        rule_id=row.rule_id,
        title=row.title,
        severity=Severity(row.severity),
        org=row.org,
        window_start=row.window_start,
        window_end=row.window_end,
        fired_at=row.fired_at,
        group={str(k): str(v) for k, v in (row.group or {}).items()},
        event_ids=tuple(row.event_ids or ()),
        event_count=row.event_count,
        asset_id=row.asset_id,
        user_id=row.user_id,
        session_id=row.session_id,
        atlas=tuple(tags.get("atlas", ())),
        owasp=tuple(tags.get("owasp", ())),
        labels={str(k): str(v) for k, v in (tags.get("labels") or {}).items()},
        summary=row.summary,
    )


def get_firing(session: Session, firing_id: str) -> RuleFiring:
    """The stored firing ``firing_id``; raises NotFoundError with a hint when there is none."""
    row = session.get(RuleFiringRow, firing_id.strip())
    if row is None:
        raise NotFoundError(
            f"no rule firing {firing_id!r}",
            hint="firings are stored by the pipeline or by `garrison monitor replay --store`",
        )
    return _firing(row)
