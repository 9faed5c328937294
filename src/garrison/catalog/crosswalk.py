"""Crosswalks: how Garrison's own items (controls, playbooks, rules, questions) map to frameworks.

Content models declare their mappings with ``CatalogRefs``; validation resolves every reference to
its canonical ID and fails on an unknown one, so a typo in a content file is an error at load
(with file, line and item, through ``garrison.core.content``) and never a silent gap in coverage.
``Crosswalk`` then answers the questions later pillars ask: what maps to this framework item, and
which items of a framework nothing maps to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from garrison.catalog.catalog import Catalog, get_catalog
from garrison.catalog.models import CatalogItem, FrameworkKey


def _catalog_from(info: ValidationInfo) -> Catalog:
    context = info.context if isinstance(info.context, Mapping) else {}
    catalog = context.get("catalog")
    return catalog if isinstance(catalog, Catalog) else get_catalog()


def _resolve_one(value: str, catalog: Catalog, frameworks: frozenset[FrameworkKey]) -> str:
    item = catalog.find(value)
    if item is None:
        suggestions = catalog.suggest(value)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        raise ValueError(f"unknown catalog ID {value!r}{hint}")
    if frameworks and item.framework not in frameworks:
        allowed = ", ".join(sorted(f.value for f in frameworks))
        raise ValueError(f"{item.id!r} is a {item.framework.value} item; expected one of {allowed}")
    return item.id


def _validate_ref(value: str, info: ValidationInfo) -> str:
    return _resolve_one(value, _catalog_from(info), frozenset())


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


CatalogRef = Annotated[str, AfterValidator(_validate_ref)]
"""One framework item, in any notation the catalog accepts; stored as its canonical ID."""

# Each element is validated on its own so that an error points at the line of the bad ID.
CatalogRefs = Annotated[tuple[CatalogRef, ...], AfterValidator(_unique)]
"""Several framework items, canonical and de-duplicated, in the order written."""


def refs_of(*frameworks: FrameworkKey) -> Any:
    """``CatalogRefs`` that also insist every item belongs to one of ``frameworks``."""
    allowed = frozenset(frameworks)

    def check(value: str, info: ValidationInfo) -> str:
        return _resolve_one(value, _catalog_from(info), allowed)

    return Annotated[tuple[Annotated[str, AfterValidator(check)], ...], AfterValidator(_unique)]


@dataclass(frozen=True)
class CrosswalkEntry:
    """One of our items (``source_kind`` ``source_id``) mapped to a catalog item."""

    source_kind: str
    source_id: str
    target_id: str


@dataclass
class Crosswalk:
    """Mappings from one kind of Garrison item to catalog items, queryable both ways."""

    catalog: Catalog
    entries: list[CrosswalkEntry] = field(default_factory=list)

    def add(self, source_kind: str, source_id: str, targets: Iterable[str]) -> None:
        for target in targets:
            canonical = self.catalog.get(target).id
            self.entries.append(CrosswalkEntry(source_kind, source_id, canonical))

    def targets_of(self, source_id: str) -> list[CatalogItem]:
        return [self.catalog.get(e.target_id) for e in self.entries if e.source_id == source_id]

    def sources_of(self, target: str, *, include_descendants: bool = False) -> list[str]:
        """Our items mapped to ``target``; optionally also those mapped to its children, so
        that a control mapped to ``AML.T0051.000`` counts for ``AML.T0051``."""
        wanted = {self.catalog.get(target).id}
        if include_descendants:
            frontier = list(wanted)
            while frontier:
                for child in self.catalog.children(frontier.pop()):
                    if child.id not in wanted:
                        wanted.add(child.id)
                        frontier.append(child.id)
        return list(dict.fromkeys(e.source_id for e in self.entries if e.target_id in wanted))

    def coverage(
        self, framework: FrameworkKey | str, kind: str | None = None
    ) -> dict[str, list[str]]:
        """For each item of ``framework`` (its primary kind unless ``kind`` says), our items
        that map to it; an empty list is a gap."""
        chosen = self.catalog.framework(str(framework))
        by_target: dict[str, list[str]] = defaultdict(list)
        for entry in self.entries:
            by_target[entry.target_id].append(entry.source_id)
        return {
            item.id: list(dict.fromkeys(by_target.get(item.id, [])))
            for item in self.catalog.items(chosen.key, kind or chosen.primary_kind)
        }

    def gaps(self, framework: FrameworkKey | str, kind: str | None = None) -> list[str]:
        return [item for item, sources in self.coverage(framework, kind).items() if not sources]
