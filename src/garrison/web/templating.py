"""The dashboard's Jinja2 environment: packaged templates, escaping on for every template.

Templates link to items with ``item_url``; catalog IDs contain spaces, colons, dots and
parentheses (``GOVERN 1.1``, ``LLM01:2025``, ``Art. 5(1)(a)``), so every ID is percent-quoted
as one path segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from garrison import __version__
from garrison.web.assets import plotly_style_guards


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str


NAV = (
    NavLink("Assets", "/assets"),
    NavLink("Risk", "/risk"),
    NavLink("Alerts", "/alerts"),
    NavLink("Coverage", "/controls/coverage"),
    NavLink("Catalog", "/catalog"),
)
"""The pillars that have pages, in menu order."""


def urlquote(value: object) -> str:
    return quote(str(value), safe="")


def item_url(item_id: str) -> str:
    return f"/catalog/item/{urlquote(item_id)}"


def asset_url(asset_id: str) -> str:
    return f"/assets/{urlquote(asset_id)}"


def risk_url(asset_id: str) -> str:
    return f"/risk/{urlquote(asset_id)}"


RISK_LEVELS = ("critical", "high", "medium", "low")


def level_class(level: object) -> str:
    """A CSS modifier for a risk level; anything unexpected gets the neutral one."""
    text = str(level or "").lower()
    return text if text in RISK_LEVELS else "none"


def framework_url(key: object, kind: str | None = None) -> str:
    url = f"/catalog/{urlquote(key)}"
    return url if kind is None else f"{url}?kind={urlquote(kind)}"


def external_url(value: object) -> str | None:
    """``value`` if it is an http(s) URL, else None: data never becomes a ``javascript:`` link."""
    text = str(value or "").strip()
    return text if urlsplit(text).scheme in ("http", "https") else None


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("garrison.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["urlquote"] = urlquote
    env.filters["level_class"] = level_class
    env.globals.update(
        version=__version__,
        nav=NAV,
        item_url=item_url,
        asset_url=asset_url,
        risk_url=risk_url,
        framework_url=framework_url,
        external_url=external_url,
        plotly_style_guards=plotly_style_guards,
    )
    return env


templates = Jinja2Templates(env=_environment())


def active_section(request: Request) -> str | None:
    path = request.url.path
    for link in NAV:
        if path == link.href or path.startswith(f"{link.href}/"):
            return link.href
    return None


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    page = {"active": active_section(request), **(context or {})}
    return templates.TemplateResponse(request, name, page, status_code=status_code, headers=headers)
