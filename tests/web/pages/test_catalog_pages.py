from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from garrison.catalog import get_catalog
from tests.web.html import find, links, parse

HOSTILE = "<script>alert(1)</script>"


def page(http: httpx.Client, path: str, **params: str) -> httpx.Response:
    response = http.get(path, params=params)
    assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    return response


def item_href(item_id: str) -> str:
    return f"/catalog/item/{quote(item_id, safe='')}"


def test_home_redirects_to_the_catalog(http: httpx.Client) -> None:
    response = http.get("/")

    assert response.status_code == 302
    assert response.headers["location"] == "/catalog"


def test_catalog_lists_every_framework_with_counts_and_licence(http: httpx.Client) -> None:
    response = page(http, "/catalog")

    assert response.status_code == 200
    hrefs = links(response.text)
    for framework in get_catalog().frameworks:
        assert f"/catalog/{framework.key.value}" in hrefs
        assert framework.version in response.text
    assert "/catalog/ATLAS?kind=mitigation" in hrefs
    assert "Licence: Apache-2.0, Copyright 2021-2025 MITRE" in response.text
    nav = find(response.text, "a", href="/catalog")
    assert any(a.attrs.get("aria-current") == "page" for a in nav)


def test_catalog_chart_data_is_a_json_block_with_every_framework(http: httpx.Client) -> None:
    html = page(http, "/catalog").text

    [block] = find(html, "script", id="framework-chart-data")
    assert block.attrs["type"] == "application/json"
    chart = json.loads(block.text)
    totals = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    catalog = get_catalog()
    assert totals == {f.key.value: len(catalog.items(f.key)) for f in catalog.frameworks}
    assert chart["links"] == [f"/catalog/{key}" for key in chart["data"][0]["y"]]
    assert find(html, "div", id="framework-chart")[0].attrs["data-chart"] == block.attrs["id"]
    scripts = [e.attrs.get("src") for e in parse(html) if e.tag == "script" and e.attrs.get("src")]
    assert scripts == [
        "/static/vendor/htmx.min.js",
        "/static/vendor/plotly.min.js",
        "/static/garrison.js",
    ]


def test_search_without_javascript_renders_results_on_the_server(http: httpx.Client) -> None:
    response = page(http, "/catalog", q="prompt injection")

    assert response.status_code == 200
    results = [e.text for e in parse(response.text) if e.tag == "a" and "/item/" in str(e.attrs)]
    assert "LLM01:2025" in results[:3]
    [field] = find(response.text, "input", name="q")
    assert field.attrs["value"] == "prompt injection"


def test_search_form_falls_back_to_a_plain_get(http: httpx.Client) -> None:
    [form] = find(page(http, "/catalog").text, "form", role="search")

    assert (form.attrs["action"], form.attrs["method"]) == ("/catalog", "get")
    assert form.attrs["hx-get"] == "/catalog/search"
    assert form.attrs["hx-trigger"] == "input changed delay:250ms, submit"
    assert form.attrs["hx-target"] == "#search-results"


def test_search_within_a_framework(http: httpx.Client) -> None:
    html = page(http, "/catalog", q="injection", framework="nist").text

    [selected] = [e for e in find(html, "option") if "selected" in e.attrs]
    assert selected.attrs["value"] == "NIST-AI-RMF"


