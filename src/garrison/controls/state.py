"""Per-asset control state: who says a control is planned, implemented, operational or failed on
an asset, since when, and on what evidence.

Every attestation is appended to the history; the current state of a (asset, control) pair is
the attestation with the latest ``attested_at``. A back-dated attestation therefore enters the
history without overriding a newer one. Asset IDs are the inventory's IDs, kept as plain strings
so this pillar never reads the inventory's tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison import audit
from garrison.controls.library import ControlLibrary, get_library
from garrison.core.errors import GarrisonError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.store.models.controls import ControlAttestationRow, ControlStateRow

MAX_EVIDENCE_LINKS = 20
MAX_EVIDENCE_LENGTH = 2000
MAX_NOTE_LENGTH = 4000
MAX_ID_LENGTH = 200
CLOCK_SKEW = timedelta(minutes=5)
"""An attestation dated slightly ahead is a clock difference; further ahead is a mistake."""

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class ControlState(StrEnum):
    PLANNED = "planned"
    IMPLEMENTED = "implemented"
    """Deployed, but not yet shown to work."""
    OPERATIONAL = "operational"
    """Deployed and verified as the control's specification says; the only state that counts
    for coverage and risk reduction."""
    FAILED = "failed"
    """Was expected to work and does not (a failed verification, an outage, a bypass)."""


class AttestationError(GarrisonError):
    """An attestation the caller can fix: bad state, evidence, actor, time or applicability."""


class ControlNotApplicableError(AttestationError):
    """The control does not apply to the asset's type."""


@dataclass(frozen=True)
class Attestation:
    """One statement about a control on an asset."""

    asset_id: str
    control_id: str
    state: ControlState
    actor: str
    evidence: tuple[str, ...]
    note: str
    attested_at: datetime
    recorded_at: datetime
    asset_type: str | None = None
    sequence: int = 0
    """Position in the history (the log's row ID); orders attestations with equal times."""

    @property
    def operational(self) -> bool:
        return self.state is ControlState.OPERATIONAL


# --- validation (pure) ---------------------------------------------------------------------------


def check_evidence(link: str) -> str:
    """An evidence reference: an http(s) URL with a host, a ``file:`` URL, or a file path.

    Other schemes (``javascript:``, ``data:``) are refused: evidence links end up in the
    dashboard, and a link must never become a way to run script there.
    """
    value = link.strip()
    if not value:
        raise AttestationError("an evidence link is empty")
    if len(value) > MAX_EVIDENCE_LENGTH:
        raise AttestationError(f"an evidence link is longer than {MAX_EVIDENCE_LENGTH} characters")
    if _CONTROL_CHARS.search(value):
        raise AttestationError(f"evidence link {value[:80]!r} contains control characters")
    if _WINDOWS_DRIVE.match(value):
        return value
    scheme = urlsplit(value).scheme.lower() if ":" in value else ""
    if scheme in ("http", "https"):
        if not urlsplit(value).hostname:
            raise AttestationError(f"evidence URL {value!r} has no host")
        return value
    if scheme in {"file", ""}:
        return value
    raise AttestationError(
        f"evidence link {value!r} uses scheme {scheme!r}",
        hint="give an https:// URL (ticket, wiki, CI run) or a file path such as "
        "evidence/guardrail-export.json",
    )


