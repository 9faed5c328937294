from __future__ import annotations

import json

import httpx

from tests.web.html import find, inline_code_problems, links, parse

STATUSES = {"both", "covered-preventive", "covered-detective", "gap", "not-applicable"}


def matrix_cells(html: str) -> list[str]:
    table = html.split('id="coverage-table"', 1)[1].split("</table>", 1)[0]
    return [
        str(e.attrs["class"]).split("cell--", 1)[1]
        for e in parse(table)
        if e.tag == "td" and "cell--" in str(e.attrs.get("class"))
    ]


def test_coverage_shows_the_llm_matrix_as_heatmap_and_table(demo_http: httpx.Client) -> None:
    response = demo_http.get("/controls/coverage")

    assert response.status_code == 200
    html = response.text
    [block] = find(html, "script", id="coverage-chart-data")
    chart = json.loads(block.text)
    [heat] = chart["data"]
    assert heat["type"] == "heatmap"
    assert heat["x"] == [f"LLM{n:02d}" for n in range(1, 11)]
    rows = len(heat["z"])
    assert rows >= 70 and len(chart["links"]) == rows
    cells = matrix_cells(html)
    assert len(cells) == rows * 10
    assert set(cells) <= STATUSES and "gap" in cells
    for status in STATUSES:
        assert f"cell--{status}" in html  # every status is in the legend
    assert "/catalog/item/LLM01%3A2025" in links(html)
    tabs = find(html, "a", href="/controls/coverage?framework=OWASP-LLM")
    assert tabs[0].attrs.get("aria-current") == "page"
    assert inline_code_problems(html) == []


def test_coverage_agentic_tab(demo_http: httpx.Client) -> None:
    html = demo_http.get("/controls/coverage", params={"framework": "OWASP-AGENTIC"}).text

    [block] = find(html, "script", id="coverage-chart-data")
    assert json.loads(block.text)["data"][0]["x"][0] == "ASI01"
    tab = find(html, "a", href="/controls/coverage?framework=OWASP-AGENTIC")[0]
    assert tab.attrs.get("aria-current") == "page"


def test_coverage_of_another_framework_is_a_404(demo_http: httpx.Client) -> None:
    response = demo_http.get("/controls/coverage", params={"framework": "<i>ATLAS</i>"})

    assert response.status_code == 404
    assert "<i>ATLAS</i>" not in response.text
    assert "/controls/coverage?framework=OWASP-AGENTIC" in links(response.text)