def test_search_fragment_for_htmx(http: httpx.Client) -> None:
    response = http.get(
        "/catalog/search", params={"q": "prompt injection"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert item_href("LLM01:2025") in links(response.text)
    assert response.headers["HX-Replace-Url"] == "/catalog?q=prompt+injection"


def test_search_fragment_visited_directly_goes_to_the_full_page(http: httpx.Client) -> None:
    response = http.get("/catalog/search", params={"q": "LLM01", "framework": "OWASP-LLM"})

    assert response.status_code == 303
    assert response.headers["location"] == "/catalog?q=LLM01&framework=OWASP-LLM"


def test_search_problems_are_shown_by_the_search_box(http: httpx.Client) -> None:
    too_long = page(http, "/catalog", q="x" * 201)
    unknown = http.get(
        "/catalog/search", params={"q": "x", "framework": "COBIT"}, headers={"HX-Request": "true"}
    )

    assert too_long.status_code == 400
    assert "limited to 200 characters" in too_long.text
    # HTMX swaps only 2xx answers, so the fragment reports the problem with a 200.
    assert unknown.status_code == 200
    assert "unknown framework &#39;COBIT&#39;" in unknown.text


@pytest.mark.parametrize("path", ["/catalog", "/catalog/search"])
def test_hostile_search_text_is_escaped(http: httpx.Client, path: str) -> None:
    response = http.get(path, params={"q": HOSTILE}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert HOSTILE not in response.text
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_framework_page_lists_the_primary_kind_with_tabs(http: httpx.Client) -> None:
    response = page(http, "/catalog/NIST-AI-RMF")

    assert response.status_code == 200
    html = response.text
    assert item_href("GOVERN 1.1") in links(html)
    assert item_href("GOVERN 1") in links(html)  # the parent column
    tabs = {a.text.split()[0]: a for a in parse(html) if "?kind=" in str(a.attrs.get("href"))}
    assert list(tabs) == ["function", "category", "subcategory"]
    assert tabs["subcategory"].attrs.get("aria-current") == "page"
    assert "72 subcategory items" in html


def test_framework_page_of_another_kind(http: httpx.Client) -> None:
    html = page(http, "/catalog/ATLAS", kind="tactic").text

    assert item_href("AML.TA0002") in links(html)
    assert item_href("AML.T0051") not in links(html)


def test_framework_alias_redirects_to_the_canonical_page(http: httpx.Client) -> None:
    response = http.get("/catalog/aml", params={"kind": "mitigation"})

    assert response.status_code == 302
    assert response.headers["location"] == "/catalog/ATLAS?kind=mitigation"


def test_unknown_framework_is_a_404_page_offering_the_known_ones(http: httpx.Client) -> None:
    response = page(http, "/catalog/COBIT")

    assert response.status_code == 404
    assert "unknown framework &#39;COBIT&#39;" in response.text
    assert "/catalog/OWASP-LLM" in links(response.text)


def test_unknown_kind_is_a_400_page(http: httpx.Client) -> None:
    response = page(http, "/catalog/OWASP-LLM", kind="tactic")

    assert response.status_code == 400
    assert "use one of: risk" in response.text


def test_item_page_shows_fields_breadcrumbs_children_and_references(http: httpx.Client) -> None:
    response = page(http, item_href("AML.T0051"))

    assert response.status_code == 200
    html = response.text
    [title] = find(html, "h1")
    assert " ".join(title.text.split()) == "AML.T0051 LLM Prompt Injection"
    hrefs = links(html)
    assert "/catalog/ATLAS" in hrefs  # breadcrumb
    assert item_href("AML.TA0005") in hrefs  # its tactic
    assert item_href("AML.T0051.000") in hrefs  # a child
    assert item_href("riskPromptInjection") in hrefs  # SAIF maps to it
    assert "https://atlas.mitre.org/techniques/AML.T0051" in hrefs
    for label in ("Tactics", "Maturity", "Referenced by", "ATLAS mitigations", "SAIF risks"):
        assert label in html, label


def test_item_page_links_related_items_across_frameworks(http: httpx.Client) -> None:
    saif = links(page(http, item_href("riskPromptInjection")).text)
    agentic = links(page(http, item_href("ASI01")).text)

    assert item_href("LLM01:2025") in saif
    assert item_href("AML.T0051") in saif
    assert item_href("controlInputValidationAndSanitization") in saif
    assert item_href("LLM01:2025") in agentic


def test_item_ids_with_spaces_and_parentheses(http: httpx.Client) -> None:
    govern = page(http, item_href("GOVERN 1.1"))
    article = page(http, item_href("Art. 5(1)(a)"))

    assert govern.status_code == article.status_code == 200
    assert item_href("GOVERN 1") in links(govern.text)  # breadcrumbs up the hierarchy
    assert item_href("GOVERN") in links(govern.text)
    assert item_href("Art. 5(1)(a)") == "/catalog/item/Art.%205%281%29%28a%29"
    assert item_href("EU-TIER-PROHIBITED") in links(article.text)


def test_item_alias_redirects_to_the_canonical_item(http: httpx.Client) -> None:
    response = http.get(item_href("LLM01"))

    assert response.status_code == 302
    assert response.headers["location"] == "/catalog/item/LLM01%3A2025"


def test_unknown_item_is_a_404_page_with_suggestions(http: httpx.Client) -> None:
    response = page(http, item_href("LLM11"))

    assert response.status_code == 404
    hrefs = links(response.text)
    assert item_href("LLM10:2025") in hrefs
    assert "/catalog?q=LLM11" in hrefs


def test_hostile_item_id_is_escaped_on_the_404_page(http: httpx.Client) -> None:
    response = page(http, item_href(HOSTILE))

    assert response.status_code == 404
    assert HOSTILE not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_unknown_page_is_an_html_404(http: httpx.Client) -> None:
    response = page(http, "/no-such-page")

    assert response.status_code == 404
    assert "There is no page at this address." in response.text
