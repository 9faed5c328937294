"""Every page is ready for a strict Content-Security-Policy and escapes what it shows."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from garrison.web.templating import templates
from tests.web.html import find, inline_code_problems

PAGES = [
    "/catalog",
    "/catalog?q=prompt+injection",
    "/catalog/ATLAS",
    "/catalog/ATLAS?kind=case-study",
    "/catalog/item/AML.T0051",
    "/catalog/item/AML.CS0000",
    "/catalog/item/riskPromptInjection",
    "/catalog/item/GOVERN%201.1",
    "/catalog/item/Art.%205%281%29%28a%29",
    "/catalog/item/LLM11",
    "/catalog/COBIT",
    "/catalog/OWASP-LLM?kind=tactic",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_handler_or_style(http: httpx.Client, path: str) -> None:
    html = http.get(path).text

    assert inline_code_problems(html) == []
    assert find(html, "link", rel="stylesheet")[0].attrs["href"] == "/static/garrison.css"


def test_search_fragment_has_no_inline_code(http: httpx.Client) -> None:
    html = http.get("/catalog/search?q=llm", headers={"HX-Request": "true"}).text

    assert inline_code_problems(html) == []


def test_template_sources_have_no_inline_code() -> None:
    folder = Path(str(files("garrison.web") / "templates"))
    sources = sorted(folder.rglob("*.html"))

    assert sources
    for source in sources:
        assert inline_code_problems(source.read_text()) == [], source.name


def test_pages_load_nothing_from_another_origin(http: httpx.Client) -> None:
    for path in PAGES:
        html = http.get(path).text
        scripts = [str(e.attrs["src"]) for e in find(html, "script") if e.attrs.get("src")]
        styles = [str(e.attrs["href"]) for e in find(html, "link")]
        for url in scripts + styles:
            assert url.startswith("/static/"), (path, url)


def test_json_data_blocks_cannot_end_their_script_element() -> None:
    rendered = templates.env.from_string('<script type="application/json">{{ d|tojson }}</script>')

    html = rendered.render(d={"name": "</script><script>alert(1)</script>", "q": "a'b&c"})

    assert html.count("</script>") == 1
    assert "\\u003c/script\\u003e" in html


@pytest.mark.parametrize("name", ["page.html", "fragment.txt", "mail.j2", None])
def test_autoescape_is_on_for_every_template_name(name: str | None) -> None:
    autoescape = templates.env.autoescape

    assert callable(autoescape)
    assert autoescape(name) is True
    assert templates.env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
