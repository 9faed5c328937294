"""Export Sigma rules through the installed pySigma backends, so a SIEM runs the same rules.

Plugin rules have no Sigma form and are reported as such; a rule a backend cannot express (some
backends have no correlations) is reported with the backend's reason instead of failing the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from garrison.core.errors import GarrisonError
from garrison.monitoring.rules.loader import RulePack


def _backends() -> dict[str, Any]:
    """The pySigma backends installed here. They come with the ``siem`` extra, which a server or
    the demo need not have: without them only ``rules export`` is unavailable, not the CLI."""
    found: dict[str, Any] = {}
    try:
        from sigma.backends.splunk.splunk import SplunkBackend
    except ImportError:
        pass
    else:
        found["splunk"] = SplunkBackend
    try:
        from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
        from sigma.backends.elasticsearch.elasticsearch_esql import ESQLBackend
        from sigma.backends.elasticsearch.elasticsearch_lucene import LuceneBackend
    except ImportError:
        pass
    else:
        found.update({"elasticsearch": LuceneBackend, "lucene": LuceneBackend, "eql": EqlBackend})
        found["esql"] = ESQLBackend
    return found


SIEM_HINT = "install the SIEM backends: pip install 'garrison[siem]'"


def backend_names() -> list[str]:
    return sorted(_backends())


@dataclass(frozen=True)
class Exported:
    rule_id: str
    queries: tuple[str, ...]
    error: str | None = None


def _with_references(rule: SigmaRule | SigmaCorrelationRule) -> list[Any]:
    found: list[Any] = []
    if isinstance(rule, SigmaCorrelationRule):
        for ref in rule.rules or ():
            inner = ref.rule
            if isinstance(inner, SigmaRule | SigmaCorrelationRule):
                found.extend(_with_references(inner))
    found.append(rule)
    return found


def export_rules(pack: RulePack, backend: str, rule_ids: list[str] | None = None) -> list[Exported]:
    backends = _backends()
    if backend not in backends:
        installed = ", ".join(backend_names())
        raise GarrisonError(
            f"no Sigma backend {backend!r} is installed",
            hint=f"choose one of {installed}" if installed else SIEM_HINT,
        )
    wanted = None if not rule_ids else {r.upper() for r in rule_ids}
    sigma_rules = [(r.meta.rule_id, r.sigma) for r in pack.event_rules if r.meta is not None] + [
        (c.meta.rule_id, c.sigma) for c in pack.correlations if c.meta is not None
    ]
    out: list[Exported] = []
    for rule_id, rule in sigma_rules:
        if wanted is not None and rule_id not in wanted:
            continue
        try:
            queries = backends[backend]().convert(SigmaCollection(_with_references(rule)))
            out.append(Exported(rule_id, tuple(str(q) for q in queries)))
        except (SigmaError, NotImplementedError, AttributeError, TypeError) as exc:
            out.append(Exported(rule_id, (), f"{backend} cannot express this rule: {exc}"))
    for plugin in pack.plugins:
        if wanted is None or plugin.meta.rule_id in wanted:
            out.append(
                Exported(plugin.meta.rule_id, (), "a Python rule plugin; it has no Sigma form")
            )
    if wanted is not None:
        missing = wanted - {e.rule_id for e in out}
        if missing:
            raise GarrisonError(
                f"no rule {', '.join(sorted(missing))}",
                hint="list rules with `garrison rules list`",
            )
    return out
