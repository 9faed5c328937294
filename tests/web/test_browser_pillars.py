"""The inventory, risk and coverage pages in a real headless Chromium, over the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from garrison.store import Store
from tests.web.conftest import SignIn
from tests.web.demo import HOSTILE_TARGET, DemoSite, serve_demo

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/garrison-assets.png")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with serve_demo(tmp_path_factory.mktemp("demo")) as site:
        yield site


@pytest.fixture
def base_url(demo_site: DemoSite) -> str:
    """The shared ``page`` fixture opens this server: the demo organization, assessed."""
    return demo_site.url


@pytest.fixture
def site_store(demo_site: DemoSite) -> Store:
    """The shared ``page`` fixture signs in against this server's store."""
    return demo_site.store


def test_assets_chart_asset_page_and_risk_explanation(page: tuple[Page, list[str]]) -> None:
    tab, problems = page
    tab.goto("/assets")

    expect(tab.locator("#type-chart .plot-container svg.main-svg").first).to_be_visible()
    assert tab.locator("#type-chart .bars .point").count() >= 10
    expect(tab.locator("#asset-table tbody tr").first).to_be_visible()
    tab.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    # Filtering swaps the table in place (HTMX) and keeps the address in step.
    tab.evaluate("window.garrisonMarker = 'still here'")
    tab.get_by_role("searchbox").fill("fraud scorer")
    rows = tab.locator("#asset-table tbody tr")
    expect(rows.first).to_contain_text(HOSTILE_TARGET)
    assert tab.evaluate("window.garrisonMarker") == "still here"
    tab.wait_for_url("**/assets?q=fraud+scorer")

    tab.locator("#asset-table a", has_text=HOSTILE_TARGET).click()
    tab.wait_for_url("**/assets/*")
    expect(tab.locator("h1")).to_have_text(HOSTILE_TARGET)
    expect(tab.get_by_role("heading", name="Dependencies")).to_be_visible()
    expect(tab.locator("a", has_text="Card transactions 2024")).to_be_visible()

    tab.get_by_role("link", name="Why this score").click()
    tab.wait_for_url("**/risk/*")
    expect(tab.locator("h1")).to_have_text(HOSTILE_TARGET)
    expect(tab.locator("#factor-table tbody tr").first).to_be_visible()
    expect(tab.get_by_role("heading", name="Recommendations")).to_be_visible()

    assert problems == []


def test_risk_chart_and_coverage_heatmap_render(page: tuple[Page, list[str]]) -> None:
    tab, problems = page
    tab.goto("/risk")
    expect(tab.locator("#risk-chart .bars .point")).to_have_count(30)

    tab.goto("/controls/coverage")
    expect(tab.locator("#coverage-chart .hm image").first).to_be_attached()
    expect(tab.locator("#coverage-table tbody tr").first).to_be_visible()
    assert problems == []


def test_asset_filters_work_without_javascript(
    browser: Browser, base_url: str, sign_in: SignIn
) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    sign_in(context)
    try:
        tab = context.new_page()
        tab.goto("/assets")
        tab.get_by_label("Type", exact=True).select_option("ai_agent")
        tab.get_by_role("button", name="Apply").click()
        tab.wait_for_url("**/assets?type=ai_agent*")
        kinds = tab.locator("#asset-table tbody td:nth-child(2)").all_inner_texts()
        assert kinds and set(kinds) == {"ai agent"}
        expect(tab.get_by_role("link", name="Clear")).to_be_visible()
    finally:
        context.close()
