"""The persistent outbox: every notification is a row until a channel accepted it.

A worker claims due rows with a lease (state ``sending``, ``lease_until``) in one short
transaction, sends outside any transaction, then records the outcome only if it still holds the
lease. A worker that dies mid-delivery leaves its rows leased; once the lease runs out another
worker claims them again, so nothing is lost. The same row always carries the same idempotency
key (and PagerDuty events the same dedup_key), so a receiver can drop the second copy of a
delivery the first worker completed just before dying.

Failures back off exponentially with jitter; after ``max_attempts`` a row becomes a dead letter,
visible and replayable (``garrison alerts outbox --dead`` / ``--replay``).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import ensure_utc
from garrison.monitoring.alerting.channels import CHANNELS, DeliveryError
from garrison.monitoring.alerting.config import AlertingConfig, Delivery
from garrison.monitoring.metrics import NOTIFICATIONS, OUTBOX_DEPTH, PIPELINE_LATENCY
from garrison.store import Store
from garrison.store.models.alerting import OutboxRow


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    org: str
    receiver: str
    channel_type: str
    group_key: str
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str
    sent_at: datetime | None
    idempotency_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        org=row.org,
        receiver=row.receiver,
        channel_type=row.channel_type,
        group_key=row.group_key,
        state=OutboxState(row.state),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        idempotency_key=row.idempotency_key,
        payload=dict(row.payload),
    )


def enqueue(
    session: Session,
    *,
    org: str,
    receiver: str,
    channel_index: int,
    channel_type: str,
    group_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxRow:
    row = OutboxRow(
        org=org,
        idempotency_key=str(uuid.uuid4()),
        receiver=receiver,
        channel_index=channel_index,
        channel_type=channel_type,
        group_key=group_key,
        payload=payload,
        state=OutboxState.PENDING.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        lease_until=None,
        lease_token=None,
        last_error="",
        sent_at=None,
    )
    session.add(row)
    return row


def backoff(attempt: int, policy: Delivery, rng: Callable[[], float] = random.random) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): doubling from the initial backoff up to
    the cap, scaled by a jitter in [0.5, 1) so that retries of many rows do not stampede."""
    base = policy.initial_backoff.total_seconds() * (2 ** (attempt - 1))
    capped = min(base, policy.max_backoff.total_seconds())
    return timedelta(seconds=capped * (0.5 + rng() / 2))