def _check_text(name: str, value: str, limit: int, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise AttestationError(f"{name} is empty", hint=f"give the {name}")
    if len(text) > limit:
        raise AttestationError(f"{name} is longer than {limit} characters")
    if name != "note" and _CONTROL_CHARS.search(text):
        raise AttestationError(f"{name} {text[:80]!r} contains control characters")
    return text


def _check_time(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    try:
        when = ensure_utc(at)
    except ValueError:
        raise AttestationError(
            f"attestation time {at.isoformat()} has no timezone",
            hint="give an ISO time with an offset, e.g. 2026-01-31T09:00:00+00:00",
        ) from None
    if when > now + CLOCK_SKEW:
        raise AttestationError(f"attestation time {when.isoformat()} is in the future")
    return when


# --- store ---------------------------------------------------------------------------------------


def attest(  # noqa: PLR0917 - the positional order is the documented interface
    session: Session,
    asset_id: str,
    control_id: str,
    state: ControlState | str,
    actor: str,
    evidence: Sequence[str] = (),
    note: str = "",
    at: datetime | None = None,
    *,
    asset_type: str | None = None,
    library: ControlLibrary | None = None,
) -> Attestation:
    """Record that ``control_id`` is in ``state`` on ``asset_id`` (at ``at``, default now).

    The control must exist in ``library`` (default: the packaged library); when ``asset_type``
    is given, the control must apply to it. Returns the stored attestation.
    """
    chosen_library = library if library is not None else get_library()
    control = chosen_library.get(control_id)
    asset = _check_text("asset ID", asset_id, MAX_ID_LENGTH)
    who = _check_text("actor", actor, MAX_ID_LENGTH)
    text = _check_text("note", note, MAX_NOTE_LENGTH, required=False)
    try:
        chosen_state = ControlState(state)
    except ValueError:
        raise AttestationError(
            f"unknown control state {state!r}",
            hint=f"use one of {', '.join(s.value for s in ControlState)}",
        ) from None
    if asset_type is not None and not control.applies(asset_type):
        raise ControlNotApplicableError(
            f"{control.id} does not apply to assets of type {asset_type!r}",
            hint=f"it applies to {', '.join(control.applies_to)}; see the controls for this "
            f"type with: garrison controls list --asset-type {asset_type}",
        )
    if len(evidence) > MAX_EVIDENCE_LINKS:
        raise AttestationError(f"more than {MAX_EVIDENCE_LINKS} evidence links")
    links = tuple(dict.fromkeys(check_evidence(link) for link in evidence))
    now = utcnow()
    when = _check_time(at, now)

    row = ControlAttestationRow(
        asset_id=asset,
        control_id=control.id,
        asset_type=asset_type,
        state=chosen_state.value,
        actor=who,
        evidence=list(links),
        note=text,
        attested_at=when,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    current = session.get(ControlStateRow, (asset, control.id))
    if current is None:
        session.add(_state_row(row))
    elif current.attested_at <= when:
        _copy_into(current, row)
    elif current.asset_type is None and asset_type is not None:
        current.asset_type = asset_type  # a late back-dated statement still teaches the type
    session.flush()
    done = _from_attestation_row(row)
    audit.record(
        session, who, "control.attest", "control_state", f"{asset}/{control.id}", None, done
    )
    return done


def _state_row(row: ControlAttestationRow) -> ControlStateRow:
    state = ControlStateRow(asset_id=row.asset_id, control_id=row.control_id)
    _copy_into(state, row)
    return state


def _copy_into(state: ControlStateRow, row: ControlAttestationRow) -> None:
    state.asset_type = row.asset_type or state.asset_type
    state.state = row.state
    state.actor = row.actor
    state.evidence = list(row.evidence)
    state.note = row.note
    state.attested_at = row.attested_at
    state.recorded_at = row.recorded_at
    state.attestation_id = row.id


def _attestation(row: ControlAttestationRow | ControlStateRow, sequence: int) -> Attestation:
    # History rows and current-state rows carry the same columns; only the sequence differs.
    return Attestation(
        asset_id=row.asset_id,
        control_id=row.control_id,
        state=ControlState(row.state),
        actor=row.actor,
        evidence=tuple(str(e) for e in row.evidence),
        note=row.note,
        attested_at=row.attested_at,
        recorded_at=row.recorded_at,
        asset_type=row.asset_type,
        sequence=sequence,
    )


def _from_attestation_row(row: ControlAttestationRow) -> Attestation:
    return _attestation(row, row.id)


def _from_state_row(row: ControlStateRow) -> Attestation:
    return _attestation(row, row.attestation_id)


def control_states(session: Session, asset_id: str) -> dict[str, Attestation]:
    """The current attestation of each control attested on ``asset_id``, by control ID."""
    rows = session.scalars(
        select(ControlStateRow)
        .where(ControlStateRow.asset_id == asset_id)
        .order_by(ControlStateRow.control_id)
    )
    return {row.control_id: _from_state_row(row) for row in rows}


_STATE_COLUMNS = (
    ControlStateRow.asset_id,
    ControlStateRow.control_id,
    ControlStateRow.state,
    ControlStateRow.actor,
    ControlStateRow.evidence,
    ControlStateRow.note,
    ControlStateRow.attested_at,
    ControlStateRow.recorded_at,
    ControlStateRow.asset_type,
    ControlStateRow.attestation_id,
)
_IN_CHUNK = 5000
"""Asset IDs per ``IN (...)`` list: SQLite limits bound parameters per statement."""


def states_for_assets(
    session: Session, asset_ids: Iterable[str] | None = None
) -> dict[str, dict[str, Attestation]]:
    """Current attestations for many assets at once (all attested assets when None).

    Read as plain rows (one Core select per chunk of IDs, no ORM object per row): a bulk risk
    run reads hundreds of thousands of them.
    """
    query = select(*_STATE_COLUMNS).order_by(ControlStateRow.asset_id, ControlStateRow.control_id)
    if asset_ids is None:
        queries = [query]
    else:
        wanted = sorted(set(asset_ids))
        if not wanted:
            return {}
        queries = [
            query.where(ControlStateRow.asset_id.in_(wanted[start : start + _IN_CHUNK]))
            for start in range(0, len(wanted), _IN_CHUNK)
        ]
    states = {s.value: s for s in ControlState}
    result: dict[str, dict[str, Attestation]] = {}
    current_id: str | None = None
    current: dict[str, Attestation] = {}
    for chunk in queries:
        for row in session.execute(chunk):
            asset_id, control_id, state, actor, evidence = row[0], row[1], row[2], row[3], row[4]
            if asset_id != current_id:
                current_id = asset_id
                current = result.setdefault(asset_id, {})
            current[control_id] = Attestation(
                asset_id,
                control_id,
                states[state],
                actor,
                tuple(str(e) for e in evidence),
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
            )
    return result


def current_states(
    session: Session, asset_ids: Iterable[str] | None = None
) -> dict[str, dict[str, ControlState]]:
    """Only the current state of each attested control, per asset (all attested assets when
    None): what the risk engine needs, without the actor, evidence and times."""
    states = {s.value: s for s in ControlState}
    return {
        asset_id: {control_id: states[state] for control_id, state in found.items()}
        for asset_id, found in current_state_values(session, asset_ids).items()
    }


def current_state_values(
    session: Session, asset_ids: Iterable[str] | None = None
) -> dict[str, dict[str, str]]:
    """``current_states`` as plain strings (``"operational"``, …), for bulk readers: hashing and
    comparing ``ControlState`` members costs a Python call each, and a 10,000-asset run reads
    200,000 states."""
    query = select(ControlStateRow.asset_id, ControlStateRow.control_id, ControlStateRow.state)
    if asset_ids is None:
        queries = [query]
    else:
        wanted = sorted(set(asset_ids))
        queries = [
            query.where(ControlStateRow.asset_id.in_(wanted[start : start + _IN_CHUNK]))
            for start in range(0, len(wanted), _IN_CHUNK)
        ]
    result: dict[str, dict[str, str]] = {}
    # Core execution on the session's connection: plain rows, no ORM loading step per row.
    connection = session.connection()
    for chunk in queries:
        for asset_id, control_id, state in connection.execute(chunk).all():
            found = result.get(asset_id)
            if found is None:
                found = result[asset_id] = {}
            found[control_id] = state
    return result


def history(session: Session, asset_id: str, control_id: str | None = None) -> list[Attestation]:
    """Every attestation on ``asset_id`` (for one control, or all), oldest first."""
    query = select(ControlAttestationRow).where(ControlAttestationRow.asset_id == asset_id)
    if control_id is not None:
        query = query.where(ControlAttestationRow.control_id == control_id.strip().upper())
    query = query.order_by(ControlAttestationRow.attested_at, ControlAttestationRow.id)
    return [_from_attestation_row(row) for row in session.scalars(query)]


def attested_assets(session: Session) -> dict[str, str | None]:
    """Every asset that has an attestation, with the asset type last attested for it."""
    rows = session.execute(
        select(ControlStateRow.asset_id, ControlStateRow.asset_type).order_by(
            ControlStateRow.asset_id, ControlStateRow.attested_at
        )
    )
    found: dict[str, str | None] = {}
    for asset_id, asset_type in rows:
        if asset_type is not None or asset_id not in found:
            found[asset_id] = asset_type
    return found


def operational_controls(states: Mapping[str, Attestation]) -> list[str]:
    """The control IDs of ``states`` that are operational, sorted."""
    return sorted(cid for cid, a in states.items() if a.operational)


def state_map(
    states: Mapping[str, Mapping[str, Attestation]],
) -> dict[str, dict[str, ControlState]]:
    """Attestations reduced to states, the shape coverage takes."""
    return {
        asset: {control: a.state for control, a in controls.items()}
        for asset, controls in states.items()
    }
