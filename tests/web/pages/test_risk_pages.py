from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx

from garrison.controls import get_library
from tests.web.demo import HOSTILE, UNASSESSED, DemoSite
from tests.web.html import find, inline_code_problems, links, parse


def risk_rows(html: str) -> list[tuple[str, str]]:
    """(href, asset name) per row of the top-risks table."""
    table = html.split('id="risk-table"', 1)[1].split("</table>", 1)[0]
    return [(str(e.attrs["href"]), e.text) for e in parse(table) if e.tag == "a"]


def risk_links(html: str) -> list[str]:
    return [href for href, _ in risk_rows(html)]


def test_risk_lists_the_top_risks_with_badges_and_a_chart(demo_http: httpx.Client) -> None:
    response = demo_http.get("/risk")

    assert response.status_code == 200
    html = response.text
    rows = risk_links(html)
    assert len(rows) == 50
    badges = re.findall(r'class="badge badge--\w+">(\w+)</span>', html)
    assert {"high", "medium"} <= set(badges)
    [block] = find(html, "script", id="risk-chart-data")
    chart = json.loads(block.text)
    inherent, residual = chart["data"]
    assert (inherent["name"], residual["name"]) == ("inherent", "residual")
    assert len(inherent["y"]) == len(residual["y"]) == 15
    assert all(r <= i for i, r in zip(inherent["y"], residual["y"], strict=True))
    assert residual["y"] == sorted(residual["y"], reverse=True)
    assert chart["links"] == rows[:15]
    assert inline_code_problems(html) == []


def test_risk_limit_is_bounded(demo_http: httpx.Client) -> None:
    assert len(risk_links(demo_http.get("/risk", params={"limit": "5"}).text)) == 5
    assert demo_http.get("/risk", params={"limit": "0"}).status_code == 422


def test_explanation_shows_factors_controls_and_recommendations(
    demo_http: httpx.Client,
) -> None:
    href, name = risk_rows(demo_http.get("/risk").text)[0]
    response = demo_http.get(href)

    assert response.status_code == 200
    html = response.text
    assert find(html, "h1")[0].text == name
    factor_table = html.split('id="factor-table"', 1)[1].split("</table>", 1)[0]
    factors = [e for e in parse(factor_table) if e.tag == "tr"]
    assert len(factors) >= 4  # header plus one row per dimension
    assert "%" in factor_table
    library = get_library()
    recommendations = html.split('id="recs-heading"', 1)[1]
    named = re.findall(r'<span class="id">(CTRL-[A-Z0-9-]+)</span>', recommendations)
    assert named
    assert all(library.get(control_id) for control_id in named)
    assert any(h.startswith("/catalog/item/LLM") for h in links(html))
    assert "/assets/" + href.rsplit("/", 1)[1] in links(html)
    assert inline_code_problems(html) == []


def test_hostile_asset_explanation_is_escaped(demo: DemoSite, demo_http: httpx.Client) -> None:
    html = demo_http.get(f"/risk/{demo.hostile_id}").text

    assert find(html, "h1")[0].text == HOSTILE
    assert HOSTILE not in html


def test_unknown_or_unassessed_asset_is_a_404_page(demo: DemoSite, demo_http: httpx.Client) -> None:
    unknown = demo_http.get("/risk/" + quote("no such asset", safe=""))
    assert unknown.status_code == 404
    assert "no asset has the ID" in unknown.text
    assert "/risk" in links(unknown.text)

    unassessed = demo_http.get(f"/risk/{demo.unassessed_id}")
    assert unassessed.status_code == 404
    assert f"{UNASSESSED} has not been assessed yet" in unassessed.text
    assert f"/assets/{demo.unassessed_id}" in links(unassessed.text)
