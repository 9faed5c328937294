"""``/alerts``: open and recent alerts (state, severity, rule, asset, owner team, playbook) and
the silences in force, with the analyst's actions: acknowledge, resolve, silence, and expire a
silence. Read and changed through the alerting pillar's public functions, the same ones the JSON
API and ``garrison alerts`` call; every change is recorded as the signed-in person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from garrison.core.errors import GarrisonError
from garrison.core.timeutil import utcnow
from garrison.identity import Scope
from garrison.monitoring.alerting import (
    AlertState,
    acknowledge,
    add_silence,
    expire_silence,
    list_alerts,
    list_silences,
    resolve,
)
from garrison.monitoring.alerting.config import parse_duration
from garrison.monitoring.events import DEFAULT_ORG
from garrison.web.api.alerts import ANALYST, AlertId, AlertingDep, SilenceId
from garrison.web.deps import StoreDep
from garrison.web.security import PrincipalDep, optional_principal
from garrison.web.templating import render

router = APIRouter(prefix="/alerts", include_in_schema=False)

MAX_ROWS = 500


@router.get("")
def alerts_index(
    request: Request,
    store: StoreDep,
    state: Annotated[AlertState | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 200,
) -> Response:
    now = utcnow()
    principal = optional_principal(request)
    with store.session() as session:
        alerts = list_alerts(session, now, states=[state] if state else None, limit=limit)
        silences = list_silences(session, now)
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.state.value] = counts.get(alert.state.value, 0) + 1
    context = {
        "alerts": alerts,
        "silences": silences,
        "counts": counts,
        "state": state.value if state else "",
        "states": [s.value for s in AlertState],
        # Buttons only for those allowed to press them; the gate checks again on the POST.
        "can_act": principal is not None and principal.allows(Scope.ANALYST),
    }
    return render(request, "alerts/index.html", context)


def _back() -> RedirectResponse:
    # 303: the browser follows with a GET, so a reload does not post the action again.
    return RedirectResponse("/alerts", status_code=303)


@router.post("/{alert_id}/ack", openapi_extra=ANALYST)
def acknowledge_alert(
    alert_id: AlertId, store: StoreDep, config: AlertingDep, principal: PrincipalDep
) -> Response:
    with store.session() as session:
        acknowledge(session, config, alert_id, principal.actor, utcnow())
    return _back()


@router.post("/{alert_id}/resolve", openapi_extra=ANALYST)
def resolve_alert(alert_id: AlertId, store: StoreDep, principal: PrincipalDep) -> Response:
    with store.session() as session:
        resolve(session, alert_id, principal.actor, utcnow())
    return _back()


@router.post("/silences", openapi_extra=ANALYST)
def create_silence(
    store: StoreDep,
    principal: PrincipalDep,
    matchers: Annotated[str, Form(max_length=10_000)] = "",
    duration: Annotated[str, Form(max_length=20)] = "2h",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Matchers one per line (``user.id=u-17``, ``alertname=~"RULE-.*"``), a duration, and why."""
    now = utcnow()
    try:
        ends_at = now + parse_duration(duration)
    except ValueError as exc:  # the message names the duration and the fault
        raise GarrisonError(
            str(exc), hint="e.g. 30m, 2h or 1d; a silence lasts 366 days at most"
        ) from None
    lines = [line.strip() for line in matchers.splitlines() if line.strip()]
    with store.session() as session:
        add_silence(
            session,
            matchers=lines,
            ends_at=ends_at,
            created_by=principal.actor,
            comment=comment,
            now=now,
            org=principal.org or DEFAULT_ORG,
        )
    return _back()


@router.post("/silences/{silence_id}/expire", openapi_extra=ANALYST)
def expire_silence_now(silence_id: SilenceId, store: StoreDep, principal: PrincipalDep) -> Response:
    with store.session() as session:
        expire_silence(session, silence_id, principal.actor, utcnow())
    return _back()
