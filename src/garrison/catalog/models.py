"""Typed catalog items: one class per kind of thing a framework defines.

Every item has a canonical ``id`` (the framework's own notation: ``LLM01:2025``, ``AML.T0051``,
``GOVERN 1.1``, ``A.6.2.4``, ``Art. 15``), the framework it belongs to, a ``kind``, a name, its
text, and its parent in the framework's hierarchy. Kind-specific facts live on the subclasses.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class FrameworkKey(StrEnum):
    OWASP_LLM = "OWASP-LLM"
    OWASP_AGENTIC = "OWASP-AGENTIC"
    ATLAS = "ATLAS"
    NIST_AI_RMF = "NIST-AI-RMF"
    ISO_42001 = "ISO-42001"
    EU_AI_ACT = "EU-AI-ACT"
    SAIF = "SAIF"
    CSA_AICM = "CSA-AICM"


class CatalogItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    framework: FrameworkKey
    kind: str
    name: str
    text: str = ""
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    url: str | None = None

    @property
    def title(self) -> str:
        return f"{self.id} {self.name}"


# --- OWASP ---------------------------------------------------------------------------------------


class OwaspRisk(CatalogItem):
    """An entry of an OWASP Top 10 list (LLM 2025 or Agentic 2026)."""

    related: tuple[str, ...] = ()
    """LLM 2025: the 2023 entries it continues. Agentic 2026: the LLM 2025 items it relates to."""


# --- MITRE ATLAS ---------------------------------------------------------------------------------


class AtlasTactic(CatalogItem):
    attack_reference: str | None = None


class AtlasTechnique(CatalogItem):
    tactics: tuple[str, ...] = ()
    """Tactic IDs; a sub-technique inherits its parent's tactics."""
    subtechnique_of: str | None = None
    maturity: str | None = None
    attack_reference: str | None = None


class AtlasMitigation(CatalogItem):
    techniques: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    lifecycle: tuple[str, ...] = ()


class AtlasCaseStudy(CatalogItem):
    techniques: tuple[str, ...] = ()
    tactics: tuple[str, ...] = ()
    incident_date: date | None = None
    target: str = ""
    actor: str = ""
    case_study_type: str = ""


# --- NIST AI RMF ---------------------------------------------------------------------------------


class NistFunction(CatalogItem):
    short_id: str = ""


class NistCategory(CatalogItem):
    short_id: str = ""


class NistSubcategory(CatalogItem):
    short_id: str = ""
    function: str = ""


# --- ISO/IEC 42001 -------------------------------------------------------------------------------


class IsoControlGroup(CatalogItem):
    pass


class IsoControl(CatalogItem):
    subgroup: str | None = None


# --- EU AI Act -----------------------------------------------------------------------------------


class EuRiskTier(CatalogItem):
    tier: str
    articles: tuple[str, ...] = ()


class EuArticle(CatalogItem):
    number: int
    applies_to: tuple[str, ...] = ()
    section: str = ""
    note: str = ""


class EuProhibitedPractice(CatalogItem):
    point: str


class EuAnnexIIIArea(CatalogItem):
    point: int


# --- Google SAIF / CoSAI Risk Map ----------------------------------------------------------------


class SaifRisk(CatalogItem):
    code: str | None = None
    category: str = ""
    in_saif_original: bool = False
    atlas: tuple[str, ...] = ()
    owasp_llm: tuple[str, ...] = ()
    stride: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    lifecycle: tuple[str, ...] = ()
    impact: tuple[str, ...] = ()


class SaifControl(CatalogItem):
    category: str = ""
    risks: tuple[str, ...] = ()


# --- CSA AI Controls Matrix ----------------------------------------------------------------------


class AicmDomain(CatalogItem):
    code: str
    added_in_aicm: bool = False


class Framework(BaseModel):
    """A framework as a whole: where it comes from, its licence, and which kinds it holds."""

    model_config = ConfigDict(frozen=True)

    key: FrameworkKey
    source_id: str
    name: str
    version: str
    publisher: str
    url: str = ""
    license: str = ""
    primary_kind: str
    """The kind ``catalog list FRAMEWORK`` shows by default (e.g. NIST subcategories)."""
    kinds: tuple[str, ...]
    listed_kinds: tuple[str, ...] = ()
    """Kinds a plain listing shows, when more than the primary kind (ATLAS sub-techniques)."""
    digest: str
    """sha256 of the packaged data file, so a stored copy knows when it is out of date."""
    aliases: tuple[str, ...] = ()

    @property
    def listing_kinds(self) -> tuple[str, ...]:
        return self.listed_kinds or (self.primary_kind,)
