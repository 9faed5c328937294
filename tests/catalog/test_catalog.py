from __future__ import annotations

import pytest

from garrison.catalog import FrameworkKey, get_catalog
from garrison.catalog.models import (
    AtlasMitigation,
    AtlasTechnique,
    EuArticle,
    NistSubcategory,
    SaifRisk,
)
from garrison.core.errors import NotFoundError, UnknownCatalogIdError

catalog = get_catalog()


@pytest.mark.parametrize(
    ("framework", "kind", "count"),
    [
        ("OWASP-LLM", "risk", 10),
        ("OWASP-AGENTIC", "risk", 10),
        ("ATLAS", "tactic", 16),
        ("ATLAS", "technique", 101),
        ("ATLAS", "sub-technique", 69),
        ("ATLAS", "mitigation", 35),
        ("ATLAS", "case-study", 57),
        ("NIST-AI-RMF", "function", 4),
        ("NIST-AI-RMF", "category", 19),
        ("NIST-AI-RMF", "subcategory", 72),
        ("ISO-42001", "control-group", 9),
        ("ISO-42001", "control", 38),
        ("EU-AI-ACT", "risk-tier", 4),
        ("EU-AI-ACT", "annex-iii-area", 8),
        ("EU-AI-ACT", "prohibited-practice", 8),
        ("SAIF", "risk", 36),
        ("SAIF", "control", 35),
        ("CSA-AICM", "domain", 18),
    ],
)
def test_counts_match_the_published_frameworks(framework: str, kind: str, count: int) -> None:
    assert len(catalog.items(framework, kind)) == count


def test_nist_functions_hold_their_published_number_of_subcategories() -> None:
    per_function: dict[str, int] = {}
    for item in catalog.items("NIST-AI-RMF", "subcategory"):
        assert isinstance(item, NistSubcategory)
        per_function[item.function] = per_function.get(item.function, 0) + 1
    assert per_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}


def test_saif_keeps_the_fifteen_original_risks() -> None:
    original = [
        r for r in catalog.items("SAIF", "risk") if isinstance(r, SaifRisk) and r.in_saif_original
    ]
    assert len(original) == 15
    assert catalog.get("SAIF-PIJ").id == "riskPromptInjection"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("LLM01:2025", "LLM01:2025"),
        ("LLM01", "LLM01:2025"),
        ("llm10", "LLM10:2025"),
        ("ASI03", "ASI03"),
        ("ASI03:2026", "ASI03"),
        ("AML.T0051", "AML.T0051"),
        ("aml.t0051.000", "AML.T0051.000"),
        ("AML.TA0002", "AML.TA0002"),
        ("AML.M0000", "AML.M0000"),
        ("AML.CS0000", "AML.CS0000"),
        ("GOVERN 1.1", "GOVERN 1.1"),
        ("GV-1.1", "GOVERN 1.1"),
        ("govern  1.1", "GOVERN 1.1"),
        ("MEASURE 2", "MEASURE 2"),
        ("MANAGE", "MANAGE"),
        ("A.6.2.4", "A.6.2.4"),
        ("A.6", "A.6"),
        ("Art. 15", "Art. 15"),
        ("Article 15", "Art. 15"),
        ("art 15", "Art. 15"),
        ("Art.50", "Art. 50"),
        ("Art. 5(1)(a)", "Art. 5(1)(a)"),
        ("Annex III(4)", "Annex III(4)"),
        ("EU-TIER-HIGH-RISK", "EU-TIER-HIGH-RISK"),
        ("AICM-IAM", "AICM-IAM"),
    ],
)
def test_ids_resolve_in_the_notations_people_write(written: str, canonical: str) -> None:
    assert catalog.get(written).id == canonical


def test_unknown_id_suggests_close_ones() -> None:
    with pytest.raises(UnknownCatalogIdError) as excinfo:
        catalog.get("LLM11:2025")
    assert "LLM10:2025" in excinfo.value.suggestions
    assert "did you mean" in str(excinfo.value)


def test_hierarchy_and_typed_cross_references() -> None:
    assert [a.id for a in catalog.ancestors("GOVERN 1.1")] == ["GOVERN 1", "GOVERN"]
    assert len(catalog.children("GOVERN")) == 6
    technique = catalog.get("AML.T0051.000")
    assert isinstance(technique, AtlasTechnique)
    assert technique.subtechnique_of == "AML.T0051"
    assert technique.tactics  # inherited from the parent technique when not its own
    assert all(catalog.get(t).kind == "tactic" for t in technique.tactics)
    for mitigation in catalog.items("ATLAS", "mitigation"):
        assert isinstance(mitigation, AtlasMitigation)
        assert all(t in catalog for t in mitigation.techniques)
    article = catalog.get("Art. 26")
    assert isinstance(article, EuArticle)
    assert article.applies_to == ("deployer",)


def test_every_saif_mapping_resolves_in_the_catalog() -> None:
    for risk in catalog.items("SAIF", "risk"):
        assert isinstance(risk, SaifRisk)
        for ref in (*risk.owasp_llm, *risk.controls, *risk.atlas):
            assert ref in catalog, (risk.id, ref)


def test_frameworks_are_found_by_alias() -> None:
    assert catalog.framework("nist").key is FrameworkKey.NIST_AI_RMF
    assert catalog.framework("OWASP-LLM-TOP10-2025").key is FrameworkKey.OWASP_LLM
    with pytest.raises(NotFoundError, match="unknown framework 'COBIT'"):
        catalog.framework("COBIT")


def test_search_ranks_exact_names_and_ids_first() -> None:
    top = [hit.item.id for hit in catalog.search("prompt injection")[:3]]
    assert "LLM01:2025" in top
    assert catalog.search("AML.T0051")[0].item.id == "AML.T0051"
    assert catalog.search("GOVERN 1.1")[0].item.id == "GOVERN 1.1"
    extraction = [h.item.id for h in catalog.search("model extraction", framework="ATLAS")]
    assert extraction
    assert all(catalog.get(i).framework is FrameworkKey.ATLAS for i in extraction)


def test_search_needs_every_word_and_ignores_punctuation() -> None:
    assert catalog.search("prompt zzyzx") == []
    assert catalog.search("   ...  ") == []
    assert catalog.search("<script>alert(1)</script>") == []


def test_search_is_bounded() -> None:
    assert len(catalog.search("the", limit=7)) == 7
