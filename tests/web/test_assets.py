from __future__ import annotations

from pathlib import Path

import httpx
import plotly

from garrison.web.assets import plotly_style_guards


def test_plotly_js_comes_from_the_installed_plotly_package(http: httpx.Client) -> None:
    response = http.get("/static/vendor/plotly.min.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in response.headers["cache-control"]
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert response.content == bundled.read_bytes()
    assert b"plotly.js v" in response.content[:200]


def test_vendored_htmx_and_our_own_files_are_served(http: httpx.Client) -> None:
    htmx = http.get("/static/vendor/htmx.min.js")
    css = http.get("/static/garrison.css")
    js = http.get("/static/garrison.js")

    assert htmx.status_code == css.status_code == js.status_code == 200
    assert htmx.text.startswith("var htmx=")
    assert css.headers["content-type"].startswith("text/css")
    assert "Plotly.newPlot" in js.text


def test_static_files_do_not_leak_outside_their_folder(http: httpx.Client) -> None:
    response = http.get("/static/..%2f..%2fapp.py")

    assert response.status_code == 404


def test_pages_pre_empt_every_style_element_plotly_would_fill(http: httpx.Client) -> None:
    """Our CSP refuses <style> elements with text; plotly.js adds one per guarded id on load."""
    bundled = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    guards = plotly_style_guards()
    assert bundled.count('createElement("style")') >= len(guards)
    catalog = http.get("/catalog").text
    for guard in guards:
        assert f'getElementById("{guard}")' in bundled
        assert f'<style id="{guard}"></style>' in catalog
