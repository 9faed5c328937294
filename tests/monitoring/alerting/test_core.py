"""The pure core: matchers, routing tree, fingerprints, inhibition, silences, timers, severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.monitoring.alerting import AlertingConfig, load_alerting_config
from garrison.monitoring.alerting.config import parse_duration
from garrison.monitoring.alerting.core import (
    AssetContext,
    InhibitRuleSpec,
    adjusted_severity,
    fingerprint,
    has_news,
    inhibited,
    match_routes,
    notification_due,
    silenced_by,
)
from garrison.monitoring.alerting.matchers import MatcherError, MatchOp, parse_matcher
from garrison.monitoring.detectors.base import Severity


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity="critical"', "severity", MatchOp.EQUAL, "critical"),
        ("user.id=u1", "user.id", MatchOp.EQUAL, "u1"),
        ('team!="payments"', "team", MatchOp.NOT_EQUAL, "payments"),
        ('owasp=~".*LLM01.*"', "owasp", MatchOp.REGEX, ".*LLM01.*"),
        ("a!~b=c", "a", MatchOp.NOT_REGEX, "b=c"),
        ('x="say \\"hi\\""', "x", MatchOp.EQUAL, 'say "hi"'),
    ],
)
def test_parse_matcher(text: str, name: str, op: MatchOp, value: str) -> None:
    m = parse_matcher(text)
    assert (m.name, m.op, m.value) == (name, op, value)
    assert parse_matcher(str(m)) == m


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("severity", "no operator"),
        ("=x", "no operator"),
        ("1abc=x", "label name"),
        ('a="b', "unbalanced"),
        ("a=~(b", "regular expression"),
        ("a=~(a+)+\\1", "regular expression"),  # a backreference: RE2 refuses it
    ],
)
def test_bad_matchers_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(MatcherError, match=problem):
        parse_matcher(text)


def test_regex_is_anchored_and_missing_label_is_empty() -> None:
    m = parse_matcher('team=~"pay"')
    assert not m.matches({"team": "payments"})
    assert parse_matcher('team=~"pay.*"').matches({"team": "payments"})
    assert parse_matcher('team!="x"').matches({})
    assert parse_matcher('team=""').matches({})


def test_hostile_regex_input_is_linear() -> None:
    m = parse_matcher('user.id=~"(a+)+$"')
    assert not m.matches({"user.id": "a" * 100_000 + "!"})


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=8))
def test_fingerprint_ignores_order(labels: dict[str, str]) -> None:
    assert fingerprint(labels) == fingerprint(dict(reversed(list(labels.items()))))


def test_fingerprint_differs_by_value() -> None:
    assert fingerprint({"a": "1"}) != fingerprint({"a": "2"})
    assert len(fingerprint({"a": "1"})) == 32


@pytest.fixture(scope="module")
def packaged() -> AlertingConfig:
    return load_alerting_config()


def test_routing_tree_with_continue(packaged: AlertingConfig) -> None:
    critical = {"severity": "critical", "alertname": "R"}
    assert [r.receiver for r in match_routes(packaged.tree, critical)] == [
        "oncall-pagerduty",
        "soc-slack",
        "siem-webhook",
    ]
    high = {"severity": "high", "alertname": "R"}
    assert [r.receiver for r in match_routes(packaged.tree, high)] == ["soc-slack", "siem-webhook"]


def test_first_match_wins_without_continue() -> None:
    config = AlertingConfig.model_validate(
        {
            "route": {
                "receiver": "a",
                "routes": [
                    {"matchers": ["team=x"], "receiver": "b", "group_wait": "1s"},
                    {"matchers": ["team=~x|y"], "receiver": "c"},
                ],
            },
            "receivers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
            "severity_matrix": {"levels": {s.value: {"low": s.value} for s in Severity}},
        }
    )
    routes = match_routes(config.tree, {"team": "x"})
    assert [r.receiver for r in routes] == ["b"]
    assert routes[0].group_wait == timedelta(seconds=1)
    assert routes[0].group_interval == timedelta(minutes=5)  # Alertmanager's default, inherited
    assert [r.receiver for r in match_routes(config.tree, {"team": "y"})] == ["c"]
    assert [r.receiver for r in match_routes(config.tree, {"team": "z"})] == ["a"]


def test_inhibition_mutes_lower_alerts_of_the_same_user_only() -> None:
    rule = InhibitRuleSpec(
        (parse_matcher("severity=critical"),),
        (parse_matcher("severity=~high|medium"),),
        ("user.id",),
    )
    alerts = {
        "crit": {"severity": "critical", "user.id": "u1"},
        "high": {"severity": "high", "user.id": "u1"},
        "other": {"severity": "high", "user.id": "u2"},
    }
    assert inhibited(alerts, [rule]) == {"high"}
    assert inhibited({"crit": alerts["crit"]}, [rule]) == set()


def test_silence_needs_all_matchers() -> None:
    silences = [(1, [parse_matcher("user.id=u1"), parse_matcher("severity=high")])]
    assert silenced_by({"user.id": "u1", "severity": "high"}, silences) == [1]
    assert silenced_by({"user.id": "u1", "severity": "low"}, silences) == []


def test_severity_matrix_uses_asset_risk(packaged: AlertingConfig) -> None:
    matrix = packaged.severity_matrix
    critical_agent = AssetContext("a", risk_level="critical")
    sandbox = AssetContext("b", risk_level="low")
    assert adjusted_severity(matrix, Severity.HIGH, critical_agent, True) is Severity.CRITICAL
    assert adjusted_severity(matrix, Severity.HIGH, sandbox, True) is Severity.LOW
    assert adjusted_severity(matrix, Severity.HIGH, None, True) is Severity.MEDIUM
    assert adjusted_severity(matrix, Severity.HIGH, None, False) is Severity.HIGH


T = datetime(2026, 1, 1, tzinfo=UTC)


def test_timers(packaged: AlertingConfig) -> None:
    route = packaged.tree

    def due(now: timedelta, last: timedelta | None, news: bool, firing: bool = True) -> bool:
        return notification_due(
            now=T + now,
            first_seen=T,
            last_sent=None if last is None else T + last,
            news=news,
            any_firing=firing,
            route=route,
        )

    assert not due(timedelta(seconds=29), None, True)
    assert due(timedelta(seconds=30), None, True)
    assert not due(timedelta(minutes=4), timedelta(0), True)
    assert due(timedelta(minutes=5), timedelta(0), True)
    assert not due(timedelta(hours=3), timedelta(0), False)
    assert due(timedelta(hours=4), timedelta(0), False)
    assert not due(timedelta(hours=4), timedelta(0), False, firing=False)
    assert has_news(firing={2}, resolved=set(), last_firing={1}, last_resolved=set())
    assert not has_news(firing={1}, resolved=set(), last_firing={1, 2}, last_resolved=set())
    assert has_news(firing=set(), resolved={1}, last_firing={1}, last_resolved=set())


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("4h", 14400), ("1h30m", 5400), ("250ms", 0.25)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "1h30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("value", ["999999999999d", "9999999999999999999w", "36501d", 1e20])
def test_durations_past_what_a_timedelta_holds_are_refused_as_bad_values(value: object) -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration(value)
    assert parse_duration("36500d").days == 36_500
