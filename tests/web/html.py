"""Reading served HTML the way a browser does, with the standard library's parser."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag in ("script", "style", "a", "option", "title", "q", "h1", "p", "li", "td"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def parse(html: str) -> list[Element]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def find(html: str, tag: str, **attrs: str) -> list[Element]:
    return [
        e
        for e in parse(html)
        if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
    ]


def links(html: str) -> list[str]:
    return [str(e.attrs["href"]) for e in parse(html) if e.tag == "a" and e.attrs.get("href")]


def inline_code_problems(html: str) -> list[str]:
    """What a ``script-src 'self'`` policy would block or a strict style policy would flag."""
    problems: list[str] = []
    for element in parse(html):
        is_code = element.attrs.get("type") != "application/json"
        if element.tag == "script" and not element.attrs.get("src") and is_code:
            problems.append(f"inline <script> {element.attrs}")
        # An empty <style> passes the policy's hash of the empty string (web/hardening.py).
        if element.tag == "style" and element.text:
            problems.append("<style> element with content")
        for name, value in element.attrs.items():
            if name.startswith("on"):
                problems.append(f"<{element.tag} {name}=…> event handler")
            if name == "style":
                problems.append(f"<{element.tag} style=…> inline style")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                problems.append(f"<{element.tag} {name}=javascript:…>")
    return problems
