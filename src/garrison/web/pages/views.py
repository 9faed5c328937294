"""What the catalog templates show, prepared in Python so the templates only lay it out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from garrison.catalog import Catalog, CatalogItem, Framework
from garrison.core.errors import GarrisonError
from garrison.web import browse
from garrison.web.api.catalog import MAX_QUERY_LENGTH, FrameworkSummary, summarise
from garrison.web.templating import external_url, framework_url, item_url

PAGE_SEARCH_LIMIT = 50

_HEADER_FIELDS = frozenset({"id", "name", "text"})
_LINKED_FIELDS = frozenset({*browse.REFERENCE_FIELDS, "parent", "subtechnique_of", "function"})
_LABELS = {
    **browse.REFERENCE_FIELDS,
    "url": "Source",
    "attack_reference": "ATT&CK reference",
    "short_id": "Short ID",
    "subtechnique_of": "Sub-technique of",
    "in_saif_original": "In the original SAIF",
    "added_in_aicm": "New in AICM",
    "stride": "STRIDE",
}


@dataclass(frozen=True)
class Value:
    text: str
    href: str | None = None
    title: str = ""
    external: bool = False
    is_id: bool = False


@dataclass(frozen=True)
class FieldRow:
    label: str
    values: list[Value]


@dataclass(frozen=True)
class KindTab:
    kind: str
    count: int
    href: str
    active: bool


@dataclass(frozen=True)
class RefGroup:
    label: str
    items: list[CatalogItem]


@dataclass(frozen=True)
class SearchView:
    q: str
    framework: str
    hits: list[CatalogItem]
    truncated: bool = False
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def plural(kind: str) -> str:
    return f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"


def label_of(field: str) -> str:
    return _LABELS.get(field) or field.replace("_", " ").capitalize()


# --- catalog index ---------------------------------------------------------------------------


def framework_summaries(catalog: Catalog) -> list[FrameworkSummary]:
    return [summarise(catalog, f) for f in catalog.frameworks]


def framework_chart(summaries: list[FrameworkSummary]) -> dict[str, Any]:
    """A plotly figure (data and layout) of items per framework, and where each bar leads."""
    ordered = sorted(summaries, key=lambda s: s.total)  # plotly draws the first bar lowest
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [s.total for s in ordered],
                "y": [s.key.value for s in ordered],
                "hovertemplate": "%{y}: %{x} items<extra></extra>",
                "marker": {"color": "#2f5d8a"},
            }
        ],
        "layout": {
            "height": 40 * len(ordered) + 70,
            "margin": {"l": 120, "r": 16, "t": 8, "b": 40},
            # A count to read and click, not a plot to zoom: dragging would only get in the way.
            "dragmode": False,
            "xaxis": {"title": {"text": "items"}, "gridcolor": "#e3e7ec", "fixedrange": True},
            "yaxis": {"fixedrange": True},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 13},
        },
        "links": [framework_url(s.key.value) for s in ordered],
    }


def run_search(catalog: Catalog, q: str, framework: str | None) -> SearchView:
    """Search for the pages: a bad query is shown next to the search box, never raised."""
    text = q.strip()
    chosen = (framework or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        return SearchView(
            text[:MAX_QUERY_LENGTH],
            chosen,
            [],
            error=f"Search text is limited to {MAX_QUERY_LENGTH} characters.",
        )
    try:
        key = catalog.framework(chosen).key.value if chosen else None
    except GarrisonError as exc:
        return SearchView(text, chosen, [], error=exc.message)
    if not text:
        return SearchView(text, key or "", [])
    hits = catalog.search(text, framework=key, limit=PAGE_SEARCH_LIMIT + 1)
    return SearchView(
        text,
        key or "",
        [h.item for h in hits[:PAGE_SEARCH_LIMIT]],
        truncated=len(hits) > PAGE_SEARCH_LIMIT,
    )


# --- framework page --------------------------------------------------------------------------


def kind_tabs(catalog: Catalog, framework: Framework, active: str) -> list[KindTab]:
    counts = browse.counts_by_kind(catalog, framework)
    return [
        KindTab(kind, counts[kind], framework_url(framework.key.value, kind), kind == active)
        for kind in framework.kinds
    ]


# --- item page -------------------------------------------------------------------------------


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _linked(catalog: Catalog, identifier: str) -> Value:
    target = catalog.find(identifier)
    if target is None:
        return Value(identifier)
    return Value(target.id, item_url(target.id), title=target.name, is_id=True)


def _values(catalog: Catalog, item: CatalogItem, field: str, value: object) -> list[Value]:
    if field == "framework":
        framework = catalog.framework(str(value))
        return [Value(framework.name, framework_url(framework.key.value))]
    if field in _LINKED_FIELDS:
        return [_linked(catalog, i) for i in browse.reference_ids(item, field)]
    if field in ("url", "attack_reference"):
        href = external_url(value)
        return [Value(str(value), href, external=href is not None)]
    if isinstance(value, tuple | list):
        return [Value(_scalar(v)) for v in value]
    return [Value(_scalar(value))]


def field_rows(catalog: Catalog, item: CatalogItem) -> list[FieldRow]:
    """Every typed field that has a value, references linked where they resolve."""
    rows: list[FieldRow] = []
    for field, value in item:
        if field in _HEADER_FIELDS or value is None or value in ("", ()):
            continue
        rows.append(FieldRow(label_of(field), _values(catalog, item, field, value)))
    return rows


def referenced_by(catalog: Catalog, item: CatalogItem) -> list[RefGroup]:
    """The items naming ``item``, grouped as "ATLAS mitigations", "SAIF risks", …"""
    groups: dict[str, list[CatalogItem]] = defaultdict(list)
    for reference in browse.references_to(catalog, item):
        source = reference.source
        label = f"{source.framework.value} {plural(source.kind)}"
        if source not in groups[label]:
            groups[label].append(source)
    return [RefGroup(label, items) for label, items in groups.items()]
