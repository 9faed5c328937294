"""The asset registry: register (upsert), discovery runs, lookup, search and edit, over a session.

Public functions for the other parts of the inventory and for other pillars (all take an open
``Session`` from ``Store.session()``; the caller's unit of work commits):

``register(session, spec, *, source, evidence=(), run=None, actor=None) -> RegisterOutcome``
    Upsert one asset on its natural key (``identity.natural_key``): created, updated (with the
    attribute changes, also written to the asset's history) or unchanged (only ``last_seen``
    moves). Never a duplicate. ``source`` names who is speaking (``aws``, ``code``, ``declared``,
    ``manual``); ``evidence`` says where and how surely (``merge`` has the precedence rule).
``register_many(session, items, *, source, run=None, actor=None) -> list[RegisterOutcome]``
    The same for many ``(spec, evidence)`` pairs, with bulk lookups: use it for anything over a
    handful of assets.
``start_run(session, source, *, scope="", org=DEFAULT_ORG) -> DiscoveryRun`` and
``finish_run(session, run, seen_keys=(), *, complete=True, errors=()) -> DiscoveryRun``
    Bracket a discovery run. Assets registered with ``run=`` are seen by it; ``seen_keys`` (asset
    IDs or natural keys) adds ones seen without being re-registered. A complete run marks the
    assets its source saw before within the same scope, and not now, as stale; they are never
    deleted, and a later sighting by that source clears the mark.
``apply_discovery(session, result) -> DiscoveryRun``
    A whole ``discovery.base.DiscoveryResult`` at once: what discovery plugins return.
``get_asset(session, asset_id) -> AIAsset``, ``get_asset_detail(session, asset_id) -> AssetDetail``,
``resolve_asset(session, ref, *, org=None) -> AIAsset``
    By ID; detail adds edges, evidence, history and sightings; resolve accepts an ID, a unique
    ID prefix, a source ID or an exact name.
``search(session, filters=None, *, risk=None) -> list[AIAsset]``
    ``query.AssetFilter``; ``risk`` is the risk-level hook (see ``query``).
``edit_asset(session, asset_id, changes, actor) -> RegisterOutcome``
    A person's change of attributes (validated as a whole), recorded with the actor.
``list_dependencies(session, *, org=None) -> list[Dependency]``, ``load_graph(session, *, org=None)
-> graph.AssetGraph``, ``list_runs(session, *, org=None, source=None) -> list[DiscoveryRun]``
"""

from __future__ import annotations

import gc
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

import orjson
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import (
    JSON,
    ColumnElement,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    or_,
    select,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError, NotFoundError, StoreError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.inventory.discovery.base import CallFailure, DiscoveryResult
from garrison.inventory.graph import AssetGraph, build_graph
from garrison.inventory.identity import natural_key
from garrison.inventory.merge import (
    Claim,
    MergePlan,
    attribute_confidence,
    iso,
    plan_create,
    plan_update,
    set_attributes,
)
from garrison.inventory.models import (
    ATTRIBUTE_NAMES,
    DEFAULT_ORG,
    IDENTITY_ATTRIBUTES,
    AIAsset,
    AssetDetail,
    AssetSpec,
    AttributeChange,
    Confidence,
    Dependency,
    DependencyRef,
    Evidence,
    EvidenceRecord,
    HistoryEntry,
    Relation,
    Sighting,
)
from garrison.inventory.query import AssetFilter, RiskHook, matches_text, require_hook, risk_level
from garrison.store.models.inventory import (
    AssetDependencyRow,
    AssetEvidenceRow,
    AssetHistoryRow,
    AssetRow,
    AssetSightingRow,
    DiscoveryRunRow,
)

ASSETS = cast(Table, AssetRow.__table__)
EVIDENCE = cast(Table, AssetEvidenceRow.__table__)
HISTORY = cast(Table, AssetHistoryRow.__table__)
DEPENDENCIES = cast(Table, AssetDependencyRow.__table__)
SIGHTINGS = cast(Table, AssetSightingRow.__table__)
"""Bulk writes go through Core: the ORM's per-object bookkeeping costs more than the SQL here."""

_ANALYZED = (ASSETS, EVIDENCE, SIGHTINGS, DEPENDENCIES)
ANALYZE_AFTER = 1000
"""New assets in one registration from which PostgreSQL's planner statistics are refreshed."""

CHUNK = 500
"""Rows per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits."""
MANUAL_SOURCE = "manual"
MIN_ID_PREFIX = 6

T = TypeVar("T")
Action = Literal["created", "updated", "unchanged"]


class InventoryError(GarrisonError):
    """An inventory request that cannot be carried out as asked."""


@dataclass(frozen=True)
class RegisterOutcome:
    asset_id: str
    action: Action
    natural_key: str
    changes: tuple[AttributeChange, ...] = ()


class DiscoveryRun(BaseModel):
    id: str
    org: str
    source: str
    scope: str
    status: Literal["running", "finished"]
    complete: bool
    started_at: datetime
    finished_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)


def _chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _update_by_id(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany UPDATE … WHERE id = ? for rows that all set the same columns."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    statement = (
        table.update()
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in columns})
    )
    session.execute(statement, [{"_id": row["id"], **{n: row[n] for n in columns}} for row in rows])


def _insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows: COPY on PostgreSQL, multi-row INSERT statements on SQLite.

    One INSERT per row (what an executemany sends without RETURNING) made up most of a
    10,000-asset registration; multi-row INSERTs with thousands of placeholders are slow to
    prepare in psycopg; COPY is PostgreSQL's bulk path and runs inside the same transaction.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table, rows)
        return
    # Asking for a key back makes SQLAlchemy send pages of rows per statement ("insertmanyvalues").
    key = next(iter(table.primary_key.columns))
    session.execute(table.insert().returning(key), list(rows)).all()


