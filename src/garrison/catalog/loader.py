"""Readers that turn each packaged framework file into typed catalog items.

One function per framework; each returns the ``Framework`` and its items in document order. The
files are the data in ``catalog/data/`` (copied from ``shared/frameworks``, see ``SOURCES.md``).
A file whose shape is not what its reader expects fails with a ``ContentError`` naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from garrison.catalog.models import (
    AicmDomain,
    AtlasCaseStudy,
    AtlasMitigation,
    AtlasTactic,
    AtlasTechnique,
    CatalogItem,
    EuAnnexIIIArea,
    EuArticle,
    EuProhibitedPractice,
    EuRiskTier,
    Framework,
    FrameworkKey,
    IsoControl,
    IsoControlGroup,
    NistCategory,
    NistFunction,
    NistSubcategory,
    OwaspRisk,
    SaifControl,
    SaifRisk,
)
from garrison.core.errors import ContentError

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loaded = tuple[Framework, list[CatalogItem]]

ATLAS_URL = "https://atlas.mitre.org"


def data_dir() -> Path:
    return Path(str(files("garrison.catalog") / "data"))


@contextmanager
def _shape_errors(path: Path) -> Iterator[None]:
    """Report a structural surprise in a data file as a ContentError naming that file."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, IndexError, ValidationError) as exc:
        raise ContentError(
            f"unexpected structure in framework data ({type(exc).__name__}: {exc})", path=path
        ) from None


def _read(path: Path) -> tuple[Any, str]:
    raw = path.read_bytes()
    try:
        data = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ContentError(f"YAML error: {exc}", path=path) from None
    if not isinstance(data, Mapping):
        raise ContentError("expected a mapping at the top of the file", path=path)
    return data, hashlib.sha256(raw).hexdigest()


