"""The Prometheus registry and the Grafana dashboard built on it agree with each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

from garrison.monitoring import metrics

DASHBOARD = Path(__file__).parents[2] / "examples" / "grafana" / "garrison-monitoring.json"
SERIES = re.compile(r"\bgarrison_[a-z_]+")  # trusted repository text, not untrusted input
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _registered() -> set[str]:
    return {family.name for family in metrics.REGISTRY.collect()}


def _base(series: str) -> str:
    for suffix in SUFFIXES:
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def _dashboard_series() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            found.update(_base(name) for name in SERIES.findall(target["expr"]))
    return found


def test_every_dashboard_query_names_a_registered_metric() -> None:
    unknown = _dashboard_series() - _registered()
    assert not unknown, f"the dashboard queries metrics Garrison does not export: {sorted(unknown)}"


def test_every_registered_metric_is_on_the_dashboard() -> None:
    missing = _registered() - _dashboard_series()
    assert not missing, f"metrics with no panel in {DASHBOARD.name}: {sorted(missing)}"


def test_the_text_format_carries_help_and_type_for_each_metric() -> None:
    body, content_type = metrics.render()
    text = body.decode()
    assert content_type.startswith("text/plain")
    for name in _registered():
        assert f"# TYPE garrison_{name.removeprefix('garrison_')}" in text