def _copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    from psycopg import sql
    from psycopg.types.json import Jsonb

    names = list(rows[0])
    json_columns = {n for n in names if isinstance(table.c[n].type, JSON)}
    for row in rows:
        for name in names:
            value = row[name]
            # What UTCDateTime enforces for ORM writes, COPY must check itself.
            if isinstance(value, datetime) and value.utcoffset() is None:
                raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    driver = session.connection().connection.driver_connection
    if driver is None:  # pragma: no cover - a live session always has a DBAPI connection
        raise StoreError("the database connection is closed")
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row[n]) if n in json_columns and row[n] is not None else row[n]
                    for n in names
                ]
            )


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --- rows <-> domain ------------------------------------------------------------------------------


def _columns(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The indexed copies of attributes kept on the asset row."""
    scopes = attributes.get("regulatory_scope") or []
    return {
        "name": attributes["name"],
        "source_id": attributes.get("source_id"),
        "asset_type": attributes["asset_type"],
        "environment": attributes["environment"],
        "data_classification": attributes.get("data_classification"),
        "exposure": attributes["exposure"],
        "model_provider": attributes.get("model_provider"),
        "model_name": attributes.get("model_name"),
        "cloud_provider": attributes.get("cloud_provider"),
        "owner_team": attributes.get("owner_team") or "",
        "regulatory_scope": "," + ",".join(scopes) + "," if scopes else "",
        "compliance_status": attributes["compliance_status"],
        "risk_score": attributes.get("risk_score"),
    }


def _provenance_json(provenance: Mapping[str, Claim]) -> dict[str, Any]:
    """Stored as ``{attribute: [source, confidence, at]}``: compact, and no conversion."""
    return {name: list(claim) for name, claim in sorted(provenance.items())}


def _provenance(data: Mapping[str, Any]) -> dict[str, Claim]:
    return {name: Claim(*value) for name, value in data.items()}


def _asset(row: AssetRow, stale_sources: Sequence[str] = ()) -> AIAsset:
    return AIAsset.model_validate(
        {
            **row.attributes,
            "id": row.id,
            "natural_key": row.natural_key,
            "registered_at": row.registered_at,
            "last_updated": row.last_updated,
            "last_seen": row.last_seen,
            "stale": row.stale,
            "stale_since": row.stale_since,
            "stale_sources": tuple(sorted(stale_sources)),
            "provenance": {
                name: {"source": value[0], "confidence": value[1], "at": value[2]}
                for name, value in row.provenance.items()
            },
        }
    )


def _run(row: DiscoveryRunRow) -> DiscoveryRun:
    return DiscoveryRun(
        id=row.id,
        org=row.org,
        source=row.source,
        scope=row.scope,
        status="finished" if row.finished_at is not None else "running",
        complete=row.complete,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=dict(row.counts),
        errors=list(row.errors),
    )


def _changes_json(changes: Iterable[AttributeChange]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in changes]


# --- register -------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """One asset being registered in this batch, before it is written."""

    id: str
    org: str
    key: str
    digest: str
    attributes: dict[str, Any]
    provenance: dict[str, Claim]
    is_new: bool
    registered_at: datetime
    last_updated: datetime
    stale: bool = False
    stale_since: datetime | None = None
    dirty: bool = False
    """Attributes or provenance changed: the row needs a full update."""
    history: list[tuple[str, list[AttributeChange]]] = field(default_factory=list)
    evidence: list[tuple[Evidence, tuple[str, ...]]] = field(default_factory=list)
    """Each piece of evidence with the attributes it covers."""
    edges: tuple[DependencyRef, ...] | None = None


def register(
    session: Session,
    spec: AssetSpec,
    *,
    source: str,
    evidence: Sequence[Evidence] = (),
    run: DiscoveryRun | None = None,
    actor: str | None = None,
) -> RegisterOutcome:
    """Upsert one asset; see the module docstring."""
    return register_many(session, [(spec, evidence)], source=source, run=run, actor=actor)[0]


def register_many(
    session: Session,
    items: Sequence[tuple[AssetSpec, Sequence[Evidence]]],
    *,
    source: str,
    run: DiscoveryRun | None = None,
    actor: str | None = None,
    replace_edges: bool = True,
) -> list[RegisterOutcome]:
    """Upsert many assets with one lookup per chunk of natural keys, not one query per asset.

    A spec that sets ``depends_on`` declares the asset's edges from ``source``: they replace that
    source's earlier ones, or with ``replace_edges=False`` (an incomplete view) are only added.
    """
    with _collector_paused():
        return _register_many(
            session, items, source=source, run=run, actor=actor, replace_edges=replace_edges
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk registration.

    A run builds tens of thousands of small acyclic objects (rows, dicts, tuples); every few
    hundred allocations the collector would rescan all of them, which doubled the time of a
    10,000-asset run. Reference counting still frees everything; the collector resumes after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _register_many(
    session: Session,
    items: Sequence[tuple[AssetSpec, Sequence[Evidence]]],
    *,
    source: str,
    run: DiscoveryRun | None,
    actor: str | None,
    replace_edges: bool,
) -> list[RegisterOutcome]:
    if not source or len(source) > 100:
        raise InventoryError("a registration needs a source name of 1-100 characters")
    if run is not None and run.source != source:
        raise InventoryError(f"run {run.id} belongs to source {run.source!r}, not {source!r}")
    now = utcnow()
    keyed = [(spec, list(ev), natural_key(spec)) for spec, ev in items]
    existing = _load_by_keys(session, {(spec.org, key_digest(key)) for spec, _, key in keyed})

    pending: dict[tuple[str, str], _Pending] = {}
    outcomes: list[RegisterOutcome] = []
    for spec, spec_evidence, key in keyed:
        digest = key_digest(key)
        slot = (spec.org, digest)
        state = pending.get(slot)
        if state is None:
            row = existing.get(slot)
            state = _pending_from(row) if row is not None else None
        confidence = attribute_confidence(spec, spec_evidence)
        if state is None:
            plan = plan_create(spec, source, confidence, now)
            state = _Pending(
                id=str(uuid.uuid4()),
                org=spec.org,
                key=key,
                digest=digest,
                attributes=plan.attributes,
                provenance=plan.provenance,
                is_new=True,
                registered_at=now,
                last_updated=now,
                dirty=True,
            )
            state.history.append(("created", []))
            action: Action = "created"
            changes: tuple[AttributeChange, ...] = ()
        else:
            plan = plan_update(
                state.attributes,
                state.provenance,
                spec,
                source=source,
                confidence=confidence,
                at=now,
            )
            action, changes = _apply(state, plan, now)
        pending[slot] = state
        claimed = tuple(sorted(set_attributes(spec)))
        state.evidence.extend((item, item.attributes or claimed) for item in spec_evidence)
        if "depends_on" in spec.model_fields_set:
            state.edges = spec.depends_on
        outcomes.append(RegisterOutcome(state.id, action, key, changes))

    states = list(pending.values())
    _write_assets(session, states, now)
    _write_history(session, states=states, source=source, actor=actor, run=run, now=now)
    _write_evidence(session, states, source, run, now)
    _write_sightings(session, states, source, run, now)
    _write_edges(
        session, [s for s in states if s.edges is not None], source, now, replace=replace_edges
    )
    created = [s for s in states if s.is_new]
    _resolve_dangling(session, created)
    if len(created) >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # Until autovacuum analyzes a freshly filled table, PostgreSQL plans the next run's key
        # lookups as if it were empty (measured: 14 s instead of 0.5 s for 10,000 assets).
        session.execute(text(f"ANALYZE {', '.join(t.name for t in _ANALYZED)}"))
    return outcomes


_PENDING_COLUMNS = (
    "id",
    "org",
    "natural_key",
    "key_digest",
    "attributes",
    "provenance",
    "registered_at",
    "last_updated",
    "stale",
    "stale_since",
)


def _pending_from(row: AssetRow | Mapping[str, Any]) -> _Pending:
    values = row if isinstance(row, Mapping) else {c: getattr(row, c) for c in _PENDING_COLUMNS}
    return _Pending(
        id=values["id"],
        org=values["org"],
        key=values["natural_key"],
        digest=values["key_digest"],
        attributes=dict(values["attributes"]),
        provenance=_provenance(values["provenance"]),
        is_new=False,
        registered_at=values["registered_at"],
        last_updated=values["last_updated"],
        stale=values["stale"],
        stale_since=values["stale_since"],
    )


def _apply(
    state: _Pending, plan: MergePlan, now: datetime
) -> tuple[Action, tuple[AttributeChange, ...]]:
    provenance_moved = plan.provenance != state.provenance
    state.attributes = plan.attributes
    state.provenance = plan.provenance
    if plan.changed:
        state.last_updated = now
        state.history.append(("updated", plan.changes))
        state.dirty = True
        return "updated", tuple(plan.changes)
    if provenance_moved:
        state.dirty = True
    return "unchanged", ()


def _load_by_keys(
    session: Session, slots: set[tuple[str, str]]
) -> dict[tuple[str, str], Mapping[str, Any]]:
    by_org: dict[str, list[str]] = defaultdict(list)
    for org, digest in slots:
        by_org[org].append(digest)
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    columns = [ASSETS.c[name] for name in _PENDING_COLUMNS]
    for org, digests in by_org.items():
        for chunk in _chunks(sorted(digests)):
            rows = session.execute(
                select(*columns).where(ASSETS.c.org == org, ASSETS.c.key_digest.in_(chunk))
            )
            for row in rows:
                found[(row.org, row.key_digest)] = dict(row._mapping)
    return found


def _write_assets(session: Session, states: list[_Pending], now: datetime) -> None:
    inserts = [
        {
            "id": s.id,
            "org": s.org,
            "natural_key": s.key,
            "key_digest": s.digest,
            "stale": False,
            "stale_since": None,
            "registered_at": s.registered_at,
            "last_updated": s.last_updated,
            "last_seen": now,
            "attributes": s.attributes,
            "provenance": _provenance_json(s.provenance),
            **_columns(s.attributes),
        }
        for s in states
        if s.is_new
    ]
    if inserts:
        _insert_many(session, ASSETS, inserts)
    updates = [
        {
            "id": s.id,
            "last_updated": s.last_updated,
            "last_seen": now,
            "attributes": s.attributes,
            "provenance": _provenance_json(s.provenance),
            **_columns(s.attributes),
        }
        for s in states
        if not s.is_new and s.dirty
    ]
    if updates:
        _update_by_id(session, ASSETS, updates)
    # Most re-registrations change nothing: one statement per chunk moves their last_seen.
    touched = sorted(s.id for s in states if not s.is_new and not s.dirty)
    for chunk in _chunks(touched):
        session.execute(ASSETS.update().where(AssetRow.id.in_(chunk)).values(last_seen=now))
    # Rows loaded earlier in this session must not overwrite the bulk writes later.
    session.flush()
    session.expire_all()


def _write_history(
    session: Session,
    *,
    states: list[_Pending],
    source: str,
    actor: str | None,
    run: DiscoveryRun | None,
    now: datetime,
) -> None:
    rows = [
        {
            "asset_id": s.id,
            "at": now,
            "action": action,
            "source": source,
            "actor": actor,
            "run_id": None if run is None else run.id,
            "changes": _changes_json(changes),
        }
        for s in states
        for action, changes in s.history
    ]
    if rows:
        _insert_many(session, HISTORY, rows)


def _evidence_key(asset_id: str, source: str, location: str, confidence: str) -> tuple[str, ...]:
    return (asset_id, source, location, confidence)


def _write_evidence(
    session: Session,
    states: list[_Pending],
    source: str,
    run: DiscoveryRun | None,
    now: datetime,
) -> None:
    known: dict[tuple[str, ...], Any] = {}
    old_ids = sorted(s.id for s in states if not s.is_new and s.evidence)
    wanted = [EVIDENCE.c[n] for n in ("id", "asset_id", "source", "location", "confidence")]
    for chunk in _chunks(old_ids):
        rows = session.execute(
            select(*wanted, EVIDENCE.c.attributes, EVIDENCE.c.detail).where(
                EVIDENCE.c.asset_id.in_(chunk), EVIDENCE.c.source == source
            )
        )
        for row in rows:
            known[_evidence_key(row.asset_id, row.source, row.location, row.confidence)] = row
    run_id = None if run is None else run.id
    inserts: dict[tuple[str, ...], dict[str, Any]] = {}
    refreshed: list[int] = []
    widened: list[dict[str, Any]] = []
    for state in states:
        for item, covered in state.evidence:
            attributes = sorted(covered)
            key = _evidence_key(state.id, source, item.location, item.confidence.value)
            stored = known.get(key)
            if stored is not None:
                merged = sorted(set(stored.attributes) | set(attributes))
                if merged != sorted(stored.attributes) or item.detail != stored.detail:
                    widened.append(
                        {
                            "id": stored.id,
                            "attributes": merged,
                            "detail": item.detail,
                            "last_seen": item.observed_at,
                            "run_id": run_id,
                        }
                    )
                else:
                    refreshed.append(stored.id)
                continue
            previous = inserts.get(key)
            if previous is not None:
                previous["attributes"] = sorted(set(previous["attributes"]) | set(attributes))
                continue
            inserts[key] = {
                "asset_id": state.id,
                "source": source,
                "location": item.location,
                "confidence": item.confidence.value,
                "attributes": attributes,
                "detail": item.detail,
                "run_id": run_id,
                "first_seen": item.observed_at,
                "last_seen": item.observed_at,
            }
    if inserts:
        _insert_many(session, EVIDENCE, list(inserts.values()))
    if widened:
        _update_by_id(session, EVIDENCE, widened)
    for id_chunk in _chunks(sorted(refreshed)):
        session.execute(
            EVIDENCE.update()
            .where(AssetEvidenceRow.id.in_(id_chunk))
            .values(last_seen=now, run_id=run_id)
        )


def _write_sightings(
    session: Session,
    states: list[_Pending],
    source: str,
    run: DiscoveryRun | None,
    now: datetime,
) -> None:
    scope = "" if run is None else run.scope
    run_id = None if run is None else run.id
    seen_before: dict[str, Any] = {}
    old_ids = sorted(s.id for s in states if not s.is_new)
    for chunk in _chunks(old_ids):
        rows = session.execute(
            select(SIGHTINGS.c.asset_id, SIGHTINGS.c.missing).where(
                SIGHTINGS.c.asset_id.in_(chunk),
                SIGHTINGS.c.source == source,
                SIGHTINGS.c.scope == scope,
            )
        )
        seen_before.update((row.asset_id, row) for row in rows)
    inserts = [
        {
            "asset_id": s.id,
            "source": source,
            "scope": scope,
            "org": s.org,
            "first_seen": now,
            "last_seen": now,
            "run_id": run_id,
            "missing": False,
        }
        for s in states
        if s.id not in seen_before
    ]
    if inserts:
        _insert_many(session, SIGHTINGS, inserts)
    # Read before the update below: the session would refresh these rows from it.
    reappeared = sorted(asset_id for asset_id, row in seen_before.items() if row.missing)
    known = sorted(seen_before)
    for chunk in _chunks(known):
        session.execute(
            SIGHTINGS.update()
            .where(
                AssetSightingRow.asset_id.in_(chunk),
                AssetSightingRow.source == source,
                AssetSightingRow.scope == scope,
            )
            .values(last_seen=now, run_id=run_id, missing=False)
        )
    if reappeared:
        _recompute_stale(session, reappeared, source, run, now)


def _recompute_stale(
    session: Session,
    asset_ids: Sequence[str],
    source: str,
    run: DiscoveryRun | None,
    now: datetime,
) -> tuple[int, int]:
    """Set each asset's stale flag from its sightings: stale while any source's last complete run
    missed it. Returns (newly stale, no longer stale) and writes history for both."""
    missing_by_asset: dict[str, set[str]] = defaultdict(set)
    flags: dict[str, bool] = {}
    for chunk in _chunks(sorted(asset_ids)):
        for asset_id, stale in session.execute(
            select(AssetRow.id, AssetRow.stale).where(AssetRow.id.in_(chunk))
        ):
            flags[asset_id] = stale
        for sighting in session.scalars(
            select(AssetSightingRow).where(
                AssetSightingRow.asset_id.in_(chunk), AssetSightingRow.missing.is_(True)
            )
        ):
            missing_by_asset[sighting.asset_id].add(sighting.source)
    staled = sorted(a for a, was in flags.items() if not was and missing_by_asset.get(a))
    unstaled = sorted(a for a, was in flags.items() if was and not missing_by_asset.get(a))
    for chunk in _chunks(staled):
        session.execute(
            ASSETS.update().where(AssetRow.id.in_(chunk)).values(stale=True, stale_since=now)
        )
    for chunk in _chunks(unstaled):
        session.execute(
            ASSETS.update().where(AssetRow.id.in_(chunk)).values(stale=False, stale_since=None)
        )
    run_id = None if run is None else run.id
    history = [
        {
            "asset_id": asset_id,
            "at": now,
            "action": action,
            "source": source,
            "actor": None,
            "run_id": run_id,
            "changes": [
                {"attribute": "stale", "old": action == "unstaled", "new": action == "staled"}
            ],
        }
        for action, ids in (("staled", staled), ("unstaled", unstaled))
        for asset_id in ids
    ]
    if history:
        _insert_many(session, HISTORY, history)
    session.flush()
    session.expire_all()
    return len(staled), len(unstaled)


# --- edges ----------------------------------------------------------------------------------------


def _write_edges(
    session: Session, states: list[_Pending], source: str, now: datetime, *, replace: bool = True
) -> None:
    """Make the edges ``source`` declares for each asset exactly the ones it declares now (or,
    without ``replace``, add the new ones and keep the rest)."""
    if not states:
        return
    current: dict[str, dict[tuple[str, str], AssetDependencyRow]] = defaultdict(dict)
    for chunk in _chunks(sorted(s.id for s in states if not s.is_new)):
        for row in session.scalars(
            select(AssetDependencyRow).where(
                AssetDependencyRow.asset_id.in_(chunk), AssetDependencyRow.declared_by == source
            )
        ):
            current[row.asset_id][(row.target_ref, row.relation)] = row
    wanted: dict[str, dict[tuple[str, str], DependencyRef]] = {}
    for state in states:
        assert state.edges is not None
        wanted[state.id] = {(ref.target, ref.relation.value): ref for ref in state.edges}
    stale_edges = [
        row.id
        for asset_id, rows in current.items()
        for pair, row in rows.items()
        if replace and pair not in wanted.get(asset_id, {})
    ]
    for edge_chunk in _chunks(sorted(stale_edges)):
        session.execute(delete(AssetDependencyRow).where(AssetDependencyRow.id.in_(edge_chunk)))
    org_of = {s.id: s.org for s in states}
    new_edges = [
        (asset_id, ref)
        for asset_id, refs in wanted.items()
        for pair, ref in refs.items()
        if pair not in current.get(asset_id, {})
    ]
    if not new_edges:
        return
    env_of = {s.id: s.attributes.get("environment") for s in states}
    targets = _resolve_refs(session, [(org_of[a], ref.target, env_of[a]) for a, ref in new_edges])
    _insert_many(
        session,
        DEPENDENCIES,
        [
            {
                "org": org_of[asset_id],
                "asset_id": asset_id,
                "target_ref": ref.target,
                "target_id": targets.get((org_of[asset_id], ref.target, env_of[asset_id])),
                "relation": ref.relation.value,
                "declared_by": source,
                "created_at": now,
            }
            for asset_id, ref in new_edges
        ],
    )


def _resolve_refs(
    session: Session, wanted: Sequence[tuple[str, str, Any]]
) -> dict[tuple[str, str, Any], str]:
    """Resolve dependency targets in bulk: by asset ID, natural key, source ID, then name; among
    several assets of one name, the one in the depending asset's environment."""
    by_org: dict[str, set[str]] = defaultdict(set)
    for org, ref, _env in wanted:
        by_org[org].add(ref)
    exact: dict[tuple[str, str], str] = {}
    named: dict[tuple[str, str], list[tuple[str, str, datetime]]] = defaultdict(list)
    for org, refs in by_org.items():
        ref_list = sorted(refs)
        for chunk in _chunks(ref_list):
            for asset_id in session.scalars(
                select(AssetRow.id).where(AssetRow.org == org, AssetRow.id.in_(chunk))
            ):
                exact[(org, asset_id)] = asset_id
            digests = {key_digest(r): r for r in chunk} | {key_digest(f"id:{r}"): r for r in chunk}
            for asset_id, digest in session.execute(
                select(AssetRow.id, AssetRow.key_digest).where(
                    AssetRow.org == org, AssetRow.key_digest.in_(sorted(digests))
                )
            ):
                exact.setdefault((org, digests[digest]), asset_id)
            for asset_id, name, env, registered in session.execute(
                select(
                    AssetRow.id, AssetRow.name, AssetRow.environment, AssetRow.registered_at
                ).where(AssetRow.org == org, AssetRow.name.in_(chunk))
            ):
                named[(org, name)].append((asset_id, env, registered))
    resolved: dict[tuple[str, str, Any], str] = {}
    for org, ref, env in wanted:
        hit = exact.get((org, ref))
        if hit is None and named.get((org, ref)):
            candidates = sorted(named[(org, ref)], key=lambda c: (c[1] != env, c[2], c[0]))
            hit = candidates[0][0]
        if hit is not None:
            resolved[(org, ref, env)] = hit
    return resolved


def _resolve_dangling(session: Session, created: list[_Pending]) -> None:
    """Point edges that were waiting for an asset not yet registered at the new assets."""
    if not created:
        return
    by_org: dict[str, dict[str, str]] = defaultdict(dict)
    for state in created:
        names = {state.id, state.key, state.attributes["name"]}
        if state.attributes.get("source_id"):
            names.add(state.attributes["source_id"])
        for name in names:
            by_org[state.org].setdefault(name, state.id)
    fixes: list[dict[str, Any]] = []
    for org, refs in by_org.items():
        # Dangling edges are few; fetching them all beats asking about every new asset's names.
        for edge_id, ref in session.execute(
            select(DEPENDENCIES.c.id, DEPENDENCIES.c.target_ref).where(
                DEPENDENCIES.c.org == org, DEPENDENCIES.c.target_id.is_(None)
            )
        ):
            if ref in refs:
                fixes.append({"id": edge_id, "target_id": refs[ref]})
    if fixes:
        _update_by_id(session, DEPENDENCIES, fixes)


# --- discovery runs -------------------------------------------------------------------------------


def start_run(
    session: Session, source: str, *, scope: str = "", org: str = DEFAULT_ORG
) -> DiscoveryRun:
    """Open a discovery run of ``source`` over ``scope`` for ``org``."""
    row = DiscoveryRunRow(
        id=str(uuid.uuid4()),
        org=org,
        source=source,
        scope=scope,
        status="running",
        complete=False,
        started_at=utcnow(),
        finished_at=None,
        counts={},
        errors=[],
    )
    session.add(row)
    session.flush()
    return _run(row)


def finish_run(
    session: Session,
    run: DiscoveryRun,
    seen_keys: Iterable[str] = (),
    *,
    complete: bool = True,
    errors: Sequence[CallFailure] = (),
    counts: Mapping[str, int] | None = None,
) -> DiscoveryRun:
    """Close ``run``; when it is complete, mark what its source no longer sees as stale."""
    row = session.get(DiscoveryRunRow, run.id)
    if row is None:
        raise NotFoundError(f"no discovery run {run.id}")
    if row.finished_at is not None:
        raise InventoryError(f"discovery run {run.id} is already finished")
    now = utcnow()
    extra = sorted(set(seen_keys))
    if extra:
        _mark_seen(session, run, extra, now)
    staled = 0
    if complete:
        sightings = select(AssetSightingRow.asset_id).where(
            AssetSightingRow.org == run.org,
            AssetSightingRow.source == run.source,
            AssetSightingRow.scope == run.scope,
            or_(AssetSightingRow.run_id.is_(None), AssetSightingRow.run_id != run.id),
        )
        unseen = sorted(session.scalars(sightings))
        for chunk in _chunks(unseen):
            session.execute(
                SIGHTINGS.update()
                .where(
                    AssetSightingRow.asset_id.in_(chunk),
                    AssetSightingRow.source == run.source,
                    AssetSightingRow.scope == run.scope,
                )
                .values(missing=True)
            )
        staled, _ = _recompute_stale(session, unseen, run.source, run, now)
    merged = dict(row.counts) | dict(counts or {})
    merged["staled"] = staled
    merged["errors"] = len(errors)
    row.counts = merged
    row.errors = [failure.as_dict() for failure in errors]
    row.complete = complete
    row.status = "finished"
    row.finished_at = now
    session.flush()
    return _run(row)


def _mark_seen(session: Session, run: DiscoveryRun, keys: Sequence[str], now: datetime) -> None:
    ids: set[str] = set()
    for chunk in _chunks(keys):
        ids.update(
            session.scalars(
                select(AssetRow.id).where(
                    AssetRow.org == run.org,
                    or_(
                        AssetRow.id.in_(chunk),
                        AssetRow.key_digest.in_([key_digest(k) for k in chunk]),
                    ),
                )
            )
        )
    for chunk in _chunks(sorted(ids)):
        session.execute(
            SIGHTINGS.update()
            .where(
                AssetSightingRow.asset_id.in_(chunk),
                AssetSightingRow.source == run.source,
                AssetSightingRow.scope == run.scope,
            )
            .values(last_seen=now, run_id=run.id, missing=False)
        )
        session.execute(ASSETS.update().where(AssetRow.id.in_(chunk)).values(last_seen=now))


def apply_discovery(session: Session, result: DiscoveryResult) -> DiscoveryRun:
    """Register a discovery plugin's whole result as one run (see ``discovery.base``).

    A complete result is the truth for its source and scope: each asset's edges from this
    source become exactly the ones in the result. An incomplete one only adds edges.
    """
    org = result.org
    handles = {a.handle: a for a in result.assets}
    extra: dict[str, list[DependencyRef]] = defaultdict(list)
    for edge in result.edges:
        if edge.asset_key not in handles:
            raise InventoryError(
                f"edge from {edge.asset_key!r}, which is not an asset of this result",
                hint="DiscoveredEdge.asset_key must be the key of one of the result's assets",
            )
        # A handle is the plugin's own name; the registry resolves the natural key it stands for.
        target = handles[edge.target].spec if edge.target in handles else None
        ref = natural_key(target) if target is not None else edge.target
        extra[edge.asset_key].append(DependencyRef(target=ref, relation=edge.relation))
    specs: list[AssetSpec] = []
    for found in result.assets:
        update: dict[str, Any] = {}
        if org is not None and found.spec.org != org:
            update["org"] = org
        declared = found.spec.depends_on if "depends_on" in found.spec.model_fields_set else ()
        edges = (*declared, *extra.get(found.handle, ()))
        if edges or result.complete:
            update["depends_on"] = tuple(dict.fromkeys(edges))
        specs.append(found.spec.model_copy(update=update) if update else found.spec)
    orgs = {spec.org for spec in specs} or {org or DEFAULT_ORG}
    if len(orgs) > 1:
        raise InventoryError(
            f"a discovery result must belong to one organization; it has {', '.join(sorted(orgs))}",
            hint="set DiscoveryResult.org",
        )
    run = start_run(session, result.source, scope=result.scope, org=next(iter(orgs)))
    outcomes = register_many(
        session,
        [(spec, a.evidence) for spec, a in zip(specs, result.assets, strict=True)],
        source=result.source,
        run=run,
        replace_edges=result.complete,
    )
    counts = {
        "seen": len({o.asset_id for o in outcomes}),
        "created": sum(o.action == "created" for o in outcomes),
        "updated": sum(o.action == "updated" for o in outcomes),
        "unchanged": sum(o.action == "unchanged" for o in outcomes),
        "edges": len(result.edges),
    }
    return finish_run(session, run, complete=result.complete, errors=result.errors, counts=counts)


def list_runs(
    session: Session, *, org: str | None = None, source: str | None = None
) -> list[DiscoveryRun]:
    query = select(DiscoveryRunRow).order_by(DiscoveryRunRow.started_at.desc())
    if org is not None:
        query = query.where(DiscoveryRunRow.org == org)
    if source is not None:
        query = query.where(DiscoveryRunRow.source == source)
    return [_run(row) for row in session.scalars(query)]


# --- reading --------------------------------------------------------------------------------------


def _stale_sources(session: Session, asset_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(asset_ids):
        for asset_id, source in session.execute(
            select(AssetSightingRow.asset_id, AssetSightingRow.source).where(
                AssetSightingRow.asset_id.in_(chunk), AssetSightingRow.missing.is_(True)
            )
        ):
            found[asset_id].append(source)
    return found


def get_asset(session: Session, asset_id: str) -> AIAsset:
    row = session.get(AssetRow, asset_id)
    if row is None:
        raise NotFoundError(
            f"no asset {asset_id!r}", hint="list assets with `garrison assets list`"
        )
    return _asset(row, _stale_sources(session, [row.id]).get(row.id, []))


def resolve_asset(session: Session, ref: str, *, org: str | None = None) -> AIAsset:
    """The asset ``ref`` names: an ID, a unique ID prefix (6+ characters), a source ID, a natural
    key or an exact name. Ambiguity is an error that lists the candidates."""
    ref = ref.strip()
    row = session.get(AssetRow, ref)
    if row is not None and (org is None or row.org == org):
        return get_asset(session, row.id)
    scope: list[ColumnElement[bool]] = [] if org is None else [AssetRow.org == org]
    conditions: list[ColumnElement[bool]] = [
        AssetRow.key_digest.in_([key_digest(ref), key_digest(f"id:{ref}")]),
        AssetRow.name == ref,
    ]
    if len(ref) >= MIN_ID_PREFIX:
        conditions.append(AssetRow.id.startswith(ref, autoescape=True))
    rows = list(session.scalars(select(AssetRow).where(and_(*scope, or_(*conditions))).limit(11)))
    if not rows:
        raise NotFoundError(
            f"no asset {ref!r}",
            hint="give an asset ID (or its first 6+ characters), source ID or exact name; "
            "`garrison assets list -q TEXT` finds one",
        )
    if len(rows) > 1:
        listed = ", ".join(f"{r.id[:8]} ({r.name}, {r.environment})" for r in rows[:10])
        raise InventoryError(f"{ref!r} matches {len(rows)} assets: {listed}", hint="use the ID")
    return get_asset(session, rows[0].id)


def get_asset_detail(session: Session, asset_id: str) -> AssetDetail:
    asset = get_asset(session, asset_id)
    upstream = session.scalars(
        select(AssetDependencyRow)
        .where(AssetDependencyRow.asset_id == asset_id)
        .order_by(AssetDependencyRow.id)
    )
    downstream = session.scalars(
        select(AssetDependencyRow)
        .where(AssetDependencyRow.target_id == asset_id)
        .order_by(AssetDependencyRow.id)
    )
    evidence = session.scalars(
        select(AssetEvidenceRow)
        .where(AssetEvidenceRow.asset_id == asset_id)
        .order_by(AssetEvidenceRow.last_seen.desc(), AssetEvidenceRow.id)
    )
    history = session.scalars(
        select(AssetHistoryRow)
        .where(AssetHistoryRow.asset_id == asset_id)
        .order_by(AssetHistoryRow.at, AssetHistoryRow.id)
    )
    sightings = session.scalars(
        select(AssetSightingRow)
        .where(AssetSightingRow.asset_id == asset_id)
        .order_by(AssetSightingRow.source, AssetSightingRow.scope)
    )
    return AssetDetail(
        asset=asset,
        upstream=tuple(_dependency(r) for r in upstream),
        downstream=tuple(_dependency(r) for r in downstream),
        evidence=tuple(
            EvidenceRecord(
                location=r.location,
                confidence=Confidence(r.confidence),
                observed_at=r.last_seen,
                attributes=tuple(r.attributes),
                detail=r.detail,
                source=r.source,
                run_id=r.run_id,
                first_seen=r.first_seen,
            )
            for r in evidence
        ),
        history=tuple(
            HistoryEntry.model_validate(
                {
                    "at": r.at,
                    "action": r.action,
                    "source": r.source,
                    "actor": r.actor,
                    "run_id": r.run_id,
                    "changes": r.changes,
                }
            )
            for r in history
        ),
        sightings=tuple(
            Sighting(
                source=r.source,
                scope=r.scope,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                run_id=r.run_id,
                missing=r.missing,
            )
            for r in sightings
        ),
    )


def _dependency(row: AssetDependencyRow) -> Dependency:
    return Dependency(
        asset_id=row.asset_id,
        target_ref=row.target_ref,
        target_id=row.target_id,
        relation=Relation(row.relation),
        declared_by=row.declared_by,
    )


def _conditions(chosen: AssetFilter) -> list[ColumnElement[bool]]:
    """The filters the database answers from indexed columns."""
    where: list[ColumnElement[bool]] = []
    if chosen.org is not None:
        where.append(AssetRow.org == chosen.org)
    for column, values in (
        (AssetRow.asset_type, chosen.asset_types),
        (AssetRow.environment, chosen.environments),
        (AssetRow.exposure, chosen.exposures),
        (AssetRow.compliance_status, chosen.compliance_statuses),
    ):
        if values:
            where.append(column.in_([v.value for v in values]))
    if chosen.providers:
        where.append(
            or_(
                AssetRow.model_provider.in_(chosen.providers),
                AssetRow.cloud_provider.in_(chosen.providers),
            )
        )
    classified = AssetRow.data_classification.in_([c.value for c in chosen.data_classifications])
    if chosen.unclassified:
        unset = AssetRow.data_classification.is_(None)
        where.append(or_(unset, classified) if chosen.data_classifications else unset)
    elif chosen.data_classifications:
        where.append(classified)
    if chosen.owner_team is not None:
        where.append(AssetRow.owner_team == chosen.owner_team)
    if chosen.regulatory_scope is not None:
        scope = f",{chosen.regulatory_scope.value},"
        where.append(AssetRow.regulatory_scope.contains(scope, autoescape=True))
    if chosen.stale is not None:
        where.append(AssetRow.stale.is_(chosen.stale))
    if chosen.unreviewed_only:
        where.append(AssetRow.compliance_status == "unreviewed")
    return where


def search(
    session: Session, filters: AssetFilter | None = None, *, risk: RiskHook | None = None
) -> list[AIAsset]:
    """Assets matching ``filters``, ordered by organization, name and environment."""
    chosen = filters or AssetFilter()
    require_hook(chosen, risk)
    query = select(AssetRow).order_by(
        AssetRow.org, AssetRow.name, AssetRow.environment, AssetRow.id
    )
    where = _conditions(chosen)
    if where:
        query = query.where(and_(*where))
    rows = list(session.scalars(query))
    stale_ids = [row.id for row in rows if row.stale]
    stale_sources = _stale_sources(session, stale_ids) if stale_ids else {}
    assets = [_asset(row, stale_sources.get(row.id, [])) for row in rows]
    if chosen.text:
        assets = [a for a in assets if matches_text(a, chosen.text)]
    if chosen.risk_levels and risk is not None:
        wanted = set(chosen.risk_levels)
        assets = [a for a in assets if risk_level(a, risk) in wanted]
    end = None if chosen.limit is None else chosen.offset + chosen.limit
    return assets[chosen.offset : end]


def _utc_text(value: datetime | None) -> str | None:
    # The text pydantic gives a UTC datetime in JSON mode, so a document equals model_dump's.
    if value is None:
        return None
    return ensure_utc(value).isoformat().replace("+00:00", "Z")


def asset_documents(session: Session, *, org: str | None = None) -> list[dict[str, Any]]:
    """Every asset (of ``org``, or of all organizations) as JSON-ready data, in ``search``'s
    order: each equals ``AIAsset.model_dump(mode="json")`` of the asset ``search`` returns, and
    validates back to it.

    For bulk readers (the risk engine assesses 10,000 assets at once): the stored attributes are
    already validated, so no ``AIAsset`` object is built per asset.
    """
    query = select(
        AssetRow.id,
        AssetRow.natural_key,
        AssetRow.registered_at,
        AssetRow.last_updated,
        AssetRow.last_seen,
        AssetRow.stale,
        AssetRow.stale_since,
        # As text, decoded by orjson: several times faster than the JSON type's json.loads.
        sql_cast(AssetRow.attributes, Text).label("attributes"),
        sql_cast(AssetRow.provenance, Text).label("provenance"),
    ).order_by(AssetRow.org, AssetRow.name, AssetRow.environment, AssetRow.id)
    if org is not None:
        query = query.where(AssetRow.org == org)
    # Core execution on the session's connection: plain rows, no ORM loading step per row.
    rows = session.connection().execute(query).all()
    stale_ids = [row.id for row in rows if row.stale]
    stale_sources = _stale_sources(session, stale_ids) if stale_ids else {}
    # Assets registered or seen by one run share their timestamps: format each moment once.
    moments: dict[datetime | None, str | None] = {}

    def moment(value: datetime | None) -> str | None:
        text = moments.get(value)
        if text is None:
            text = moments[value] = _utc_text(value)
        return text

    documents = []
    for row in rows:
        document = {**_DOCUMENT_DEFAULTS, **orjson.loads(row.attributes)}
        document.update(
            id=row.id,
            natural_key=row.natural_key,
            registered_at=moment(row.registered_at),
            last_updated=moment(row.last_updated),
            last_seen=moment(row.last_seen),
            stale=row.stale,
            stale_since=moment(row.stale_since),
            stale_sources=sorted(stale_sources.get(row.id, ())),
            provenance={
                name: {"source": value[0], "confidence": value[1], "at": value[2]}
                for name, value in orjson.loads(row.provenance).items()
            },
        )
        documents.append(document)
    return documents


_DOCUMENT_DEFAULTS: dict[str, Any] = {"depends_on": []}
"""Attributes an asset document has that the stored attributes leave out."""


def list_dependencies(session: Session, *, org: str | None = None) -> list[Dependency]:
    query = select(AssetDependencyRow).order_by(AssetDependencyRow.id)
    if org is not None:
        query = query.where(AssetDependencyRow.org == org)
    return [_dependency(row) for row in session.scalars(query)]


def load_graph(session: Session, *, org: str | None = None) -> AssetGraph:
    """The dependency graph of an organization (or of everything)."""
    return build_graph(search(session, AssetFilter(org=org)), list_dependencies(session, org=org))


# --- edit -----------------------------------------------------------------------------------------


def edit_asset(
    session: Session, asset_id: str, changes: Mapping[str, Any], actor: str
) -> RegisterOutcome:
    """Apply a person's ``changes`` (attribute name → new value, None to clear) to an asset.

    The whole asset is validated with the changes, so an edit that would make it invalid is refused
    with the field named. Edited attributes become ``declared`` by source ``manual``, and the
    history records ``actor``. ``depends_on`` replaces the asset's manually declared edges.
    """
    if not actor.strip():
        raise InventoryError("an edit needs an actor", hint="say who made the change")
    unknown = sorted(set(changes) - ATTRIBUTE_NAMES - {"depends_on"})
    if unknown:
        raise InventoryError(
            f"unknown attribute(s): {', '.join(unknown)}",
            hint="editable attributes: " + ", ".join(sorted(ATTRIBUTE_NAMES - IDENTITY_ATTRIBUTES)),
        )
    fixed = sorted(set(changes) & IDENTITY_ATTRIBUTES)
    if fixed:
        raise InventoryError(
            f"{', '.join(fixed)} cannot be edited",
            hint="an asset of another organization is another asset: register it there",
        )
    row = session.get(AssetRow, asset_id)
    if row is None:
        raise NotFoundError(f"no asset {asset_id!r}")
    merged = {**row.attributes, **changes}
    if "depends_on" not in changes:
        merged.pop("depends_on", None)
    try:
        edited = AssetSpec.model_validate(merged)
    except ValidationError as exc:
        raise InventoryError(
            _validation_message(exc), hint="fix the value and edit again"
        ) from None
    now = utcnow()
    new_attributes = edited.attributes()
    diff_changes = [
        AttributeChange(attribute=name, old=row.attributes.get(name), new=new_attributes[name])
        for name in sorted(set(changes) - {"depends_on"})
        if row.attributes.get(name) != new_attributes[name]
    ]
    key = natural_key(edited)
    digest = key_digest(key)
    if digest != row.key_digest:
        clash = session.scalars(
            select(AssetRow.id).where(AssetRow.org == row.org, AssetRow.key_digest == digest)
        ).first()
        if clash is not None:
            raise InventoryError(
                f"after this edit the asset would be the same as asset {clash} ({key})",
                hint="edit that asset instead, or change another identifying attribute",
            )
    provenance = _provenance(row.provenance)
    for change in diff_changes:
        provenance[change.attribute] = Claim(MANUAL_SOURCE, Confidence.DECLARED.value, iso(now))
    if diff_changes:
        row.attributes = new_attributes
        row.provenance = _provenance_json(provenance)
        row.natural_key = key
        row.key_digest = digest
        row.last_updated = now
        for column, value in _columns(new_attributes).items():
            setattr(row, column, value)
        session.add(
            AssetHistoryRow(
                asset_id=row.id,
                at=now,
                action="edited",
                source=MANUAL_SOURCE,
                actor=actor,
                run_id=None,
                changes=_changes_json(diff_changes),
            )
        )
    session.flush()
    if "depends_on" in changes:
        state = _pending_from(row)
        state.edges = edited.depends_on
        _write_edges(session, [state], MANUAL_SOURCE, now)
    return RegisterOutcome(
        row.id, "updated" if diff_changes else "unchanged", key, tuple(diff_changes)
    )


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one line per field, for the CLI and the API."""
    return _validation_message(exc)