def _t(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


# --- OWASP ---------------------------------------------------------------------------------------


def load_owasp_llm(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["list"]
        items: list[CatalogItem] = [
            OwaspRisk(
                id=entry["id"],
                framework=FrameworkKey.OWASP_LLM,
                kind="risk",
                name=entry["name"],
                text=_text(entry.get("summary")),
                aliases=(entry["short_id"],),
                related=_t(entry.get("related_2023")),
                url=meta.get("url"),
            )
            for entry in data["items"]
        ]
        framework = Framework(
            key=FrameworkKey.OWASP_LLM,
            source_id=meta["id"],
            name=meta["name"],
            version="2025",
            publisher=meta["publisher"],
            url=meta.get("url", ""),
            license=_text(meta.get("license")),
            primary_kind="risk",
            kinds=("risk",),
            digest=digest,
            aliases=(meta["id"], "OWASP-LLM-2025", "LLM"),
        )
    return framework, items


def load_owasp_agentic(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["list"]
        items: list[CatalogItem] = [
            OwaspRisk(
                id=entry["id"],
                framework=FrameworkKey.OWASP_AGENTIC,
                kind="risk",
                name=entry["name"],
                text=_text(entry.get("summary")),
                aliases=(f"{entry['id']}:2026",),
                related=_t(entry.get("related_llm_2025")),
                url=meta.get("url"),
            )
            for entry in data["items"]
        ]
        framework = Framework(
            key=FrameworkKey.OWASP_AGENTIC,
            source_id=meta["id"],
            name=meta["name"],
            version="2026",
            publisher=meta["publisher"],
            url=meta.get("url", ""),
            license=_text(meta.get("license")),
            primary_kind="risk",
            kinds=("risk",),
            digest=digest,
            aliases=(meta["id"], "OWASP-AGENTIC-2026", "ASI", "AGENTIC"),
        )
    return framework, items


# --- MITRE ATLAS ---------------------------------------------------------------------------------


def _attack_ref(entry: Mapping[str, Any]) -> str | None:
    ref = entry.get("ATT&CK-reference")
    return str(ref["id"]) if isinstance(ref, Mapping) and "id" in ref else None


def load_atlas(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        matrix = data["matrices"][0]
        items: list[CatalogItem] = []
        for tactic in matrix["tactics"]:
            items.append(
                AtlasTactic(
                    id=tactic["id"],
                    framework=FrameworkKey.ATLAS,
                    kind="tactic",
                    name=tactic["name"],
                    text=_text(tactic.get("description")),
                    attack_reference=_attack_ref(tactic),
                    url=f"{ATLAS_URL}/tactics/{tactic['id']}",
                )
            )
        techniques = {t["id"]: t for t in matrix["techniques"]}
        for technique in matrix["techniques"]:
            parent = technique.get("subtechnique-of")
            tactics = technique.get("tactics") or (
                techniques[parent].get("tactics") if parent else ()
            )
            items.append(
                AtlasTechnique(
                    id=technique["id"],
                    framework=FrameworkKey.ATLAS,
                    kind="sub-technique" if parent else "technique",
                    name=technique["name"],
                    text=_text(technique.get("description")),
                    parent=parent,
                    subtechnique_of=parent,
                    tactics=_t(tactics),
                    maturity=technique.get("maturity"),
                    attack_reference=_attack_ref(technique),
                    url=f"{ATLAS_URL}/techniques/{technique['id']}",
                )
            )
        for mitigation in matrix["mitigations"]:
            items.append(
                AtlasMitigation(
                    id=mitigation["id"],
                    framework=FrameworkKey.ATLAS,
                    kind="mitigation",
                    name=mitigation["name"],
                    text=_text(mitigation.get("description")),
                    techniques=tuple(t["id"] for t in mitigation.get("techniques") or ()),
                    categories=_t(mitigation.get("category")),
                    lifecycle=_t(mitigation.get("ml-lifecycle")),
                    url=f"{ATLAS_URL}/mitigations/{mitigation['id']}",
                )
            )
        for study in data.get("case-studies") or ():
            steps = study.get("procedure") or ()
            incident = study.get("incident-date")
            items.append(
                AtlasCaseStudy(
                    id=study["id"],
                    framework=FrameworkKey.ATLAS,
                    kind="case-study",
                    name=study["name"],
                    text=_text(study.get("summary")),
                    techniques=tuple(dict.fromkeys(str(s["technique"]) for s in steps)),
                    tactics=tuple(dict.fromkeys(str(s["tactic"]) for s in steps)),
                    incident_date=incident if isinstance(incident, date) else None,
                    target=_text(study.get("target")),
                    actor=_text(study.get("actor")),
                    case_study_type=str(study.get("case-study-type") or ""),
                    url=f"{ATLAS_URL}/studies/{study['id']}",
                )
            )
        framework = Framework(
            key=FrameworkKey.ATLAS,
            source_id=data["id"],
            name=f"MITRE {data['name']}",
            version=str(data["version"]),
            publisher="MITRE",
            url=ATLAS_URL,
            license="Apache-2.0, Copyright 2021-2025 MITRE",
            primary_kind="technique",
            kinds=("tactic", "technique", "sub-technique", "mitigation", "case-study"),
            listed_kinds=("technique", "sub-technique"),
            digest=digest,
            aliases=("MITRE-ATLAS", "AML"),
        )
    return framework, items


# --- NIST AI RMF ---------------------------------------------------------------------------------


def _nist_aliases(item_id: str, short_id: str) -> tuple[str, ...]:
    return (short_id, item_id.replace(" ", "-"), short_id.replace("-", " "))


def load_nist_ai_rmf(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["framework"]
        items: list[CatalogItem] = []
        for function in data["functions"]:
            items.append(
                NistFunction(
                    id=function["id"],
                    framework=FrameworkKey.NIST_AI_RMF,
                    kind="function",
                    name=function["id"].title(),
                    text=_text(function.get("outcome")),
                    short_id=function["short_id"],
                    aliases=(function["short_id"],),
                )
            )
            for category in function["categories"]:
                items.append(
                    NistCategory(
                        id=category["id"],
                        framework=FrameworkKey.NIST_AI_RMF,
                        kind="category",
                        name=_short_name(category["text"]),
                        text=_text(category["text"]),
                        parent=function["id"],
                        short_id=category["short_id"],
                        aliases=_nist_aliases(category["id"], category["short_id"]),
                    )
                )
                for sub in category["subcategories"]:
                    items.append(
                        NistSubcategory(
                            id=sub["id"],
                            framework=FrameworkKey.NIST_AI_RMF,
                            kind="subcategory",
                            name=_short_name(sub["text"]),
                            text=_text(sub["text"]),
                            parent=category["id"],
                            short_id=sub["short_id"],
                            function=function["id"],
                            aliases=_nist_aliases(sub["id"], sub["short_id"]),
                        )
                    )
        framework = Framework(
            key=FrameworkKey.NIST_AI_RMF,
            source_id=meta["id"],
            name=meta["name"],
            version="1.0",
            publisher=meta["publisher"],
            url=meta.get("doi", ""),
            license=_text(meta.get("license")),
            primary_kind="subcategory",
            kinds=("function", "category", "subcategory"),
            digest=digest,
            aliases=(meta["id"], "NIST", "AI-RMF", "NIST-AI-RMF-1.0"),
        )
    return framework, items


def _short_name(text: str, limit: int = 90) -> str:
    """NIST categories have only sentences; a name is their first clause, cut at a word."""
    sentence = _text(text)
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


# --- ISO/IEC 42001 -------------------------------------------------------------------------------


def load_iso_42001(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["standard"]
        items: list[CatalogItem] = []
        for group in data["groups"]:
            items.append(
                IsoControlGroup(
                    id=group["id"],
                    framework=FrameworkKey.ISO_42001,
                    kind="control-group",
                    name=group["title"],
                    aliases=(f"ISO42001-{group['id']}",),
                )
            )
            for control in group["controls"]:
                items.append(
                    IsoControl(
                        id=control["id"],
                        framework=FrameworkKey.ISO_42001,
                        kind="control",
                        name=control["title"],
                        parent=group["id"],
                        subgroup=_subgroup_id(control.get("subgroup")),
                        aliases=(f"ISO42001-{control['id']}", f"ISO42001:{control['id']}"),
                    )
                )
        framework = Framework(
            key=FrameworkKey.ISO_42001,
            source_id=meta["id"],
            name=f"{meta['id']} {meta['part'].split(' - ')[0]}",
            version="2023",
            publisher=meta["publisher"],
            license=_text(meta.get("copyright")),
            primary_kind="control",
            kinds=("control-group", "control"),
            digest=digest,
            aliases=("ISO42001", "ISO-IEC-42001", "42001"),
        )
    return framework, items


def _subgroup_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value["id"])
    return None if value is None else str(value)


# --- EU AI Act -----------------------------------------------------------------------------------

_EU_TIER_NAMES = {
    "prohibited": "Prohibited AI practices",
    "high_risk": "High-risk AI systems",
    "limited_risk_transparency": "Limited risk: transparency obligations",
    "minimal_risk": "Minimal risk",
}


def _article_id(number: int | str) -> str:
    return f"Art. {number}"


def _article_aliases(number: int | str) -> tuple[str, ...]:
    return (f"Art {number}", f"Art.{number}", f"Article {number}")


def load_eu_ai_act(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["regulation"]
        items: list[CatalogItem] = []
        for tier in data["risk_tiers"]:
            tier_id = "EU-TIER-" + tier["tier"].upper().replace("_", "-")
            items.append(
                EuRiskTier(
                    id=tier_id,
                    framework=FrameworkKey.EU_AI_ACT,
                    kind="risk-tier",
                    name=_EU_TIER_NAMES.get(tier["tier"], tier["tier"]),
                    text=_text(tier.get("description")),
                    tier=tier["tier"],
                    articles=tuple(_article_id(a) for a in tier.get("articles") or ()),
                    aliases=(f"EU-TIER-{tier['tier'].upper()}",),
                )
            )
            for practice in tier.get("practices") or ():
                items.append(
                    EuProhibitedPractice(
                        id=f"Art. {practice['point']}",
                        framework=FrameworkKey.EU_AI_ACT,
                        kind="prohibited-practice",
                        name=_short_name(practice["summary"], 80),
                        text=_text(practice["summary"]),
                        parent=tier_id,
                        point=str(practice["point"]),
                        aliases=(f"Art {practice['point']}", f"Article {practice['point']}"),
                    )
                )
            for area in tier.get("annex_iii_areas") or ():
                items.append(
                    EuAnnexIIIArea(
                        id=f"Annex III({area['point']})",
                        framework=FrameworkKey.EU_AI_ACT,
                        kind="annex-iii-area",
                        name=_text(area["area"]),
                        parent=tier_id,
                        point=int(area["point"]),
                        aliases=(f"Annex III.{area['point']}", f"Annex III {area['point']}"),
                    )
                )
        seen: set[str] = set()
        for section, entries in _eu_article_sections(data):
            for entry in entries:
                article = _article_id(entry["article"])
                if article in seen:
                    continue
                seen.add(article)
                items.append(
                    EuArticle(
                        id=article,
                        framework=FrameworkKey.EU_AI_ACT,
                        kind="article",
                        name=_text(entry["title"]),
                        number=int(entry["article"]),
                        applies_to=_t(entry.get("applies_to")),
                        section=section,
                        note=_text(entry.get("note")),
                        text=_text(entry.get("note")),
                        aliases=_article_aliases(entry["article"]),
                    )
                )
        for tier in data["risk_tiers"]:  # tier articles not listed elsewhere (5, 6, 7, 50, 95)
            for number in tier.get("articles") or ():
                article = _article_id(number)
                if article not in seen:
                    seen.add(article)
                    items.append(
                        EuArticle(
                            id=article,
                            framework=FrameworkKey.EU_AI_ACT,
                            kind="article",
                            name=_text(tier.get("title"))
                            or _EU_TIER_NAMES.get(tier["tier"], tier["tier"]),
                            number=int(number),
                            section="risk tiers",
                            aliases=_article_aliases(number),
                        )
                    )
        framework = Framework(
            key=FrameworkKey.EU_AI_ACT,
            source_id=meta["id"],
            name="EU Artificial Intelligence Act (Regulation (EU) 2024/1689)",
            version="2024/1689",
            publisher="European Union",
            url=meta.get("eli", ""),
            license=_text(meta.get("license")),
            primary_kind="article",
            kinds=("risk-tier", "prohibited-practice", "annex-iii-area", "article"),
            digest=digest,
            aliases=("EU-AI-ACT", "AI-ACT", "EUAIA", "EU"),
        )
    return framework, items


def _eu_article_sections(data: Mapping[str, Any]) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    gpai = data.get("general_purpose_ai") or {}
    yield "general-purpose AI models", list(gpai.get("articles") or ())
    for section, entries in (data.get("high_risk_obligations") or {}).items():
        yield str(section).replace("_", " "), list(entries or ())
    yield "other", list(data.get("other_articles") or ())


# --- Google SAIF / CoSAI -------------------------------------------------------------------------


def _strip_atlas_version(values: Any) -> tuple[str, ...]:
    return tuple(str(v).split("@", 1)[0] for v in values or ())


def load_saif(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["framework"]
        items: list[CatalogItem] = []
        for risk in data["risks"]:
            mappings = risk.get("mappings") or {}
            code = risk.get("code")
            items.append(
                SaifRisk(
                    id=risk["id"],
                    framework=FrameworkKey.SAIF,
                    kind="risk",
                    name=risk["title"],
                    text=_text(risk.get("short_description")),
                    code=code,
                    category=str(risk.get("category") or ""),
                    in_saif_original=bool(risk.get("in_saif_original")),
                    atlas=_strip_atlas_version(mappings.get("mitre-atlas")),
                    owasp_llm=_t(mappings.get("owasp-top10-llm")),
                    stride=_t(mappings.get("stride")),
                    controls=_t(risk.get("controls")),
                    lifecycle=_t(risk.get("lifecycle_stages")),
                    impact=_t(risk.get("impact_types")),
                    aliases=(f"SAIF-{code}", f"SAIF:{code}") if code else (),
                )
            )
        for control in data["controls_index"]:
            items.append(
                SaifControl(
                    id=control["id"],
                    framework=FrameworkKey.SAIF,
                    kind="control",
                    name=control["title"],
                    category=str(control.get("category") or ""),
                    risks=_t(control.get("risks")),
                )
            )
        framework = Framework(
            key=FrameworkKey.SAIF,
            source_id=meta["id"],
            name=meta["name"],
            version="CoSAI-RM 2026-06",
            publisher="Google / Coalition for Secure AI (CoSAI)",
            url=meta.get("saif_url", ""),
            license=_text(meta.get("license")),
            primary_kind="risk",
            kinds=("risk", "control"),
            digest=digest,
            aliases=(meta["id"], "COSAI", "GOOGLE-SAIF"),
        )
    return framework, items


# --- CSA AI Controls Matrix ----------------------------------------------------------------------


def load_csa_aicm(path: Path) -> Loaded:
    data, digest = _read(path)
    with _shape_errors(path):
        meta = data["framework"]
        items: list[CatalogItem] = [
            AicmDomain(
                id=f"AICM-{domain['code']}",
                framework=FrameworkKey.CSA_AICM,
                kind="domain",
                name=domain["name"],
                code=domain["code"],
                added_in_aicm=bool(domain.get("added_in_aicm")),
                aliases=(f"AICM:{domain['code']}",),
            )
            for domain in data["domains"]
        ]
        framework = Framework(
            key=FrameworkKey.CSA_AICM,
            source_id=meta["id"],
            name=meta["name"],
            version="1.0",
            publisher=meta["publisher"],
            url=meta.get("url", ""),
            license=_text(meta.get("license")),
            primary_kind="domain",
            kinds=("domain",),
            digest=digest,
            aliases=(meta["id"], "AICM", "CSA"),
        )
    return framework, items


READERS: dict[str, Callable[[Path], Loaded]] = {
    "owasp_llm_top10_2025.yaml": load_owasp_llm,
    "owasp_agentic_top10_2026.yaml": load_owasp_agentic,
    "atlas.yaml": load_atlas,
    "nist_ai_rmf_1_0.yaml": load_nist_ai_rmf,
    "iso_42001_annex_a.yaml": load_iso_42001,
    "eu_ai_act.yaml": load_eu_ai_act,
    "google_saif_risks.yaml": load_saif,
    "csa_aicm_domains.yaml": load_csa_aicm,
}


def load_all(directory: Path | None = None) -> list[Loaded]:
    folder = directory or data_dir()
    return [reader(folder / name) for name, reader in READERS.items()]
