"""``/api/v1/catalog``: the frameworks, their items, one item with its neighbours, and search.

Item IDs are path segments that contain spaces, dots, colons and parentheses; clients percent-encode
them (``/items/GOVERN%201.1``). Any notation the catalog accepts works (``LLM01`` for
``LLM01:2025``); the response always carries the canonical ID.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias, cast, get_args

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from garrison.catalog import Catalog, CatalogItem, Framework, FrameworkKey
from garrison.catalog.models import (
    AicmDomain,
    AtlasCaseStudy,
    AtlasMitigation,
    AtlasTactic,
    AtlasTechnique,
    EuAnnexIIIArea,
    EuArticle,
    EuProhibitedPractice,
    EuRiskTier,
    IsoControl,
    IsoControlGroup,
    NistCategory,
    NistFunction,
    NistSubcategory,
    OwaspRisk,
    SaifControl,
    SaifRisk,
)
from garrison.web import browse
from garrison.web.deps import CatalogDep

MAX_QUERY_LENGTH = 200
MAX_SEARCH_LIMIT = 200

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])

ItemModel: TypeAlias = (
    OwaspRisk
    | AtlasTactic
    | AtlasTechnique
    | AtlasMitigation
    | AtlasCaseStudy
    | NistFunction
    | NistCategory
    | NistSubcategory
    | IsoControlGroup
    | IsoControl
    | EuRiskTier
    | EuArticle
    | EuProhibitedPractice
    | EuAnnexIIIArea
    | SaifRisk
    | SaifControl
    | AicmDomain
)
"""Every typed item class, so the OpenAPI document shows each kind's own fields."""

ITEM_MODELS: tuple[type[CatalogItem], ...] = get_args(ItemModel)


def typed(item: CatalogItem) -> ItemModel:
    """``item`` as its own class; a class missing from ``ItemModel`` would lose its fields."""
    if type(item) not in ITEM_MODELS:
        raise TypeError(f"{type(item).__name__} is not in garrison.web.api.catalog.ItemModel")
    return cast(ItemModel, item)


class FrameworkSummary(BaseModel):
    key: FrameworkKey
    name: str
    version: str
    publisher: str
    url: str
    license: str
    primary_kind: str = Field(description="The kind an item listing shows by default.")
    kinds: list[str]
    aliases: list[str] = Field(description="Other names the API accepts for this framework.")
    counts: dict[str, int] = Field(description="Number of items of each kind.")
    total: int


class ItemList(BaseModel):
    framework: FrameworkKey
    kind: str
    count: int
    items: list[ItemModel]


class ItemRef(BaseModel):
    id: str
    name: str
    framework: FrameworkKey
    kind: str


class Relation(BaseModel):
    relation: str = Field(description="The field that holds the reference, e.g. tactics.")
    item: ItemRef


class ItemDetail(BaseModel):
    item: ItemModel
    parent: ItemRef | None
    ancestors: list[ItemRef] = Field(description="From the parent up to the root.")
    children: list[ItemRef]
    references: list[Relation] = Field(description="Catalog items this item names.")
    referenced_by: list[Relation] = Field(description="Catalog items that name this item.")


class SearchHit(BaseModel):
    id: str
    name: str
    framework: FrameworkKey
    kind: str
    score: float


class SearchResults(BaseModel):
    query: str
    framework: FrameworkKey | None
    kind: str | None
    count: int
    hits: list[SearchHit]


def ref(item: CatalogItem) -> ItemRef:
    return ItemRef(id=item.id, name=item.name, framework=item.framework, kind=item.kind)


def summarise(catalog: Catalog, framework: Framework) -> FrameworkSummary:
    counts = browse.counts_by_kind(catalog, framework)
    return FrameworkSummary(
        key=framework.key,
        name=framework.name,
        version=framework.version,
        publisher=framework.publisher,
        url=framework.url,
        license=framework.license,
        primary_kind=framework.primary_kind,
        kinds=list(framework.kinds),
        aliases=list(dict.fromkeys(framework.aliases)),
        counts=counts,
        total=sum(counts.values()),
    )


def detail(catalog: Catalog, item: CatalogItem) -> ItemDetail:
    ancestors = catalog.ancestors(item.id)
    return ItemDetail(
        item=typed(item),
        parent=ref(ancestors[0]) if ancestors else None,
        ancestors=[ref(a) for a in ancestors],
        children=[ref(c) for c in catalog.children(item.id)],
        references=[
            Relation(relation=r.relation, item=ref(r.target))
            for r in browse.references_from(catalog, item)
        ],
        referenced_by=[
            Relation(relation=r.relation, item=ref(r.source))
            for r in browse.references_to(catalog, item)
        ],
    )


@router.get("/frameworks")
def list_frameworks(catalog: CatalogDep) -> list[FrameworkSummary]:
    """Every framework in the catalog, with its number of items of each kind."""
    return [summarise(catalog, f) for f in catalog.frameworks]


@router.get("/frameworks/{key}")
def get_framework(key: str, catalog: CatalogDep) -> FrameworkSummary:
    """One framework, by key or alias (``OWASP-LLM``, ``LLM``, ``ATLAS``, ``NIST``, …)."""
    return summarise(catalog, catalog.framework(key))


@router.get("/frameworks/{key}/items")
def list_items(
    key: str,
    catalog: CatalogDep,
    kind: Annotated[
        str | None, Query(description="A kind of the framework; default its primary kind.")
    ] = None,
) -> ItemList:
    """The items of one kind of a framework, in the framework's own order."""
    framework = catalog.framework(key)
    chosen = browse.choose_kind(framework, kind)
    items = catalog.items(framework.key, chosen)
    return ItemList(
        framework=framework.key, kind=chosen, count=len(items), items=[typed(i) for i in items]
    )


@router.get("/items/{item_id:path}")
def get_item(item_id: str, catalog: CatalogDep) -> ItemDetail:
    """One item by ID or alias, with its place in the hierarchy and its cross-references."""
    return detail(catalog, catalog.get(item_id))


@router.get("/search")
def search(
    catalog: CatalogDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH)],
    framework: Annotated[str | None, Query(description="Framework key or alias.")] = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 50,
) -> SearchResults:
    """Items matching every word of ``q``, best first; an exact ID or alias ranks first."""
    chosen = catalog.framework(framework) if framework else None
    browse.check_search_kind(catalog, chosen, kind)
    hits = catalog.search(q, framework=chosen.key.value if chosen else None, kind=kind, limit=limit)
    return SearchResults(
        query=q,
        framework=chosen.key if chosen else None,
        kind=kind,
        count=len(hits),
        hits=[SearchHit(**ref(h.item).model_dump(), score=h.score) for h in hits],
    )