def claim(
    store: Store, now: datetime, policy: Delivery, *, limit: int = 100
) -> list[tuple[int, str, str]]:
    """Lease due rows to this worker: (row id, lease token, idempotency key)."""
    now = ensure_utc(now)
    token = uuid.uuid4().hex
    with store.session() as session:
        due = or_(
            (OutboxRow.state == OutboxState.PENDING.value) & (OutboxRow.next_attempt_at <= now),
            (OutboxRow.state == OutboxState.SENDING.value) & (OutboxRow.lease_until <= now),
        )
        rows = session.scalars(
            select(OutboxRow)
            .where(due)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.state = OutboxState.SENDING.value
            row.lease_until = now + policy.lease
            row.lease_token = token
            row.attempts += 1
            claimed.append((row.id, token, row.idempotency_key))
    return claimed


def send_one(store: Store, config: AlertingConfig, row_id: int) -> None:
    """Send one row's payload through its channel (no state change): raises DeliveryError."""
    with store.session() as session:
        row = session.get(OutboxRow, row_id)
        if row is None:
            raise NotFoundError(f"no outbox row {row_id}")
        receiver_name, index, channel_type = row.receiver, row.channel_index, row.channel_type
        payload, key = dict(row.payload), row.idempotency_key
    try:
        spec = config.receiver(receiver_name).channels[index]
    except (KeyError, IndexError):
        raise DeliveryError(
            f"receiver {receiver_name!r} channel {index} is no longer in alerting.yaml",
            retryable=False,
        ) from None
    if spec.type != channel_type:
        raise DeliveryError(
            f"receiver {receiver_name!r} channel {index} is now {spec.type}, not {channel_type}",
            retryable=False,
        )
    channel = CHANNELS.get(spec.type)
    settings = channel.config_model.model_validate(spec.settings)
    channel.send(settings, payload, key, config.delivery.timeout.total_seconds())


def complete(  # noqa: PLR0917 - the outcome of one claimed row, all of it needed
    store: Store,
    row_id: int,
    token: str,
    now: datetime,
    policy: Delivery,
    error: DeliveryError | None,
    rng: Callable[[], float] = random.random,
) -> OutboxState | None:
    """Record a delivery outcome if this worker still holds the lease; None if it lost it."""
    with store.session() as session:
        row = session.get(OutboxRow, row_id, with_for_update=True)
        if row is None or row.lease_token != token or row.state != OutboxState.SENDING.value:
            return None
        row.lease_until = None
        row.lease_token = None
        if error is None:
            row.state = OutboxState.SENT.value
            row.sent_at = now
            row.last_error = ""
        elif not error.retryable or row.attempts >= policy.max_attempts:
            row.state = OutboxState.DEAD.value
            row.last_error = str(error)
        else:
            row.state = OutboxState.PENDING.value
            row.next_attempt_at = now + backoff(row.attempts, policy, rng)
            row.last_error = str(error)
        outcome = OutboxState(row.state)
        channel = row.channel_type
    label = {OutboxState.SENT: "sent", OutboxState.DEAD: "dead"}.get(outcome, "retry")
    NOTIFICATIONS.labels(channel=channel, outcome=label).inc()
    return outcome


def deliver_due(
    store: Store,
    config: AlertingConfig,
    now: datetime,
    *,
    limit: int = 100,
    rng: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Claim the due rows and deliver each; one failing channel never blocks the others."""
    sent = retried = dead = 0
    for row_id, token, _key in claim(store, now, config.delivery, limit=limit):
        started = time.perf_counter()
        error: DeliveryError | None = None
        try:
            send_one(store, config, row_id)
        except DeliveryError as exc:
            error = exc
        except GarrisonError as exc:  # e.g. a channel plugin that is no longer installed
            error = DeliveryError(exc.message, retryable=False)
        PIPELINE_LATENCY.labels(stage="deliver").observe(time.perf_counter() - started)
        outcome = complete(store, row_id, token, now, config.delivery, error, rng)
        if outcome is OutboxState.SENT:
            sent += 1
        elif outcome is OutboxState.DEAD:
            dead += 1
        elif outcome is OutboxState.PENDING:
            retried += 1
    update_depth(store)
    return DeliveryReport(sent=sent, retried=retried, dead=dead)


def update_depth(store: Store) -> None:
    with store.session() as session:
        counts: dict[str, int] = {  # noqa: C416 - rows are Row objects
            state: count
            for state, count in session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
        }
    pending = counts.get("pending", 0) + counts.get("sending", 0)
    OUTBOX_DEPTH.labels(state="pending").set(pending)
    OUTBOX_DEPTH.labels(state="dead").set(counts.get("dead", 0))


def list_outbox(
    session: Session,
    *,
    states: Sequence[OutboxState] | None = None,
    org: str | None = None,
    limit: int = 200,
) -> list[OutboxEntry]:
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if states:
        query = query.where(OutboxRow.state.in_([s.value for s in states]))
    if org is not None:
        query = query.where(OutboxRow.org == org)
    return [_entry(row) for row in session.scalars(query)]


def replay(session: Session, row_id: int, now: datetime) -> OutboxEntry:
    """Put a dead letter back in the queue with a fresh attempt budget (same idempotency key,
    so a receiver that did get it can still drop the copy)."""
    row = session.get(OutboxRow, row_id)
    if row is None:
        raise NotFoundError(
            f"no outbox row {row_id}", hint="list dead letters with `garrison alerts outbox --dead`"
        )
    if row.state != OutboxState.DEAD.value:
        raise GarrisonError(
            f"outbox row {row_id} is {row.state}, not dead; only dead letters are replayed"
        )
    row.state = OutboxState.PENDING.value
    row.attempts = 0
    row.next_attempt_at = now
    session.flush()
    return _entry(row)


def replay_dead(session: Session, now: datetime) -> list[OutboxEntry]:
    ids = session.scalars(
        select(OutboxRow.id).where(OutboxRow.state == OutboxState.DEAD.value)
    ).all()
    return [replay(session, row_id, now) for row_id in ids]
