"""``GET /metrics``: the monitoring pipeline's Prometheus metrics, in the text exposition format.

Scrape it with a read-scoped token (``authorization: {credentials: <token>}`` in the Prometheus
scrape config); ``examples/grafana/garrison-monitoring.json`` is a dashboard over these series.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from garrison.monitoring import metrics

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)
