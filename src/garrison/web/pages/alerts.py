"""``/alerts``: open and recent alerts (state, severity, rule, asset, owner team, playbook) and
the silences in force. Read through the alerting pillar's public functions, the same values the
JSON API and ``garrison alerts list`` return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from garrison.core.timeutil import utcnow
from garrison.monitoring.alerting import AlertState, list_alerts, list_silences
from garrison.web.deps import StoreDep
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
    }
    return render(request, "alerts/index.html", context)
