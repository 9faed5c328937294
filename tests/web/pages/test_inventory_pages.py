from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx

from tests.web.demo import HOSTILE, HOSTILE_TARGET, DemoSite
from tests.web.html import find, inline_code_problems, links, parse


def page(http: httpx.Client, path: str, **params: str) -> httpx.Response:
    response = http.get(path, params=params)
    assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    return response


def asset_links(html: str) -> list[str]:
    return [href for href in links(html) if href.startswith("/assets/")]


def row_names(html: str) -> list[str]:
    if 'id="asset-table"' not in html:
        return []
    table = html.split('id="asset-table"', 1)[1].split("</table>", 1)[0]
    return [e.text for e in parse(table) if e.tag == "a" and "/assets/" in str(e.attrs["href"])]


def test_assets_lists_the_demo_inventory_with_a_chart(demo_http: httpx.Client) -> None:
    response = page(demo_http, "/assets")

    assert response.status_code == 200
    html = response.text
    assert len(asset_links(html)) >= 70
    assert HOSTILE_TARGET in row_names(html)
    [block] = find(html, "script", id="type-chart-data")
    assert block.attrs["type"] == "application/json"
    chart = json.loads(block.text)
    counts = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    assert sum(counts.values()) == len(asset_links(html))
    assert "/assets?type=ai_agent" in chart["links"]
    assert find(html, "div", id="type-chart")[0].attrs["data-chart"] == "type-chart-data"
    assert inline_code_problems(html) == []
    nav = find(html, "a", href="/assets")
    assert any(a.attrs.get("aria-current") == "page" for a in nav)


def test_every_nav_link_leads_to_a_page(demo_http: httpx.Client) -> None:
    html = page(demo_http, "/assets").text
    nav = html.split('aria-label="Pillars"', 1)[1].split("</nav>", 1)[0]

    hrefs = links(nav)
    assert hrefs == ["/assets", "/risk", "/alerts", "/controls/coverage", "/catalog"]
    for href in hrefs:
        assert page(demo_http, href).status_code == 200, href


def test_filters_narrow_the_table(demo_http: httpx.Client) -> None:
    everything = row_names(page(demo_http, "/assets").text)

    agents = page(demo_http, "/assets", type="ai_agent")
    assert agents.status_code == 200
    names = row_names(agents.text)
    assert 0 < len(names) < len(everything)
    assert "selected" in find(agents.text, "option", value="ai_agent")[0].attrs

    text = row_names(page(demo_http, "/assets", q="fraud").text)
    assert text and all(n in everything for n in text) and len(text) < len(everything)
    assert HOSTILE_TARGET in text

    prod = page(demo_http, "/assets", env="production", exposure="internet").text
    assert len(row_names(prod)) < len(everything)

    high = page(demo_http, "/assets", risk="high").text
    assert HOSTILE_TARGET in row_names(high)
    assert set(re.findall(r'class="badge badge--(\w+)"', high.split('id="asset-table"')[1])) == {
        "high"
    }

    none = page(demo_http, "/assets", q="no such asset anywhere").text
    assert "No asset matches" in none


def test_stale_filter_is_a_choice(demo_http: httpx.Client) -> None:
    current = row_names(page(demo_http, "/assets", stale="no").text)
    stale = page(demo_http, "/assets", stale="yes").text
    assert len(current) + len(row_names(stale)) >= 70


def test_bad_filter_values_are_shown_not_raised(demo_http: httpx.Client) -> None:
    response = page(demo_http, "/assets", type="<script>x</script>", stale="maybe")

    assert response.status_code == 400
    assert "is not a known asset type" in response.text
    assert "is not a stale filter" in response.text
    assert "<script>x</script>" not in response.text


def test_the_results_fragment_serves_htmx_and_redirects_a_plain_visit(
    demo_http: httpx.Client,
) -> None:
    fragment = demo_http.get(
        "/assets/results", params={"q": "fraud", "env": ""}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert HOSTILE_TARGET in fragment.text
    assert fragment.headers["HX-Replace-Url"] == "/assets?q=fraud"

    plain = demo_http.get("/assets/results", params={"q": "fraud"})
    assert plain.status_code == 303
    assert plain.headers["location"] == "/assets?q=fraud"


def test_the_form_posts_nowhere_and_works_without_htmx(demo_http: httpx.Client) -> None:
    html = page(demo_http, "/assets").text
    [form] = find(html, "form", action="/assets")
    assert form.attrs["method"] == "get"
    assert form.attrs["hx-get"] == "/assets/results"


def test_asset_page_shows_attributes_provenance_history_dependencies_and_risk(
    demo: DemoSite, demo_http: httpx.Client
) -> None:
    listing = page(demo_http, "/assets", q=HOSTILE_TARGET).text
    [href] = set(asset_links(listing))
    response = page(demo_http, href)

    assert response.status_code == 200
    html = response.text
    assert find(html, "h1")[0].text == HOSTILE_TARGET
    for heading in ("Attributes", "Provenance", "History", "Dependencies", "Risk"):
        assert f">{heading}</h2>" in html, heading
    # Upstream datasets are linked assets; the hostile test asset depends on this one.
    assert "Card transactions 2024" in html
    assert f"/assets/{quote(demo.hostile_id, safe='')}" in links(html)
    assert "/risk/" + href.rsplit("/", 1)[1] in links(html)
    assert "residual" in html
    assert inline_code_problems(html) == []


def test_asset_page_lists_supply_chain_findings(demo_http: httpx.Client) -> None:
    html = page(demo_http, "/assets", q="community-finetune").text
    hrefs = sorted(set(asset_links(html)))
    assert hrefs
    details = [page(demo_http, href).text for href in hrefs]
    detail = next(d for d in details if "records no commit it was downloaded from" in d)
    assert "unpinned model" in detail
    assert 'class="badge badge--low"' in detail


def test_hostile_asset_names_render_as_text(demo: DemoSite, demo_http: httpx.Client) -> None:
    for path in (
        f"/assets/{demo.hostile_id}",
        "/assets",
        f"/assets?q={quote(HOSTILE)}",
        f"/risk/{demo.hostile_id}",
        "/risk?limit=200",
        "/controls/coverage",
    ):
        response = demo_http.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert HOSTILE not in html, path
        assert "<b>team</b>" not in html, path
        assert not [e for e in parse(html) if e.tag == "img"], path
        assert inline_code_problems(html) == [], path
    detail = demo_http.get(f"/assets/{demo.hostile_id}").text
    assert find(detail, "h1")[0].text == HOSTILE
    assert "No open findings." in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail


def test_hostile_names_reach_charts_escaped(demo_http: httpx.Client) -> None:
    html = page(demo_http, "/controls/coverage").text
    [block] = find(html, "script", id="coverage-chart-data")
    assert "<img" not in block.text
    chart = json.loads(block.text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in chart["layout"]["yaxis"]["ticktext"]


def test_unknown_asset_is_a_404_page(demo_http: httpx.Client) -> None:
    response = page(demo_http, "/assets/no-such-asset")

    assert response.status_code == 404
    assert "Not found" in find(response.text, "h1")[0].text
    assert "/assets" in links(response.text)
    assert "/assets?q=no-such-asset" in links(response.text)

    hostile = page(demo_http, "/assets/" + quote(HOSTILE, safe=""))
    assert hostile.status_code == 404
    assert HOSTILE not in hostile.text
