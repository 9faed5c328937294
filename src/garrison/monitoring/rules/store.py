"""Keeping firings: ``save_firings`` for the pipeline, ``get_firing`` for ``rules explain``.

Saving is idempotent per firing ID: a firing extended by later matches within its suppression is
saved again under the same ID and the stored row takes the larger window and count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.errors import NotFoundError
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.rules.firing import RuleFiring
from garrison.store.models.rules import RuleFiringRow


def _tags(firing: RuleFiring) -> dict[str, Any]:
    return {"atlas": list(firing.atlas), "owasp": list(firing.owasp), "labels": firing.labels}


def save_firings(session: Session, firings: Iterable[RuleFiring]) -> int:
    """Insert or update ``firings``; returns how many were written."""
    batch = list(firings)
    ids = sorted({f.firing_id for f in batch})
    # The rows already stored, in one query per 500 IDs instead of one per firing.
    known: dict[str, RuleFiringRow] = {}
    for first in range(0, len(ids), 500):
        chosen = select(RuleFiringRow).where(RuleFiringRow.firing_id.in_(ids[first : first + 500]))
        known.update((row.firing_id, row) for row in session.scalars(chosen))
    written = 0
    for firing in batch:
        row = known.get(firing.firing_id)
        if row is None:
            row = RuleFiringRow(firing_id=firing.firing_id)
            session.add(row)
            known[firing.firing_id] = row
        row.rule_id = firing.rule_id
        row.title = firing.title[:200]
        row.severity = firing.severity.value
        row.org = firing.org
        row.group = dict(firing.group)
        row.window_start = firing.window_start
        row.window_end = firing.window_end
        row.fired_at = firing.fired_at
        row.event_ids = list(firing.event_ids)
        row.event_count = max(firing.event_count, row.event_count or 0)
        row.asset_id = firing.asset_id
        row.user_id = firing.user_id
        row.session_id = firing.session_id
        row.tags = _tags(firing)
        row.summary = firing.summary
        written += 1
    session.flush()
    return written


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
