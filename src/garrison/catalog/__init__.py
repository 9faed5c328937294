"""The frameworks catalog: OWASP LLM and Agentic Top 10, MITRE ATLAS, NIST AI RMF, ISO/IEC 42001
Annex A, the EU AI Act, Google SAIF / CoSAI and the CSA AICM domains, as typed items with lookup by
ID, free-text search, and the crosswalk type other pillars map their items with."""

from garrison.catalog.catalog import Catalog, SearchHit, get_catalog
from garrison.catalog.crosswalk import CatalogRef, CatalogRefs, Crosswalk, CrosswalkEntry, refs_of
from garrison.catalog.models import CatalogItem, Framework, FrameworkKey
from garrison.catalog.store import save_catalog, stored_frameworks

__all__ = [
    "Catalog",
    "CatalogItem",
    "CatalogRef",
    "CatalogRefs",
    "Crosswalk",
    "CrosswalkEntry",
    "Framework",
    "FrameworkKey",
    "SearchHit",
    "get_catalog",
    "refs_of",
    "save_catalog",
    "stored_frameworks",
]
