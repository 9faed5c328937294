"""Load the rule pack: Sigma files (``*.yml``) and the plugin rules file (``plugins.yaml``).

Rules come from ``content/rules/monitoring/`` (packaged defaults, each replaceable by an
organization file of the same name). Everything is checked at load: Sigma syntax (pySigma),
modifiers and conditions the evaluator supports, correlation references, ATLAS/OWASP tags against
the catalog, unique ``RULE-*`` IDs, and plugin names and settings. A bad rule stops the load with
the file, the rule and what to change; the engine never runs a half-understood rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import re2
from pydantic import Field, StringConstraints, ValidationError
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from garrison.catalog import get_catalog
from garrison.catalog.catalog import Catalog
from garrison.core.content import (
    MAX_CONTENT_BYTES,
    ContentModel,
    content_file,
    content_files,
    load_content_file,
)
from garrison.core.errors import ContentError
from garrison.monitoring.events import DERIVED_KEYS
from garrison.monitoring.rules.correlation import SUPPORTED_TYPES, CorrelationLogic, condition_op
from garrison.monitoring.rules.model import (
    RULE_ID_PATTERN,
    EngineSettings,
    RuleMeta,
    parse_span,
    resolve_tags,
    severity_of,
)
from garrison.monitoring.rules.plugins import rule_plugin_registry
from garrison.monitoring.rules.predicate import (
    INDEX_FIELDS,
    Predicate,
    UnsupportedSigma,
    compile_condition,
    required_fields,
    required_values,
)

RULES_FOLDER = "rules/monitoring"
PLUGINS_FILE = "rules/monitoring/plugins.yaml"
_GARRISON_KEYS = frozenset({"rule_id", "suppress", "lateness", "max_keys", "suppress_by"})


@dataclass(frozen=True)
class EventRule:
    name: str
    """The Sigma ``name`` (what correlations reference), else its UUID."""
    meta: RuleMeta | None
    """None for a building block: it feeds correlations and raises nothing itself."""
    predicate: Predicate
    index: tuple[str, frozenset[str]] | None
    needs_findings: bool
    """True when the rule cannot match an event without detector findings."""
    suppress_by: tuple[str, ...]
    sigma: SigmaRule


@dataclass(frozen=True)
class CorrelationRule:
    name: str
    meta: RuleMeta | None
    logic: CorrelationLogic
    group_by: tuple[str, ...]
    value_field: str | None
    lateness: float
    max_keys: int
    sigma: SigmaCorrelationRule


class PluginRuleSpec(ContentModel):
    id: Annotated[str, StringConstraints(pattern=RULE_ID_PATTERN)]
    plugin: str
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: str = ""
    level: Annotated[str, StringConstraints(pattern=r"^(informational|low|medium|high|critical)$")]
    tags: list[str] = Field(default_factory=list)
    suppress: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class PluginRulesFile(ContentModel):
    rules: list[PluginRuleSpec]


@dataclass(frozen=True)
class PluginRule:
    meta: RuleMeta
    plugin: str
    settings: Mapping[str, Any]


@dataclass
class RulePack:
    event_rules: list[EventRule] = field(default_factory=list)
    correlations: list[CorrelationRule] = field(default_factory=list)
    plugins: list[PluginRule] = field(default_factory=list)
    settings: EngineSettings = field(default_factory=EngineSettings)

    def metas(self) -> list[RuleMeta]:
        found = [r.meta for r in self.event_rules] + [c.meta for c in self.correlations]
        return [m for m in found if m is not None] + [p.meta for p in self.plugins]

    def rule_ids(self) -> list[str]:
        return [m.rule_id for m in self.metas()]

    def get(self, rule_id: str) -> RuleMeta | None:
        wanted = rule_id.upper()
        return next((m for m in self.metas() if m.rule_id == wanted), None)


def _fail(path: Path | str, rule: str, message: str, hint: str | None = None) -> ContentError:
    return ContentError(message, path=path, item=rule, hint=hint)


def _meta(
    rule: SigmaRule | SigmaCorrelationRule,
    path: Path,
    kind: str,
    settings: EngineSettings,
    catalog: Catalog,
) -> RuleMeta | None:
    custom = rule.custom_attributes
    rule_id = custom.get("rule_id")
    if rule_id is None:
        return None
    label = str(rule.name or rule.title)
    if not isinstance(rule_id, str) or re2.fullmatch(RULE_ID_PATTERN, rule_id) is None:
        raise _fail(path, label, f"rule_id {rule_id!r} must look like RULE-SOME-NAME")
    try:
        atlas, owasp = resolve_tags([str(t) for t in rule.tags], catalog)
        suppress = parse_span(custom["suppress"]) if "suppress" in custom else settings.suppress
    except ValueError as exc:
        raise _fail(path, rule_id, str(exc)) from None
    return RuleMeta(
        rule_id=rule_id,
        title=str(rule.title),
        description=str(rule.description or ""),
        severity=severity_of(rule.level.name if rule.level else None),
        atlas=tuple(atlas),
        owasp=tuple(owasp),
        kind=kind,
        source=path.name,
        suppress=suppress,
        tags=tuple(str(t) for t in rule.tags),
    )


def _check_custom(rule: SigmaRule | SigmaCorrelationRule, path: Path) -> None:
    label = str(rule.name or rule.title)
    ignored = {"correlation"} if isinstance(rule, SigmaCorrelationRule) else set()
    unknown = set(rule.custom_attributes) - _GARRISON_KEYS - ignored
    if unknown:
        raise _fail(
            path,
            label,
            f"unknown top-level key(s) {', '.join(sorted(unknown))}",
            hint=f"Garrison rule settings are {', '.join(sorted(_GARRISON_KEYS))}",
        )


def _event_rule(
    rule: SigmaRule, path: Path, settings: EngineSettings, catalog: Catalog
) -> EventRule:
    label = str(rule.name or rule.title)
    try:
        tree = rule.detection.parsed_condition[0].parse()
        if len(rule.detection.parsed_condition) > 1:
            raise UnsupportedSigma("several conditions in one rule; combine them with 'or'")
        predicate = compile_condition(tree)
    except (UnsupportedSigma, SigmaError) as exc:
        raise _fail(path, label, f"detection: {exc}") from None
    index = None
    for key in INDEX_FIELDS:
        values = required_values(tree, key)
        if values:
            index = (key, values)
            break
    by = rule.custom_attributes.get("suppress_by", ["user.id"])
    if not isinstance(by, list) or not all(isinstance(f, str) for f in by):
        raise _fail(path, label, "suppress_by must be a list of field names")
    return EventRule(
        name=str(rule.name or rule.id),
        meta=_meta(rule, path, "event", settings, catalog),
        predicate=predicate,
        index=index,
        needs_findings=bool(required_fields(tree) & DERIVED_KEYS),
        suppress_by=tuple(by),
        sigma=rule,
    )


def _correlation(
    rule: SigmaCorrelationRule, path: Path, settings: EngineSettings, catalog: Catalog
) -> CorrelationRule:
    label = str(rule.name or rule.title)
    ctype = rule.type.name.lower()
    if ctype not in SUPPORTED_TYPES:
        raise _fail(
            path,
            label,
            f"correlation type {ctype} is not supported",
            hint=", ".join(SUPPORTED_TYPES),
        )
    if rule.aliases.aliases:
        raise _fail(path, label, "field aliases are not supported; use one field name")
    sources = tuple(str(ref.rule.name or ref.rule.id) for ref in rule.rules)  # type: ignore[union-attr]
    cond = rule.condition
    if cond is not None and not isinstance(cond, SigmaCorrelationCondition):
        raise _fail(path, label, "extended correlation conditions are not supported")
    if cond is None:
        op, threshold, value_field = "gte", float(len(sources)), None
    else:
        op = condition_op(cond.op.name.lower())
        threshold = float(cond.count)
        value_field = cond.fieldref if isinstance(cond.fieldref, str) else None
    if ctype in ("value_count", "value_sum") and not value_field:
        raise _fail(path, label, f"{ctype} needs condition.field (the field to count or sum)")
    if ctype in ("temporal", "temporal_ordered") and cond is None:
        threshold = float(len(sources))
    custom = rule.custom_attributes
    try:
        lateness = parse_span(custom["lateness"]) if "lateness" in custom else settings.lateness
    except ValueError as exc:
        raise _fail(path, label, str(exc)) from None
    max_keys = custom.get("max_keys", settings.max_keys)
    if not isinstance(max_keys, int) or max_keys < 1:
        raise _fail(path, label, "max_keys must be a positive whole number")
    if rule.timespan is None:
        raise _fail(path, label, "a correlation needs a timespan, e.g. timespan: 10m")
    return CorrelationRule(
        name=str(rule.name or rule.id),
        meta=_meta(rule, path, ctype, settings, catalog),
        logic=CorrelationLogic(
            ctype=ctype,
            sources=sources,
            span=float(rule.timespan.seconds),
            op=op,
            threshold=threshold,
            max_window_events=settings.max_window_events,
        ),
        group_by=tuple(rule.group_by or ()),
        value_field=value_field,
        lateness=lateness.total_seconds(),
        max_keys=max_keys,
        sigma=rule,
    )


def parse_sigma_files(paths: Sequence[Path]) -> tuple[SigmaCollection, dict[int, Path]]:
    rules: list[SigmaRule | SigmaCorrelationRule] = []
    origin: dict[int, Path] = {}
    for path in paths:
        try:
            if path.stat().st_size > MAX_CONTENT_BYTES:
                raise _fail(path, path.name, f"file is larger than {MAX_CONTENT_BYTES} bytes")
            text = path.read_text(encoding="utf-8")
            collection = SigmaCollection.from_yaml(text, collect_errors=False)
        except (SigmaError, ValueError) as exc:
            raise ContentError(f"not a valid Sigma rule file: {exc}", path=path) from None
        except OSError as exc:
            raise ContentError(f"cannot read: {exc.strerror}", path=path) from None
        for rule in collection.rules:
            if isinstance(rule, SigmaRule | SigmaCorrelationRule):
                origin[id(rule)] = path
                rules.append(rule)
    merged = SigmaCollection(rules)  # type: ignore[arg-type]
    try:
        merged.resolve_rule_references()
    except SigmaError as exc:
        raise ContentError(
            f"a correlation references an unknown rule: {exc}",
            hint="reference rules by their Sigma name; every referenced rule must be in the pack",
        ) from None
    return merged, origin


def load_rule_pack(
    content_dir: Path | None = None,
    *,
    settings: EngineSettings | None = None,
    catalog: Catalog | None = None,
    sigma_paths: Sequence[Path] | None = None,
    plugins_path: Path | None = None,
) -> RulePack:
    """The rule pack: packaged rules, overridden and extended by ``content_dir``."""
    chosen = settings or EngineSettings()
    cat = catalog or get_catalog()
    paths = (
        list(sigma_paths)
        if sigma_paths is not None
        else content_files(RULES_FOLDER, content_dir, "*.yml")
    )
    collection, origin = parse_sigma_files(paths)
    pack = RulePack(settings=chosen)
    for rule in collection.rules:
        path = origin.get(id(rule), Path("?"))
        _check_custom(rule, path)
        if isinstance(rule, SigmaCorrelationRule):
            pack.correlations.append(_correlation(rule, path, chosen, cat))
        elif isinstance(rule, SigmaRule):
            pack.event_rules.append(_event_rule(rule, path, chosen, cat))
    if plugins_path is None and sigma_paths is None:
        plugins_path = content_file(PLUGINS_FILE, content_dir)
    if plugins_path is not None:
        pack.plugins.extend(_plugin_rules(plugins_path, chosen, cat))
    seen: dict[str, str] = {}
    for meta in pack.metas():
        if meta.rule_id in seen:
            raise ContentError(
                f"rule ID {meta.rule_id} is used twice ({seen[meta.rule_id]} and {meta.source})",
                hint="each rule needs its own RULE-* ID",
            )
        seen[meta.rule_id] = meta.source
    return pack


def _plugin_rules(path: Path, settings: EngineSettings, catalog: Catalog) -> list[PluginRule]:
    doc = load_content_file(PluginRulesFile, path)
    out: list[PluginRule] = []
    known = set(rule_plugin_registry.names())
    for spec in doc.rules:
        if spec.plugin not in known:
            raise _fail(
                path, spec.id, f"unknown rule plugin {spec.plugin!r}", hint=", ".join(sorted(known))
            )
        try:
            atlas, owasp = resolve_tags(spec.tags, catalog)
            suppress = parse_span(spec.suppress) if spec.suppress else settings.suppress
        except ValueError as exc:
            raise _fail(path, spec.id, str(exc)) from None
        meta = RuleMeta(
            rule_id=spec.id,
            title=spec.title,
            description=spec.description,
            severity=severity_of(spec.level),
            atlas=tuple(atlas),
            owasp=tuple(owasp),
            kind=f"plugin:{spec.plugin}",
            source=path.name,
            suppress=suppress,
            tags=tuple(spec.tags),
        )
        out.append(PluginRule(meta=meta, plugin=spec.plugin, settings=dict(spec.settings)))
    return out


def check_plugin_settings(pack: RulePack) -> None:
    """Build each plugin once so a bad ``settings`` block fails at load, naming the rule."""
    from garrison.monitoring.rules.plugins import PluginContext

    for rule in pack.plugins:
        try:
            rule_plugin_registry.get(rule.plugin)(PluginContext(), rule.settings)
        except ValidationError as exc:
            raise ContentError(
                f"settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
                path=rule.meta.source,
                item=rule.meta.rule_id,
            ) from None
