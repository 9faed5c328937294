"""``content/alerting.yaml``: the routing tree, receivers, inhibition and the severity matrix.

The shape follows Alertmanager's configuration (a route tree with matchers, ``continue``,
``group_by`` and the three timers; receivers; inhibit rules) so that a SOC engineer reads it
without learning a new language. Two things are Garrison's own: the severity matrix (rule
severity x asset risk level -> alert severity) and channel secrets, which are always named by an
environment variable or a file, never written in the file or stored in the database.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from garrison.core.content import ContentModel, content_file, load_content_file
from garrison.core.plugins import PluginError
from garrison.monitoring.alerting.channels import CHANNELS
from garrison.monitoring.alerting.matchers import Matcher, MatcherError, parse_matcher
from garrison.monitoring.detectors.base import Severity

ALERTING_FILE = "alerting.yaml"
SEVERITY_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(Severity(severity))


def parse_duration(value: Any) -> timedelta:
    """Prometheus-style durations: ``30s``, ``5m``, ``4h``, ``1h30m``, ``2d``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _seconds(value, value)
    text = str(value).strip()
    if not text or len(text) > 40:
        raise ValueError(f"duration {value!r} is not like 30s, 5m, 4h or 1h30m")
    total = 0.0
    number = ""
    index = 0
    while index < len(text):
        char = text[index]
        if char.isdigit():
            number += char
            index += 1
            continue
        unit = text[index : index + 2] if text[index : index + 2] == "ms" else char
        if not number or unit not in _UNITS:
            raise ValueError(
                f"duration {value!r} is not like 30s, 5m, 4h or 1h30m (units ms, s, m, h, d, w)"
            )
        total += int(number) * _UNITS[unit]
        number = ""
        index += len(unit)
    if number:
        raise ValueError(f"duration {value!r} lacks a unit after {number} (e.g. {number}s)")
    return _seconds(value, total)


MAX_DURATION = timedelta(days=36_500)
"""A hundred years: longer than any timer or silence means, short enough that adding it to now
never leaves the calendar (a datetime ends in year 9999, a timedelta at 999,999,999 days)."""


def _seconds(value: Any, seconds: float) -> timedelta:
    if abs(seconds) > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {value!r} is too long (at most 100 years)")
    return timedelta(seconds=seconds)


def _format_duration(value: timedelta) -> str:
    return f"{int(value.total_seconds())}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(_format_duration, return_type=str)
]


def _matchers(value: Any) -> tuple[Matcher, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError('matchers are a list of strings such as severity="critical"')
    out: list[Matcher] = []
    for item in value:
        if isinstance(item, Matcher):
            out.append(item)
            continue
        if not isinstance(item, str):
            raise ValueError(f'matcher {item!r} must be a string such as team="payments"')
        try:
            out.append(parse_matcher(item))
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return tuple(out)


Matchers = Annotated[
    tuple[Matcher, ...],
    BeforeValidator(_matchers),
    PlainSerializer(lambda ms: [str(m) for m in ms], return_type=list[str]),
]


class Route(ContentModel):
    """One node of the routing tree. Unset timers and grouping are inherited from the parent."""

    receiver: str | None = None
    matchers: Matchers = ()
    continue_: bool = Field(default=False, alias="continue")
    group_by: tuple[str, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    resolve_timeout: Duration | None = None
    routes: tuple[Route, ...] = ()


class ResolvedRoute(BaseModel):
    """A route with everything inherited filled in; ``path`` names it stably (``0.2.1``)."""

    model_config = {"frozen": True}

    path: str
    receiver: str
    matchers: tuple[Any, ...]
    continue_: bool
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    resolve_timeout: timedelta
    children: tuple[ResolvedRoute, ...] = ()


class ChannelSpec(ContentModel):
    """One way a receiver is notified: ``type`` names a channel plugin, ``settings`` its options
    (validated by the plugin's own model when the configuration is loaded)."""

    type: str
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        # Written flat in YAML (type plus its options), the way Alertmanager writes *_configs.
        if isinstance(data, dict) and "settings" not in data:
            rest = {k: v for k, v in data.items() if k != "type"}
            return {"type": data.get("type"), "settings": rest}
        return data

    @model_validator(mode="after")
    def _check_settings(self) -> ChannelSpec:
        try:
            plugin = CHANNELS.get(self.type)
        except PluginError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from None
        try:
            plugin.config_model.model_validate(self.settings)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or self.type}: {e['msg']}"
                for e in exc.errors()
            )
            raise ValueError(f"{self.type} channel: {problems}") from None
        return self


