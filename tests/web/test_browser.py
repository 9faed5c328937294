"""The dashboard in a real headless Chromium (Debian's, not a Playwright download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import SignIn

pytestmark = pytest.mark.browser


def test_catalog_chart_search_and_item_in_a_real_browser(
    page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    tab, problems = page
    tab.goto("/catalog")

    expect(tab.locator("#framework-chart .plot-container svg.main-svg").first).to_be_visible()
    expect(tab.locator("#framework-chart .bars .point")).to_have_count(8)
    shot = tmp_path / "catalog.png"
    tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # A marker on window survives HTMX swaps and dies with a full page load.
    tab.evaluate("window.garrisonMarker = 'still here'")
    tab.get_by_role("searchbox", name="Search the catalog").fill("prompt injection")
    first_hits = tab.locator("#search-results tbody tr td.id a")
    expect(first_hits.first).to_be_visible()
    expect(tab.locator("#search-results")).to_contain_text("LLM01:2025")
    top3 = first_hits.all_inner_texts()[:3]
    assert "LLM01:2025" in top3
    assert tab.evaluate("window.garrisonMarker") == "still here"
    assert tab.url.endswith("/catalog?q=prompt+injection")

    tab.locator("#search-results a", has_text="LLM01:2025").click()
    tab.wait_for_url("**/catalog/item/LLM01%3A2025")
    expect(tab.locator("h1")).to_contain_text("Prompt Injection")
    expect(tab.locator("a", has_text="riskPromptInjection")).to_be_visible()

    assert problems == []


def test_catalog_chart_bar_opens_its_framework(page: tuple[Page, list[str]]) -> None:
    tab, problems = page
    tab.goto("/catalog")
    bar = tab.locator("#framework-chart .bars .point path").last  # the top bar: ATLAS, the largest
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box is not None

    # Plotly hit-tests clicks on its own overlay, so click where the bar is drawn, as a person does.
    tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    tab.wait_for_url("**/catalog/ATLAS")
    expect(tab.locator("h1")).to_contain_text("Adversarial Threat Landscape")
    assert problems == []


def test_search_form_works_without_javascript(
    browser: Browser, base_url: str, sign_in: SignIn
) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    sign_in(context)
    try:
        tab = context.new_page()
        tab.goto("/catalog")
        tab.get_by_role("searchbox", name="Search the catalog").fill("GOVERN 1.1")
        tab.get_by_role("button", name="Search").click()
        tab.wait_for_url("**/catalog?q=GOVERN+1.1*")
        expect(tab.locator("#search-results td.id a").first).to_have_text("GOVERN 1.1")
    finally:
        context.close()
