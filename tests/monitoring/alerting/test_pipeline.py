"""The pipeline against a real store and real loopback receivers: grouping timers, PagerDuty
trigger/resolve, retries, restarts, silences and inhibition."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from garrison.monitoring.alerting import (
    AlertingConfig,
    AlertManager,
    AlertState,
    OutboxState,
    acknowledge,
    add_silence,
    expire_silence,
    list_alerts,
    list_outbox,
    replay,
    resolve,
)
from garrison.monitoring.alerting.outbox import claim, send_one
from garrison.monitoring.detectors.base import Severity
from garrison.store import Store, open_store
from tests.monitoring.alerting.conftest import ROUTING_KEY, T0, FiringFactory
from tests.monitoring.alerting.receivers import HttpReceiver, SmtpReceiver


def by_path(http: HttpReceiver, path: str) -> list[dict[str, Any]]:
    return [r.body for r in http.accepted() if r.path == path]


def test_burst_of_100_blocks_yields_one_notification_per_route(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    # 100 blocks by one user spread over 10 minutes; the engine flushes and delivers every 6 s.
    sent = 0
    for i in range(100):
        now = T0 + timedelta(seconds=6 * i)
        manager.receive([firing(at=now)], now)
        sent += manager.flush(now).notifications
        manager.deliver(now)
    # high severity, no asset: routes soc-slack and siem (not oncall, not payments)
    assert sent == 2
    assert len(by_path(http, "/slack")) == 1
    assert len(by_path(http, "/siem")) == 1
    assert by_path(http, "/v2/enqueue") == []
    with manager.store.session() as session:
        alerts = list_alerts(session, T0)
    assert len(alerts) == 1
    assert alerts[0].firing_count == 100


def test_group_wait_then_repeat_interval(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing()], T0)
    assert manager.flush(T0 + timedelta(seconds=29)).notifications == 0
    assert manager.flush(T0 + timedelta(seconds=30)).notifications == 2
    # keep firing so it does not resolve; nothing new until repeat_interval (4 h)
    now = T0 + timedelta(seconds=30)
    repeats = 0
    while now < T0 + timedelta(hours=4, minutes=4):
        now += timedelta(minutes=4)  # inside resolve_timeout (5 m): the alert stays firing
        manager.receive([firing(at=now)], now)
        repeats += manager.flush(now).notifications
    assert repeats == 2  # one repeat per route, at 4 h after the first


def test_pagerduty_trigger_then_resolve_with_same_dedup_key(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing(severity=Severity.CRITICAL)], T0)
    manager.flush(T0 + timedelta(seconds=30))
    assert manager.deliver(T0 + timedelta(seconds=30)).sent >= 1
    events = by_path(http, "/v2/enqueue")
    assert [e["event_action"] for e in events] == ["trigger"]
    trigger = events[0]
    assert trigger["routing_key"] == ROUTING_KEY
    payload = trigger["payload"]
    assert isinstance(payload, dict)
    assert payload["severity"] == "critical"
    assert payload["summary"] == "guardrail blocked user u-17"
    # the rule stops firing: resolved after resolve_timeout, announced at the next interval
    later = T0 + timedelta(minutes=6)
    report = manager.flush(later)
    assert report.resolved == 1
    manager.deliver(later)
    events = by_path(http, "/v2/enqueue")
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]
    assert events[1]["dedup_key"] == trigger["dedup_key"]
    # the stored alert is resolved and its end is the resolve deadline
    with manager.store.session() as session:
        (alert,) = list_alerts(session, later)
    assert alert.state is AlertState.RESOLVED
    assert alert.ends_at == T0 + timedelta(minutes=5)
    assert alert.fingerprint == trigger["dedup_key"]


def test_manual_resolve_and_acknowledge_reach_pagerduty(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver, config: AlertingConfig
) -> None:
    (alert,) = manager.receive([firing(severity=Severity.CRITICAL)], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    with manager.store.session() as session:
        acknowledge(session, config, alert.id, "alice", now)
    manager.deliver(now)
    with manager.store.session() as session:
        resolved = resolve(session, alert.id, "alice", now)
    assert resolved.resolved_by == "alice"
    later = now + timedelta(minutes=5)
    manager.flush(later)
    manager.deliver(later)
    actions = [e["event_action"] for e in by_path(http, "/v2/enqueue")]
    assert actions == ["trigger", "acknowledge", "resolve"]


def test_channel_down_then_up_delivers_exactly_once(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    http.fail_next = 2  # slack and siem both fail the first time
    first = manager.deliver(now, rng=lambda: 0.0)
    assert first.retried == 2
    assert first.sent == 0
    # nothing is retried before the backoff (10 s x jitter 0.5 = 5 s)
    assert manager.deliver(now + timedelta(seconds=4), rng=lambda: 0.0).sent == 0
    second = manager.deliver(now + timedelta(seconds=5), rng=lambda: 0.0)
    assert second.sent == 2
    assert manager.deliver(now + timedelta(hours=1)).sent == 0
    assert len(http.requests) == 2  # exactly one accepted request per channel
    with manager.store.session() as session:
        rows = list_outbox(session)
    assert {r.state for r in rows} == {OutboxState.SENT}
    assert {r.attempts for r in rows} == {2}


def test_restart_mid_delivery_loses_nothing(
    store: Store, config: AlertingConfig, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager = AlertManager(store, config)
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    # a worker claims the rows and sends them, then dies before recording the outcome
    claimed = claim(store, now, config.delivery)
    assert len(claimed) == 2
    send_one(store, config, claimed[0][0])
    # a new process on the same database: before the lease runs out nothing is re-sent
    restarted_store = open_store(store.url)
    try:
        restarted = AlertManager(restarted_store, config)
        assert restarted.deliver(now + timedelta(minutes=1)).sent == 0
        report = restarted.deliver(now + timedelta(minutes=2))
        assert report.sent == 2
        with restarted_store.session() as session:
            assert {r.state for r in list_outbox(session)} == {OutboxState.SENT}
    finally:
        restarted_store.dispose()
    # the first row reached the receiver twice with one idempotency key: one accepted delivery
    assert len(http.requests) == 3
    assert len(http.accepted()) == 2


def test_dead_letter_after_max_attempts_and_replay(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    http.fail_next = 1000
    for step in range(5):
        manager.deliver(now + timedelta(minutes=10 * step))
    with manager.store.session() as session:
        dead = list_outbox(session, states=[OutboxState.DEAD])
    assert len(dead) == 2
    assert all(d.attempts == 3 and "HTTP 503" in d.last_error for d in dead)
    http.fail_next = 0
    with manager.store.session() as session:
        for entry in dead:
            replay(session, entry.id, now + timedelta(hours=1))
    assert manager.deliver(now + timedelta(hours=1)).sent == 2
    assert len(http.accepted()) == 2


def test_client_error_is_dead_at_once(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    http.fail_next = 2
    http.status_when_failing = 400
    assert manager.deliver(now).dead == 2


def test_silence_mutes_until_expired(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    with manager.store.session() as session:
        silence = add_silence(
            session,
            matchers=["user.id=u-17"],
            ends_at=T0 + timedelta(hours=2),
            created_by="alice",
            comment="pen test",
            now=T0,
        )
    manager.receive([firing(), firing(user="u-99")], T0)
    now = T0 + timedelta(seconds=30)
    assert manager.flush(now).notifications == 2  # only u-99's groups
    manager.deliver(now)
    users = {a["labels"]["user.id"] for body in by_path(http, "/siem") for a in body["alerts"]}
    assert users == {"u-99"}
    with manager.store.session() as session:
        muted = [a for a in list_alerts(session, now) if a.silenced_by]
        assert [a.labels["user.id"] for a in muted] == ["u-17"]
        expire_silence(session, silence.id, "alice", now)
    manager.receive([firing(at=now)], now)
    later = now + timedelta(seconds=30)
    assert manager.flush(later).notifications == 2


def test_critical_alert_inhibits_lower_ones_for_the_same_user(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive(
        [
            firing(rule_id="RULE-A", severity=Severity.CRITICAL),
            firing(rule_id="RULE-B", severity=Severity.MEDIUM),
            firing(rule_id="RULE-B", severity=Severity.MEDIUM, user="u-2"),
        ],
        T0,
    )
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    manager.deliver(now)
    siem = by_path(http, "/siem")
    names = sorted(
        (a["labels"]["alertname"], a["labels"]["user.id"]) for body in siem for a in body["alerts"]
    )
    assert names == [("RULE-A", "u-17"), ("RULE-B", "u-2")]


def test_severity_follows_asset_risk(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    manager.receive(
        [
            firing(rule_id="RULE-X", asset="agent-prod", user="u-1"),
            firing(rule_id="RULE-X", asset="sandbox", user="u-2"),
        ],
        T0,
    )
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    manager.deliver(now)
    with manager.store.session() as session:
        alerts = {a.asset: a for a in list_alerts(session, now)}
    assert alerts["agent-prod"].severity == "critical"
    assert alerts["agent-prod"].team == "payments"
    assert alerts["agent-prod"].playbook == "PB-PROMPT-INJECTION"
    assert alerts["sandbox"].severity == "low"
    pages = by_path(http, "/v2/enqueue")
    assert len(pages) == 1
    assert pages[0]["payload"]["component"] == "agent-prod"
    # the payments team routes to e-mail, over real SMTP
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "payments-oncall@example.com"
    assert "agent-prod" in mail.get_payload()
    assert mail["X-Garrison-Idempotency-Key"]


def test_slack_block_kit_escapes_hostile_text(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing(user="<!channel> & <https://evil|click>")], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    manager.deliver(now)
    (slack,) = by_path(http, "/slack")
    assert "text" in slack
    blocks = slack["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0]["type"] == "header"
    section = blocks[1]["text"]["text"]
    assert "<!channel>" not in section
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in section


def test_webhook_carries_alertmanager_v4_payload(
    manager: AlertManager, firing: FiringFactory, http: HttpReceiver
) -> None:
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    manager.deliver(now)
    (body,) = by_path(http, "/siem")
    assert body["version"] == "4"
    assert body["status"] == "firing"
    assert body["receiver"] == "siem"
    assert body["groupLabels"] == {"alertname": "RULE-RAPID-GUARDRAIL-BLOCKS", "user.id": "u-17"}
    (alert,) = body["alerts"]
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["generatorURL"].startswith("https://garrison.example.com/alerts/")
    assert alert["annotations"]["playbook"] == "PB-PROMPT-INJECTION"


def test_group_timers_survive_a_restart(
    store: Store, config: AlertingConfig, firing: FiringFactory
) -> None:
    first = AlertManager(store, config)
    first.receive([firing()], T0)
    assert first.flush(T0 + timedelta(seconds=30)).notifications == 2
    restarted = AlertManager(store, config)
    now = T0 + timedelta(minutes=1)
    restarted.receive([firing(at=now)], now)
    assert restarted.flush(now + timedelta(minutes=1)).notifications == 0


def test_refire_after_resolve_opens_a_new_alert(
    manager: AlertManager, firing: FiringFactory
) -> None:
    manager.receive([firing()], T0)
    manager.flush(T0 + timedelta(minutes=10))
    later = T0 + timedelta(minutes=20)
    manager.receive([firing(at=later)], later)
    with manager.store.session() as session:
        states = sorted(a.state.value for a in list_alerts(session, later))
    assert states == ["firing", "resolved"]


def test_people_changing_alerts_and_silences_are_in_the_audit_trail(
    manager: AlertManager, firing: FiringFactory, config: AlertingConfig
) -> None:
    from garrison import audit

    (alert,) = manager.receive([firing(severity=Severity.CRITICAL)], T0)
    now = T0 + timedelta(seconds=30)
    with manager.store.session() as session:
        acknowledge(session, config, alert.id, "user:alice", now)
        resolve(session, alert.id, "user:bob", now)
        silence = add_silence(
            session,
            matchers=["user.id=u-1"],
            ends_at=now + timedelta(hours=2),
            created_by="user:carol",
            comment="pen test of the support bot",
            now=now,
        )
        expire_silence(session, silence.id, "user:dave", now + timedelta(minutes=1))
    with manager.store.session() as session:
        trail = [e for e in audit.entries(session) if e.target_type in ("alert", "silence")]
        assert audit.verify(session).ok
    assert [(e.actor, e.action, e.target_id) for e in trail] == [
        ("user:alice", "alert.acknowledge", str(alert.id)),
        ("user:bob", "alert.resolve", str(alert.id)),
        ("user:carol", "silence.create", str(silence.id)),
        ("user:dave", "silence.expire", str(silence.id)),
    ]
    ack, res, created, expired = trail
    assert (ack.before["state"], ack.after["state"]) == ("firing", "acknowledged")
    assert (res.before["state"], res.after["state"]) == ("acknowledged", "resolved")
    assert res.after["resolved_by"] == "user:bob"
    assert created.before is None and created.after["matchers"] == ['user.id="u-1"']
    assert expired.before["status"] == "active" and expired.after["expired_by"] == "user:dave"
