"""The pure core of alerting: labels, fingerprints, routing, grouping, inhibition, silencing and
the decision whether a group is due a notification. No database, no clock, no network: every
function takes what it needs and returns a value, so the rules are tested in isolation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from garrison.monitoring.alerting.config import ResolvedRoute, SeverityMatrix, severity_rank
from garrison.monitoring.alerting.matchers import Matcher, matches_all
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.rules.firing import RuleFiring

MAX_LABEL_VALUE = 500

IDENTITY_LABELS = ("alertname", "org", "asset", "user.id")
"""With the rule's group-by fields these identify an alert; severity, team and playbook do not
(an asset re-assessed from low to high risk keeps its alert, it does not open a second one)."""


@dataclass(frozen=True)
class AssetContext:
    """What alerting needs to know about the asset an alert concerns."""

    asset_id: str
    name: str = ""
    risk_level: str | None = None
    owner_team: str = ""


def _clean(value: object) -> str:
    # Label values end up in Slack, e-mail headers and URLs: single line, bounded length.
    text = " ".join(str(value).split())
    return text[:MAX_LABEL_VALUE]


def alert_labels(
    firing: RuleFiring, severity: Severity, asset: AssetContext | None
) -> dict[str, str]:
    """The labels routing, grouping, inhibition and silences match on."""
    labels: dict[str, str] = {}
    for key, value in firing.labels.items():
        labels[_clean(key)] = _clean(value)
    for key, value in firing.group.items():
        labels[_clean(key)] = _clean(value)
    labels.update(
        {
            "alertname": _clean(firing.rule_id),
            "rule": _clean(firing.rule_id),
            "org": _clean(firing.org),
            "severity": severity.value,
            "rule_severity": Severity(firing.severity).value,
        }
    )
    if firing.user_id:
        labels["user.id"] = _clean(firing.user_id)
    if firing.owasp:
        labels["owasp"] = ",".join(sorted(_clean(o) for o in firing.owasp))
    if firing.atlas:
        labels["atlas"] = ",".join(sorted(_clean(a) for a in firing.atlas))
    if firing.asset_id:
        labels["asset"] = _clean(firing.asset_id)
        labels["asset_risk"] = (asset.risk_level if asset else None) or "unknown"
        if asset is not None and asset.owner_team:
            labels["team"] = _clean(asset.owner_team)
    return labels


def alert_annotations(firing: RuleFiring, asset: AssetContext | None) -> dict[str, str]:
    annotations = {
        "title": _clean(firing.title),
        "summary": _clean(firing.summary or firing.title),
    }
    if "playbook" in firing.labels:
        annotations["playbook"] = _clean(firing.labels["playbook"])
    if asset is not None and asset.name:
        annotations["asset_name"] = _clean(asset.name)
    return annotations


def identity(labels: Mapping[str, str], group_fields: Iterable[str]) -> dict[str, str]:
    keys = set(IDENTITY_LABELS) | set(group_fields)
    return {k: labels[k] for k in sorted(keys) if k in labels}


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable hash of sorted labels: the same identity gives the same fingerprint in every
    process, on every machine (it is PagerDuty's dedup_key)."""
    body = orjson.dumps(sorted(labels.items()))
    return hashlib.sha256(body).hexdigest()[:32]


def adjusted_severity(
    matrix: SeverityMatrix, rule_severity: Severity, asset: AssetContext | None, has_asset: bool
) -> Severity:
    """The rule's severity raised or lowered by the asset's risk level; a firing that names no
    asset keeps the rule's severity."""
    if not has_asset:
        return Severity(rule_severity)
    return matrix.apply(Severity(rule_severity), asset.risk_level if asset else None)


def match_routes(tree: ResolvedRoute, labels: Mapping[str, str]) -> list[ResolvedRoute]:
    """The routes an alert goes to, Alertmanager's way: depth first, the first matching child
    wins unless it says ``continue``; a node none of whose children match takes the alert."""
    if not matches_all(tree.matchers, labels):
        return []
    found: list[ResolvedRoute] = []
    for child in tree.children:
        matched = match_routes(child, labels)
        if matched:
            found.extend(matched)
            if not child.continue_:
                break
    return found or [tree]


def group_labels(route: ResolvedRoute, labels: Mapping[str, str]) -> dict[str, str]:
    # "..." groups by every label: each alert is its own group (Alertmanager's special value).
    if "..." in route.group_by:
        return dict(sorted(labels.items()))
    return {k: labels.get(k, "") for k in sorted(route.group_by)}


def group_key(route: ResolvedRoute, group: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(group.items()))
    return f"{route.path}:{{{inner}}}"


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[tuple[int, Sequence[Matcher]]]
) -> list[int]:
    """IDs of the (already active) silences whose matchers all match ``labels``."""
    return [sid for sid, matchers in silences if matchers and matches_all(matchers, labels)]


@dataclass(frozen=True)
class InhibitRuleSpec:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


def inhibited(
    alerts: Mapping[str, Mapping[str, str]], rules: Sequence[InhibitRuleSpec]
) -> set[str]:
    """Fingerprints muted by inhibition among ``alerts`` (fingerprint -> labels, firing only).

    An alert never inhibits itself, so a critical alert matching both sides stays loud.
    """
    muted: set[str] = set()
    for rule in rules:
        sources = [(fp, lab) for fp, lab in alerts.items() if matches_all(rule.source, lab)]
        if not sources:
            continue
        for fp, labels in alerts.items():
            if fp in muted or not matches_all(rule.target, labels):
                continue
            for source_fp, source_labels in sources:
                if source_fp != fp and all(
                    source_labels.get(name, "") == labels.get(name, "") for name in rule.equal
                ):
                    muted.add(fp)
                    break
    return muted


def content_hash(members: Iterable[tuple[str, str]]) -> str:
    """Hash of (fingerprint, status) pairs: a group whose hash changed has news to send."""
    return hashlib.sha256(orjson.dumps(sorted(members))).hexdigest()


def has_news(
    *, firing: set[int], resolved: set[int], last_firing: set[int], last_resolved: set[int]
) -> bool:
    """Alertmanager's test: a group has news when an alert fires that was not in the last
    notification, or one resolved that the last notification did not announce resolved."""
    return not firing <= last_firing or not resolved <= last_resolved


def notification_due(
    *,
    now: datetime,
    first_seen: datetime,
    last_sent: datetime | None,
    news: bool,
    any_firing: bool,
    route: ResolvedRoute,
) -> bool:
    """Alertmanager's timers: wait ``group_wait`` before the first notification, then send news
    at most every ``group_interval``, and repeat an unchanged firing group every
    ``repeat_interval``."""
    if last_sent is None:
        return any_firing and now >= first_seen + route.group_wait
    if now < last_sent + route.group_interval:
        return False
    return news or (any_firing and now >= last_sent + route.repeat_interval)


def highest(severities: Iterable[str]) -> Severity:
    ranked = sorted(severities, key=severity_rank)
    return Severity(ranked[-1]) if ranked else Severity.INFO
