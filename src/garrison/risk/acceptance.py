"""Risk acceptance: an owner accepts a residual risk above appetite, with a reason, an approver
and an expiry.

Acceptances are never edited. Whether one still holds is computed when it is read: past its
expiry it has *expired* and the risk is open again; if the asset was re-assessed at a higher level
than the one accepted, it is *exceeded*; a newer acceptance *supersedes* it. ``open_risk_gaps``
lists every latest assessment above appetite that no acceptance currently covers, for the
inventory gap report and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison import audit
from garrison.core.errors import GarrisonError
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.risk.config import RiskConfig, load_risk_config
from garrison.risk.engine import latest_all, require_latest
from garrison.risk.models import Assessment
from garrison.store.models.risk import RiskAcceptanceRow

MAX_TEXT = 2000


class AcceptanceError(GarrisonError):
    """An acceptance the caller can fix."""


class AcceptanceStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    EXCEEDED = "exceeded"
    SUPERSEDED = "superseded"


class GapKind(StrEnum):
    UNACCEPTED = "unaccepted"
    ACCEPTANCE_EXPIRED = "acceptance_expired"
    ACCEPTANCE_EXCEEDED = "acceptance_exceeded"


@dataclass(frozen=True)
class Acceptance:
    id: int
    asset_id: str
    org: str
    assessment_id: int
    level: str
    residual: float
    reason: str
    owner: str
    approver: str
    accepted_at: datetime
    expires_at: datetime
    status: AcceptanceStatus


@dataclass(frozen=True)
class RiskGap:
    asset_id: str
    asset_name: str
    org: str
    level: str
    residual: float
    kind: GapKind
    acceptance_id: int | None = None
    expired_at: datetime | None = None

    @property
    def message(self) -> str:
        if self.kind is GapKind.ACCEPTANCE_EXPIRED and self.expired_at is not None:
            return (
                f"{self.level} residual risk {self.residual:g}: acceptance "
                f"#{self.acceptance_id} expired {self.expired_at:%Y-%m-%d}"
            )
        if self.kind is GapKind.ACCEPTANCE_EXCEEDED:
            return (
                f"{self.level} residual risk {self.residual:g} is above the level accepted in "
                f"#{self.acceptance_id}"
            )
        return f"{self.level} residual risk {self.residual:g} is above appetite and not accepted"


def _text(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise AcceptanceError(f"{name} is required")
    if len(value) > MAX_TEXT:
        raise AcceptanceError(f"{name} is longer than {MAX_TEXT} characters")
    return value


def expiry_moment(value: datetime | date) -> datetime:
    """A date expires at the end of that day, UTC."""
    if isinstance(value, datetime):
        return ensure_utc(value)
    return datetime.combine(value, time.max, tzinfo=UTC)


def _status(
    row: RiskAcceptanceRow,
    now: datetime,
    current_rank: int | None,
    accepted_rank: int,
    newest: bool,
) -> AcceptanceStatus:
    if not newest:
        return AcceptanceStatus.SUPERSEDED
    if row.expires_at <= now:
        return AcceptanceStatus.EXPIRED
    if current_rank is not None and current_rank > accepted_rank:
        return AcceptanceStatus.EXCEEDED
    return AcceptanceStatus.ACTIVE


def _rank(config: RiskConfig, level: str) -> int:
    try:
        return config.rank(level)
    except ValueError:
        # A level removed from the model since: treat it as the top level (never under-report).
        return len(config.levels) - 1


def accept(
    session: Session,
    asset_id: str,
    *,
    reason: str,
    owner: str,
    approver: str,
    expires: datetime | date,
    config: RiskConfig,
    now: datetime | None = None,
) -> Acceptance:
    """Accept the asset's latest assessed residual risk until ``expires``."""
    now = utcnow() if now is None else ensure_utc(now)
    reason, owner, approver = (
        _text("reason", reason),
        _text("owner", owner),
        _text("approver", approver),
    )
    if owner.lower() == approver.lower():
        raise AcceptanceError(
            "the approver must be someone other than the owner accepting the risk",
            hint="a risk acceptance needs a second person (segregation of duties)",
        )
    assessment = require_latest(session, asset_id)
    level = (
        config.level(assessment.level)
        if assessment.level in {lv.name for lv in config.levels}
        else None
    )
    if level is not None and level.within_appetite:
        raise AcceptanceError(
            f"the residual risk is {assessment.level} ({assessment.residual:g}), within appetite: "
            "there is nothing to accept"
        )
    expires_at = expiry_moment(expires)
    if expires_at <= now:
        raise AcceptanceError(f"the expiry {expires_at:%Y-%m-%d %H:%M} UTC is not in the future")
    if level is not None and level.max_acceptance_days is not None:
        latest_allowed = now + timedelta(days=level.max_acceptance_days)
        if expires_at > latest_allowed:
            raise AcceptanceError(
                f"a {level.name} risk can be accepted for at most {level.max_acceptance_days} "
                f"days (until {latest_allowed:%Y-%m-%d})",
                hint="set max_acceptance_days for the level in risk.yaml to change this",
            )
    row = RiskAcceptanceRow(
        org=assessment.org,
        asset_id=assessment.asset_id,
        assessment_id=assessment.id,
        level=assessment.level,
        residual=assessment.residual,
        reason=reason,
        owner=owner,
        approver=approver,
        accepted_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    done = _acceptance(row, AcceptanceStatus.ACTIVE)
    audit.record(
        session, approver, "risk.accept", "risk_acceptance", str(row.id), None, done, org=row.org
    )
    return done


def _acceptance(row: RiskAcceptanceRow, status: AcceptanceStatus) -> Acceptance:
    return Acceptance(
        id=row.id,
        asset_id=row.asset_id,
        org=row.org,
        assessment_id=row.assessment_id,
        level=row.level,
        residual=row.residual,
        reason=row.reason,
        owner=row.owner,
        approver=row.approver,
        accepted_at=row.accepted_at,
        expires_at=row.expires_at,
        status=status,
    )


def acceptances(
    session: Session,
    config: RiskConfig,
    *,
    asset_id: str | None = None,
    status: AcceptanceStatus | None = None,
    now: datetime | None = None,
) -> list[Acceptance]:
    """Every acceptance (newest first) with its status as of ``now``."""
    now = utcnow() if now is None else ensure_utc(now)
    query = select(RiskAcceptanceRow).order_by(RiskAcceptanceRow.id.desc())
    if asset_id is not None:
        query = query.where(RiskAcceptanceRow.asset_id == asset_id)
    rows = list(session.scalars(query))
    current = {a.asset_id: a.level for a in latest_all(session)} if rows else {}
    seen: set[str] = set()
    found = []
    for row in rows:
        newest = row.asset_id not in seen
        seen.add(row.asset_id)
        level = current.get(row.asset_id)
        result = _status(
            row,
            now,
            None if level is None else _rank(config, level),
            _rank(config, row.level),
            newest,
        )
        if status is None or result is status:
            found.append(_acceptance(row, result))
    return found


def _gap(assessment: Assessment, kind: GapKind, acceptance: Acceptance | None = None) -> RiskGap:
    expired = acceptance is not None and acceptance.status is AcceptanceStatus.EXPIRED
    return RiskGap(
        asset_id=assessment.asset_id,
        asset_name=assessment.explanation.asset_name,
        org=assessment.org,
        level=assessment.level,
        residual=assessment.residual,
        kind=kind,
        acceptance_id=None if acceptance is None else acceptance.id,
        expired_at=acceptance.expires_at if expired and acceptance is not None else None,
    )


def open_risk_gaps(
    session: Session,
    config: RiskConfig | None = None,
    *,
    content_dir: Path | None = None,
    now: datetime | None = None,
) -> list[RiskGap]:
    """Latest assessments above appetite that no acceptance covers now, highest residual first.
    For the inventory gap report and the dashboard: ``open_risk_gaps(session)``."""
    config = config or load_risk_config(content_dir)
    now = utcnow() if now is None else ensure_utc(now)
    newest: dict[str, Acceptance] = {}
    for acceptance in acceptances(session, config, now=now):
        newest.setdefault(acceptance.asset_id, acceptance)
    gaps = []
    for assessment in latest_all(session):
        try:
            within = config.level(assessment.level).within_appetite
        except ValueError:
            within = False
        if within:
            continue
        covering = newest.get(assessment.asset_id)
        if covering is None:
            gaps.append(_gap(assessment, GapKind.UNACCEPTED))
        elif covering.status is AcceptanceStatus.EXPIRED:
            gaps.append(_gap(assessment, GapKind.ACCEPTANCE_EXPIRED, covering))
        elif covering.status is AcceptanceStatus.EXCEEDED:
            gaps.append(_gap(assessment, GapKind.ACCEPTANCE_EXCEEDED, covering))
    return gaps
