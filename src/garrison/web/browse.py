"""Catalog questions that both the JSON API and the pages ask.

The catalog knows each item's own references (a technique's tactics, a SAIF risk's OWASP
mappings); this module adds the reverse direction (which mitigations name this technique), and the
checks on a requested kind, so that the two edges give the same answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from garrison.catalog import Catalog, CatalogItem, Framework
from garrison.core.errors import GarrisonError

REFERENCE_FIELDS: dict[str, str] = {
    "tactics": "Tactics",
    "techniques": "Techniques",
    "related": "Related",
    "atlas": "MITRE ATLAS",
    "owasp_llm": "OWASP LLM Top 10",
    "controls": "Controls",
    "risks": "Risks",
    "articles": "Articles",
}
"""Item fields that hold catalog IDs, with the label a reader sees.

``parent``, ``subtechnique_of`` and NIST's ``function`` also hold IDs, but they repeat the
hierarchy that breadcrumbs already show.
"""


@dataclass(frozen=True)
class Reference:
    """``source`` names ``target`` in its field ``relation``."""

    relation: str
    source: CatalogItem
    target: CatalogItem


def counts_by_kind(catalog: Catalog, framework: Framework) -> dict[str, int]:
    return {kind: len(catalog.items(framework.key, kind)) for kind in framework.kinds}


def choose_kind(framework: Framework, kind: str | None) -> str:
    """The kind asked for, or the framework's main one; a kind it does not have is an error."""
    if kind is None or not kind.strip():
        return framework.primary_kind
    if kind not in framework.kinds:
        raise GarrisonError(
            f"{framework.key.value} has no kind {kind!r}",
            hint=f"use one of: {', '.join(framework.kinds)}",
        )
    return kind


def check_search_kind(catalog: Catalog, framework: Framework | None, kind: str | None) -> None:
    """Refuse a kind no framework in scope has, rather than silently finding nothing."""
    if kind is None:
        return
    scope = [framework] if framework is not None else catalog.frameworks
    known = sorted({k for f in scope for k in f.kinds})
    if kind not in known:
        where = framework.key.value if framework is not None else "the catalog"
        raise GarrisonError(f"{where} has no kind {kind!r}", hint=f"use one of: {', '.join(known)}")


def reference_ids(item: CatalogItem, relation: str) -> tuple[str, ...]:
    value = getattr(item, relation, None)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    return ()


def references_from(catalog: Catalog, item: CatalogItem) -> list[Reference]:
    """The items ``item`` names, where they resolve in the catalog, in field order."""
    found: list[Reference] = []
    for relation in REFERENCE_FIELDS:
        for identifier in reference_ids(item, relation):
            target = catalog.find(identifier)
            if target is not None:
                found.append(Reference(relation, item, target))
    return found


def references_to(catalog: Catalog, item: CatalogItem) -> list[Reference]:
    """The items that name ``item``: the mitigations of a technique, the SAIF risks of an
    OWASP entry."""
    return list(_reverse_index(catalog).get(item.id, ()))


@lru_cache(maxsize=4)
def _reverse_index(catalog: Catalog) -> dict[str, tuple[Reference, ...]]:
    # Built once per catalog: the catalog is immutable and scanning it per request is wasteful.
    index: dict[str, list[Reference]] = defaultdict(list)
    for source in catalog.items():
        for reference in references_from(catalog, source):
            index[reference.target.id].append(reference)
    return {target: tuple(refs) for target, refs in index.items()}
