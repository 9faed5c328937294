"""Plotly figures for the pillar pages, as plain data: ``garrison.js`` draws them.

Every label that came from data (asset names from discovery) is HTML-escaped here, because
plotly.js reads a few tags (``<b>``, ``<a href>``, ``<br>``) in text it draws; escaped, a name
is only ever drawn as the text it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 13}
ACCENT = "#2f5d8a"
RESIDUAL = "#c0562d"
GRID = "#e3e7ec"


def label(text: str, limit: int = 40) -> str:
    """``text`` shortened to ``limit`` characters and escaped for plotly."""
    short = text if len(text) <= limit else f"{text[: limit - 1]}…"
    return escape(short, quote=False)


def base_layout(height: int, margin: dict[str, int]) -> dict[str, Any]:
    return {
        "height": height,
        "margin": margin,
        # Counts to read and click, not plots to zoom: dragging would only get in the way.
        "dragmode": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": FONT,
    }


def horizontal_bars(
    labels: Sequence[str], counts: Sequence[int], links: Sequence[str], unit: str
) -> dict[str, Any]:
    """One bar per label, the first label on top, each bar leading to its link."""
    # plotly draws the first bar lowest: reverse so the list reads top-down.
    ys = [label(text) for text in reversed(labels)]
    layout = base_layout(22 * len(labels) + 60, {"l": 150, "r": 16, "t": 8, "b": 40})
    layout["xaxis"] = {"title": {"text": unit}, "gridcolor": GRID, "fixedrange": True}
    layout["yaxis"] = {"fixedrange": True, "automargin": True}
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": list(reversed(counts)),
                "y": ys,
                "hovertemplate": f"%{{y}}: %{{x}} {unit}<extra></extra>",
                "marker": {"color": ACCENT},
            }
        ],
        "layout": layout,
        "links": list(reversed(links)),
    }


def inherent_vs_residual(
    names: Sequence[str],
    inherent: Sequence[float],
    residual: Sequence[float],
    links: Sequence[str],
) -> dict[str, Any]:
    """Grouped bars per asset: the risk before controls and what is left after them."""
    xs = [f"{index + 1}. {label(name, 28)}" for index, name in enumerate(names)]
    layout = base_layout(420, {"l": 56, "r": 16, "t": 8, "b": 150})
    layout["barmode"] = "group"
    layout["xaxis"] = {"tickangle": -35, "fixedrange": True, "automargin": True}
    layout["yaxis"] = {
        "title": {"text": "score (0-100)"},
        "range": [0, 100],
        "gridcolor": GRID,
        "fixedrange": True,
    }
    layout["legend"] = {"orientation": "h", "y": 1.08, "x": 0}
    return {
        "data": [
            {
                "type": "bar",
                "name": "inherent",
                "x": xs,
                "y": list(inherent),
                "marker": {"color": ACCENT},
                "hovertemplate": "%{x}<br>inherent %{y:.1f}<extra></extra>",
            },
            {
                "type": "bar",
                "name": "residual",
                "x": xs,
                "y": list(residual),
                "marker": {"color": RESIDUAL},
                "hovertemplate": "%{x}<br>residual %{y:.1f}<extra></extra>",
            },
        ],
        "layout": layout,
        "links": list(links),
    }
