from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from garrison.catalog import get_catalog
from garrison.web.api.catalog import ITEM_MODELS


def item(http: httpx.Client, item_id: str) -> httpx.Response:
    return http.get(f"/api/v1/catalog/items/{quote(item_id, safe='')}")


def ids(refs: list[dict[str, Any]]) -> list[str]:
    return [ref["id"] for ref in refs]


def test_frameworks_with_counts_per_kind(http: httpx.Client) -> None:
    response = http.get("/api/v1/catalog/frameworks")

    assert response.status_code == 200
    frameworks = {f["key"]: f for f in response.json()}
    assert set(frameworks) == {f.key.value for f in get_catalog().frameworks}
    atlas = frameworks["ATLAS"]
    assert atlas["counts"] == {
        "tactic": 16,
        "technique": 101,
        "sub-technique": 69,
        "mitigation": 35,
        "case-study": 57,
    }
    assert atlas["total"] == sum(atlas["counts"].values())
    assert atlas["primary_kind"] == "technique"
    assert frameworks["OWASP-LLM"]["counts"] == {"risk": 10}
    assert "Apache-2.0" in atlas["license"]


def test_one_framework_by_alias(http: httpx.Client) -> None:
    response = http.get("/api/v1/catalog/frameworks/nist")

    assert response.status_code == 200
    assert response.json()["key"] == "NIST-AI-RMF"


def test_items_default_to_the_primary_kind(http: httpx.Client) -> None:
    body = http.get("/api/v1/catalog/frameworks/NIST-AI-RMF/items").json()

    assert body["framework"] == "NIST-AI-RMF"
    assert body["kind"] == "subcategory"
    assert body["count"] == 72 == len(body["items"])
    first = body["items"][0]
    assert first["id"] == "GOVERN 1.1"
    assert first["short_id"] == "GV-1.1"  # the subclass's own fields are in the response


def test_items_of_a_kind_by_framework_alias(http: httpx.Client) -> None:
    body = http.get("/api/v1/catalog/frameworks/AML/items", params={"kind": "mitigation"}).json()

    assert body["framework"] == "ATLAS"
    assert body["kind"] == "mitigation"
    assert body["count"] == 35
    assert all(i["kind"] == "mitigation" and i["techniques"] for i in body["items"])


def test_a_kind_the_framework_lacks_is_a_400_naming_the_kinds(http: httpx.Client) -> None:
    response = http.get("/api/v1/catalog/frameworks/OWASP-LLM/items", params={"kind": "tactic"})

    assert response.status_code == 400
    assert response.json() == {
        "error": "OWASP-LLM has no kind 'tactic'",
        "hint": "use one of: risk",
    }


def test_unknown_framework_is_a_404_listing_the_known_ones(http: httpx.Client) -> None:
    response = http.get("/api/v1/catalog/frameworks/COBIT/items")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown framework 'COBIT'"
    assert "OWASP-LLM" in body["hint"]


def test_item_by_alias_answers_with_the_canonical_item(http: httpx.Client) -> None:
    response = item(http, "LLM01")

    assert response.status_code == 200
    body = response.json()
    assert body["item"]["id"] == "LLM01:2025"
    assert body["item"]["name"] == "Prompt Injection"
    assert body["item"]["related"] == ["LLM01:2023 Prompt Injection"]
    # The agentic risks and SAIF risks that map to LLM01 point back at it.
    assert {"ASI01", "riskPromptInjection"} <= set(ids([r["item"] for r in body["referenced_by"]]))


def test_item_with_spaces_has_its_hierarchy(http: httpx.Client) -> None:
    body = item(http, "GOVERN 1.1").json()

    assert body["item"]["id"] == "GOVERN 1.1"
    assert body["parent"]["id"] == "GOVERN 1"
    assert ids(body["ancestors"]) == ["GOVERN 1", "GOVERN"]
    assert body["children"] == []


def test_item_with_parentheses(http: httpx.Client) -> None:
    body = item(http, "Art. 5(1)(a)").json()

    assert body["item"]["id"] == "Art. 5(1)(a)"
    assert body["item"]["point"] == "5(1)(a)"
    assert body["parent"]["id"] == "EU-TIER-PROHIBITED"


def test_item_references_both_ways(http: httpx.Client) -> None:
    body = item(http, "AML.T0051").json()

    assert body["item"]["kind"] == "technique"
    assert ids(body["children"]) == ["AML.T0051.000", "AML.T0051.001", "AML.T0051.002"]
    assert {"relation": "tactics", "item": "AML.TA0005"} in [
        {"relation": r["relation"], "item": r["item"]["id"]} for r in body["references"]
    ]
    incoming = {(r["relation"], r["item"]["kind"]) for r in body["referenced_by"]}
    assert ("techniques", "mitigation") in incoming
    assert ("atlas", "risk") in incoming  # SAIF's prompt-injection risk


def test_unknown_item_is_a_404_with_suggestions(http: httpx.Client) -> None:
    response = item(http, "LLM11")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown catalog ID 'LLM11'"
    assert "LLM10:2025" in body["hint"]


def test_search_ranks_the_owasp_entry_first(http: httpx.Client) -> None:
    body = http.get("/api/v1/catalog/search", params={"q": "prompt injection"}).json()

    assert body["query"] == "prompt injection"
    assert "LLM01:2025" in ids(body["hits"])[:3]
    assert body["count"] == len(body["hits"])
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_search_an_exact_id_ranks_it_first(http: httpx.Client) -> None:
    body = http.get("/api/v1/catalog/search", params={"q": "GV-1.1"}).json()

    assert ids(body["hits"])[0] == "GOVERN 1.1"


def test_search_within_a_framework_and_kind(http: httpx.Client) -> None:
    body = http.get(
        "/api/v1/catalog/search",
        params={"q": "injection", "framework": "atlas", "kind": "technique", "limit": 5},
    ).json()

    assert body["framework"] == "ATLAS"
    assert 0 < body["count"] <= 5
    assert {(h["framework"], h["kind"]) for h in body["hits"]} == {("ATLAS", "technique")}


def test_search_unknown_kind_is_a_400(http: httpx.Client) -> None:
    response = http.get("/api/v1/catalog/search", params={"q": "x", "kind": "spell"})

    assert response.status_code == 400
    assert "no kind 'spell'" in response.json()["error"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "injection", "limit": "0"},
        {"q": "injection", "limit": "201"},
        {"q": "injection", "limit": "ten"},
        {"q": ""},
        {"q": "x" * 201},
        {},
    ],
    ids=["limit-0", "limit-201", "limit-text", "empty-q", "long-q", "no-q"],
)
def test_search_validates_its_parameters(http: httpx.Client, params: dict[str, str]) -> None:
    response = http.get("/api/v1/catalog/search", params=params)

    assert response.status_code == 422


def test_search_accepts_the_limit_bounds(http: httpx.Client) -> None:
    for limit in (1, 200):
        response = http.get("/api/v1/catalog/search", params={"q": "a", "limit": limit})
        assert response.status_code == 200
        assert response.json()["count"] <= limit


def test_every_item_class_in_the_catalog_is_typed_in_the_api() -> None:
    used = {type(i) for i in get_catalog().items()}

    assert used <= set(ITEM_MODELS)


def test_unknown_api_path_is_a_json_404(http: httpx.Client) -> None:
    response = http.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
