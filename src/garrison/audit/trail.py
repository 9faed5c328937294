"""The audit trail: append, verify and export hash-chained entries.

Each entry's hash is ``sha256(prev_hash || canonical JSON of the entry)``, so editing, removing or
reordering any stored entry breaks every hash after it. Appends lock the chain head row by
updating it first: on PostgreSQL that row lock serialises concurrent appenders until their
transaction ends; on SQLite the UPDATE takes the database write lock. Either way two writers never
chain onto the same predecessor. ``record`` writes inside the caller's transaction, so an entry
exists exactly when the change it describes was committed.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.store.models.audit import GENESIS_HASH, AuditEntryRow, AuditHeadRow

HEAD_ID = 1
MAX_ACTOR = 200
MAX_TARGET_ID = 300
ExportFormat = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    org: str | None
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "org": self.org,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first entry that does not verify, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Verification:
    entries: int
    head: ChainHead
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, datetimes as ISO 8601 UTC."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return ensure_utc(value).isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    org: str | None,
    before: str | None,
    after: str | None,
) -> str:
    """The chained hash of one entry; ``before``/``after`` are their stored canonical JSON text."""
    body = canonical_json(
        {
            "seq": seq,
            "at": ensure_utc(at).isoformat(),
            "actor": actor,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "org": org,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def _text(name: str, value: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise GarrisonError(f"an audit entry needs a {name}")
    return text[:limit]


def record(  # noqa: PLR0917 - the positional order is the documented interface
    session: Session,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: Any = None,
    after: Any = None,
    *,
    org: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the trail inside ``session``'s transaction.

    ``before`` and ``after`` are any JSON-able values (pydantic models, datetimes and sets are
    converted); None means "did not exist" (a creation has no before, a deletion no after).
    """
    actor = _text("actor", actor, MAX_ACTOR)
    action = _text("action", action, 100)
    target_type = _text("target type", target_type, 64)
    target_id = _text("target id", str(target_id), MAX_TARGET_ID)
    before_text = None if before is None else canonical_json(before)
    after_text = None if after is None else canonical_json(after)
    moment = utcnow() if at is None else ensure_utc(at)
    # Lock first (the UPDATE), read second: a reader that read before locking could chain onto a
    # head another writer is about to replace.
    session.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(seq=AuditHeadRow.seq + 1)
    )
    head = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)
    ).one()
    seq, prev_hash = int(head.seq), str(head.hash)
    digest = entry_hash(
        prev_hash,
        seq=seq,
        at=moment,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        org=org,
        before=before_text,
        after=after_text,
    )
    session.add(
        AuditEntryRow(
            seq=seq,
            at=moment,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            org=org,
            before=before_text,
            after=after_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(hash=digest))
    session.flush()
    return AuditEntry(
        seq, moment, actor, action, target_type, target_id, org,
        before, after, prev_hash, digest,
    )  # fmt: skip


def _entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        org=row.org,
        before=None if row.before is None else json.loads(row.before),
        after=None if row.after is None else json.loads(row.after),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def chain_head(session: Session) -> ChainHead:
    row = session.get(AuditHeadRow, HEAD_ID)
    if row is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(row.seq, row.hash)


def _rows(session: Session, batch: int = 1000) -> Iterator[AuditEntryRow]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEntryRow)
                .where(AuditEntryRow.seq > last)
                .order_by(AuditEntryRow.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def check_row(row: AuditEntryRow, expected_seq: int, prev_hash: str) -> str | None:
    """Why ``row`` does not continue a chain ending at ``prev_hash``, or None when it does."""
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing (the next stored entry is {row.seq})"
    if row.prev_hash != prev_hash:
        return "its prev_hash does not match the hash of the entry before it"
    recomputed = entry_hash(
        prev_hash,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        org=row.org,
        before=row.before,
        after=row.after,
    )
    if recomputed != row.hash:
        return "its content does not match its hash (the row was edited)"
    return None


def verify(session: Session) -> Verification:
    """Walk the whole chain; the result names the first entry that does not verify."""
    head = chain_head(session)
    prev_hash, expected, count = GENESIS_HASH, 1, 0
    for row in _rows(session):
        reason = check_row(row, expected, prev_hash)
        if reason is not None:
            return Verification(count, head, Break(expected, reason))
        prev_hash, expected, count = row.hash, expected + 1, count + 1
    if (head.seq, head.hash) != (count, prev_hash):
        reason = (
            f"the chain head says {head.seq} entries ending in {head.hash[:12]}…, "
            f"the log holds {count} ending in {prev_hash[:12]}… (entries were removed or added)"
        )
        return Verification(count, head, Break(count + 1, reason))
    return Verification(count, head, None)


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    target_type: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[AuditEntry]:
    query = select(AuditEntryRow)
    if since is not None:
        query = query.where(AuditEntryRow.at >= ensure_utc(since))
    if until is not None:
        query = query.where(AuditEntryRow.at < ensure_utc(until))
    if target_type is not None:
        query = query.where(AuditEntryRow.target_type == target_type)
    if actor is not None:
        query = query.where(AuditEntryRow.actor == actor)
    query = query.order_by(AuditEntryRow.seq.desc() if newest_first else AuditEntryRow.seq)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(r) for r in session.scalars(query)]


CSV_FIELDS = (
    "seq", "at", "actor", "action", "target_type", "target_id", "org",
    "before", "after", "prev_hash", "hash",
)  # fmt: skip


def _csv_cell(value: Any) -> str:
    text = "" if value is None else (value if isinstance(value, str) else canonical_json(value))
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it so evidence stays data.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export(
    session: Session,
    fmt: ExportFormat = "jsonl",
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """Entries in ``[since, until)`` as JSON lines or CSV, with the chain head to re-verify against.

    JSON lines end with one ``{"chain_head": …}`` line; CSV gets the head in a trailing comment
    row. Each entry carries ``prev_hash`` and ``hash``, so an auditor can recompute the chain from
    the export alone (``before``/``after`` are hashed as their canonical JSON text).
    """
    chosen = entries(session, since=since, until=until)
    head = chain_head(session)
    if fmt == "jsonl":
        lines = [canonical_json(e.as_dict()) for e in chosen]
        lines.append(canonical_json({"chain_head": {"seq": head.seq, "hash": head.hash}}))
        return "\n".join(lines) + "\n"
    if fmt != "csv":
        raise GarrisonError(f"unknown export format {fmt!r}", hint="use jsonl or csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for e in chosen:
        row: Mapping[str, Any] = e.as_dict()
        writer.writerow([_csv_cell(row[name]) for name in CSV_FIELDS])
    writer.writerow([f"# chain_head seq={head.seq} hash={head.hash}"])
    return out.getvalue()