class Receiver(ContentModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    channels: tuple[ChannelSpec, ...] = ()
    send_resolved: bool = True


class InhibitRule(ContentModel):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers``
    with the same values of the ``equal`` labels are muted."""

    source_matchers: Matchers
    target_matchers: Matchers
    equal: tuple[str, ...] = ()


class SeverityMatrix(ContentModel):
    """Rule severity -> asset risk level -> alert severity; assets without an assessment use
    ``unknown_asset_level``."""

    unknown_asset_level: str = "medium"
    levels: dict[Severity, dict[str, Severity]]

    @field_validator("levels")
    @classmethod
    def _complete(
        cls, value: dict[Severity, dict[str, Severity]]
    ) -> dict[Severity, dict[str, Severity]]:
        missing = [s.value for s in SEVERITY_ORDER if s not in value]
        if missing:
            raise ValueError(f"the matrix has no row for rule severity {', '.join(missing)}")
        columns = {frozenset(row) for row in value.values()}
        if len(columns) != 1:
            raise ValueError("every row must list the same asset risk levels")
        return value

    def apply(self, rule_severity: Severity, asset_level: str | None) -> Severity:
        row = self.levels[rule_severity]
        level = asset_level if asset_level in row else self.unknown_asset_level
        return row.get(level, rule_severity)


class Delivery(ContentModel):
    """How the outbox retries: exponential backoff with jitter, then a dead letter."""

    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    initial_backoff: Duration = timedelta(seconds=10)
    max_backoff: Duration = timedelta(minutes=30)
    lease: Duration = timedelta(minutes=2)
    timeout: Duration = timedelta(seconds=10)


class AlertingConfig(ContentModel):
    route: Route
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    severity_matrix: SeverityMatrix
    delivery: Delivery = Delivery()
    external_url: str = "http://localhost:8000"

    @model_validator(mode="after")
    def _references(self) -> AlertingConfig:
        names = [r.name for r in self.receivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"receiver names must be unique: {', '.join(duplicates)}")
        if self.route.receiver is None:
            raise ValueError("the root route needs a receiver (the default for every alert)")
        for_each = [self.route]
        while for_each:
            node = for_each.pop()
            if node.receiver is not None and node.receiver not in names:
                raise ValueError(
                    f"route receiver {node.receiver!r} is not defined; "
                    f"receivers: {', '.join(names)}"
                )
            for_each.extend(node.routes)
        return self

    @cached_property
    def tree(self) -> ResolvedRoute:
        return _resolve(self.route, None, "0")

    def receiver(self, name: str) -> Receiver:
        for receiver in self.receivers:
            if receiver.name == name:
                return receiver
        raise KeyError(name)


_DEFAULTS = {
    "group_by": (),
    "group_wait": timedelta(seconds=30),
    "group_interval": timedelta(minutes=5),
    "repeat_interval": timedelta(hours=4),
    "resolve_timeout": timedelta(minutes=5),
}


def _resolve(route: Route, parent: ResolvedRoute | None, path: str) -> ResolvedRoute:
    def pick(name: str) -> Any:
        own = getattr(route, name)
        if own is not None:
            return own
        return getattr(parent, name) if parent is not None else _DEFAULTS[name]

    base = ResolvedRoute(
        path=path,
        receiver=route.receiver or (parent.receiver if parent else ""),
        matchers=route.matchers,
        continue_=route.continue_,
        group_by=tuple(pick("group_by")),
        group_wait=pick("group_wait"),
        group_interval=pick("group_interval"),
        repeat_interval=pick("repeat_interval"),
        resolve_timeout=pick("resolve_timeout"),
    )
    children = tuple(_resolve(child, base, f"{path}.{i}") for i, child in enumerate(route.routes))
    return base.model_copy(update={"children": children})


def alerting_config_path(content_dir: Path | None) -> Path:
    return content_file(ALERTING_FILE, content_dir)


def load_alerting_config(
    content_dir: Path | None = None, *, path: Path | None = None
) -> AlertingConfig:
    """The organization's alerting.yaml (or the packaged default), validated; errors name the
    file and line."""
    return load_content_file(AlertingConfig, path or alerting_config_path(content_dir))
