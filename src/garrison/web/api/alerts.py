"""``/api/v1/alerts`` and ``/api/v1/silences``: alerts for people, and silences.

State changes are recorded as the authenticated caller (a signed-in person or a named token);
an ``actor`` a client still sends is ignored. Acknowledging tells PagerDuty receivers (through the
outbox, like every notification).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError
from garrison.core.settings import Settings
from garrison.core.timeutil import utcnow
from garrison.identity import Principal
from garrison.monitoring.alerting import (
    Alert,
    AlertingConfig,
    AlertState,
    Silence,
    acknowledge,
    add_silence,
    expire_silence,
    get_alert,
    list_alerts,
    list_silences,
    load_alerting_config,
    resolve,
)
from garrison.monitoring.alerting.config import parse_duration
from garrison.monitoring.events import DEFAULT_ORG
from garrison.web.deps import StoreDep
from garrison.web.security import PrincipalDep, require_visible, scoped_org

router = APIRouter(prefix="/api/v1", tags=["alerts"])

ANALYST = {"x-garrison-scope": "analyst"}
"""Acknowledging, resolving and silencing is an analyst's job, not only an administrator's."""


def app_alerting(request: Request) -> AlertingConfig:
    settings = request.app.state.settings
    content_dir = settings.content_dir if isinstance(settings, Settings) else None
    return load_alerting_config(content_dir)


AlertingDep = Annotated[AlertingConfig, Depends(app_alerting)]


class AlertOut(BaseModel):
    id: int
    org: str
    fingerprint: str = Field(description="Stable hash of the identity labels; PagerDuty dedup_key.")
    rule_id: str
    severity: str = Field(description="After the asset's risk level is applied.")
    state: AlertState
    asset: str
    team: str
    playbook: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    last_received_at: datetime
    ends_at: datetime | None
    firing_count: int
    event_count: int
    firing_ids: list[str]
    event_ids: list[str]
    acknowledged_by: str | None
    resolved_by: str | None
    silenced_by: list[int]


class SilenceOut(BaseModel):
    id: int
    org: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    expired_by: str | None
    status: str


class ActorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(
        default=None,
        max_length=320,
        description="Ignored: the change is recorded as the authenticated caller.",
    )


# Row ids are 64-bit in both stores; a larger number in a path is a 422, not a driver error.
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SilenceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
OptionalActor = Annotated[ActorIn | None, Body()]


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[Annotated[str, Field(max_length=1000)]] = Field(
        min_length=1, max_length=50, examples=[["user.id=u1", 'severity!="critical"']]
    )
    duration: str | None = Field(default=None, examples=["2h"], description="Or give ends_at.")
    ends_at: AwareDatetime | None = None
    starts_at: AwareDatetime | None = None
    comment: str = Field(min_length=1, max_length=2000)
    actor: str | None = Field(
        default=None,
        max_length=320,
        description="Ignored: the change is recorded as the authenticated caller.",
    )

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


def alert_out(a: Alert) -> AlertOut:
    data: dict[str, Any] = {
        **a.__dict__,
        "state": a.state,
        "asset": a.asset,
        "team": a.team,
        "playbook": a.playbook,
    }
    return AlertOut.model_validate(data)


def silence_out(s: Silence) -> SilenceOut:
    return SilenceOut.model_validate(s.to_dict())


@router.get("/alerts")
def get_alerts(
    store: StoreDep,
    principal: PrincipalDep,
    state: Annotated[list[AlertState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    """Alerts, newest first, optionally only those in the given states."""
    with store.session() as session:
        org = scoped_org(principal, None)
        found = list_alerts(session, utcnow(), org=org, states=state, limit=limit)
        return [alert_out(a) for a in found]


@router.get("/alerts/{alert_id}")
def get_one_alert(alert_id: AlertId, store: StoreDep, principal: PrincipalDep) -> AlertOut:
    with store.session() as session:
        alert = get_alert(session, alert_id, utcnow())
    require_visible(principal, alert.org, f"alert {alert_id}")
    return alert_out(alert)


def _visible(session: Session, alert_id: int, principal: Principal) -> None:
    require_visible(principal, get_alert(session, alert_id, utcnow()).org, f"alert {alert_id}")


@router.post("/alerts/{alert_id}/ack", openapi_extra=ANALYST)
def post_ack(
    alert_id: AlertId,
    store: StoreDep,
    config: AlertingDep,
    principal: PrincipalDep,
    body: OptionalActor = None,
) -> AlertOut:
    """Acknowledge a firing alert."""
    with store.session() as session:
        _visible(session, alert_id, principal)
        return alert_out(acknowledge(session, config, alert_id, principal.actor, utcnow()))


@router.post("/alerts/{alert_id}/resolve", openapi_extra=ANALYST)
def post_resolve(
    alert_id: AlertId, store: StoreDep, principal: PrincipalDep, body: OptionalActor = None
) -> AlertOut:
    """Resolve an alert by hand; receivers that were told it fired are told it resolved."""
    with store.session() as session:
        _visible(session, alert_id, principal)
        return alert_out(resolve(session, alert_id, principal.actor, utcnow()))


@router.get("/silences")
def get_silences(
    store: StoreDep, principal: PrincipalDep, include_expired: Annotated[bool, Query()] = False
) -> list[SilenceOut]:
    with store.session() as session:
        org = scoped_org(principal, None)
        found = list_silences(session, utcnow(), org=org, include_expired=include_expired)
        return [silence_out(s) for s in found]


@router.post("/silences", status_code=201, openapi_extra=ANALYST)
def post_silence(body: SilenceIn, store: StoreDep, principal: PrincipalDep) -> SilenceOut:
    """Create a silence from matchers and a duration (or an end time)."""
    now = utcnow()
    if (body.duration is None) == (body.ends_at is None):
        raise GarrisonError("give duration or ends_at (one of them)", hint='e.g. "duration": "2h"')
    start = body.starts_at or now
    ends = body.ends_at if body.ends_at is not None else start + _length(body.duration)
    with store.session() as session:
        silence = add_silence(
            session,
            matchers=body.matchers,
            starts_at=body.starts_at,
            ends_at=ends,
            created_by=principal.actor,
            comment=body.comment,
            now=now,
            org=principal.org or DEFAULT_ORG,
        )
        return silence_out(silence)


def _length(duration: str | None) -> timedelta:
    return parse_duration(duration or "0s")


@router.delete("/silences/{silence_id}", openapi_extra=ANALYST)
def delete_silence(
    silence_id: SilenceId,
    store: StoreDep,
    principal: PrincipalDep,
    actor: Annotated[
        str | None, Query(max_length=320, description="Ignored: recorded as the caller.")
    ] = None,
) -> SilenceOut:
    """Expire a silence now (it stays listed with ``include_expired``)."""
    with store.session() as session:
        visible = list_silences(session, utcnow(), org=scoped_org(principal, None))
        if principal.org is not None and silence_id not in {s.id for s in visible}:
            raise HTTPException(404, f"no silence {silence_id}")
        return silence_out(expire_silence(session, silence_id, principal.actor, utcnow()))
