"""``/controls/coverage``: assets x OWASP items, which have an operational control and which not.

One tab per OWASP list (LLM Top 10, Agentic Top 10). The matrix is drawn as a plotly heatmap and
also given as an HTML table, which is what a screen reader or a browser without JavaScript uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from garrison.catalog import FrameworkKey
from garrison.controls.assets import estate_coverage
from garrison.controls.coverage import CellStatus, CoverageMatrix, legend
from garrison.controls.library import OWASP_FRAMEWORKS
from garrison.web.api.controls import LibraryDep
from garrison.web.deps import StoreDep
from garrison.web.errors import Link, PageNotFound
from garrison.web.pages import charts
from garrison.web.templating import asset_url, render

router = APIRouter(prefix="/controls", include_in_schema=False)

TAB_LABELS = {FrameworkKey.OWASP_LLM: "LLM Top 10", FrameworkKey.OWASP_AGENTIC: "Agentic Top 10"}

# Heatmap values: one colour band per status, in the order of the legend.
_ORDER = (
    CellStatus.GAP,
    CellStatus.DETECTIVE,
    CellStatus.PREVENTIVE,
    CellStatus.BOTH,
    CellStatus.NOT_APPLICABLE,
)
_COLOURS = {
    CellStatus.GAP: "#c0392b",
    CellStatus.DETECTIVE: "#e6b54a",
    CellStatus.PREVENTIVE: "#7fb37a",
    CellStatus.BOTH: "#2e7d4f",
    CellStatus.NOT_APPLICABLE: "#e3e7ec",
}
_SHORT = {
    CellStatus.GAP: "gap",
    CellStatus.DETECTIVE: "D",
    CellStatus.PREVENTIVE: "P",
    CellStatus.BOTH: "P+D",
    CellStatus.NOT_APPLICABLE: "n/a",
}


@dataclass(frozen=True)
class Tab:
    label: str
    href: str
    active: bool


@dataclass(frozen=True)
class LegendEntry:
    status: str
    short: str
    meaning: str
    count: int


def _colourscale() -> list[list[Any]]:
    """Discrete bands: value ``i`` of ``n`` statuses gets exactly its colour."""
    n = len(_ORDER)
    scale: list[list[Any]] = []
    for index, status in enumerate(_ORDER):
        scale.append([index / n, _COLOURS[status]])
        scale.append([(index + 1) / n, _COLOURS[status]])
    return scale


def heatmap(matrix: CoverageMatrix) -> dict[str, Any]:
    rows = matrix.rows
    columns = [item.label for item in matrix.items]
    z = [[_ORDER.index(row.cells[item.id].status) for item in matrix.items] for row in rows]
    text = [[row.cells[item.id].status.value for item in matrix.items] for row in rows]
    # Names can repeat across environments: each row is placed by index and labelled by name.
    names = [charts.label(row.asset.name or row.asset.asset_id, 36) for row in rows]
    layout = charts.base_layout(
        max(260, 22 * len(rows) + 90), {"l": 240, "r": 16, "t": 48, "b": 16}
    )
    layout["xaxis"] = {"side": "top", "fixedrange": True, "type": "category"}
    layout["yaxis"] = {
        "autorange": "reversed",
        "fixedrange": True,
        "tickmode": "array",
        "tickvals": list(range(len(rows))),
        "ticktext": names,
        "automargin": True,
    }
    return {
        "data": [
            {
                "type": "heatmap",
                "x": columns,
                "y": list(range(len(rows))),
                "z": z,
                "text": text,
                "customdata": [[name] * len(columns) for name in names],
                "zmin": -0.5,
                "zmax": len(_ORDER) - 0.5,
                "colorscale": _colourscale(),
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "hovertemplate": "%{customdata}<br>%{x}: %{text}<extra></extra>",
            }
        ],
        "layout": layout,
        "links": [asset_url(row.asset.asset_id) for row in rows],
    }


def legend_entries(matrix: CoverageMatrix) -> list[LegendEntry]:
    meanings = legend()
    counts = dict.fromkeys(_ORDER, 0)
    for row in matrix.rows:
        for cell in row.cells.values():
            counts[cell.status] += 1
    return [
        LegendEntry(status.value, _SHORT[status], meanings[status], counts[status])
        for status in (
            CellStatus.BOTH,
            CellStatus.PREVENTIVE,
            CellStatus.DETECTIVE,
            CellStatus.GAP,
            CellStatus.NOT_APPLICABLE,
        )
    ]


def _framework(value: str) -> FrameworkKey:
    for key in OWASP_FRAMEWORKS:
        if value.strip().upper() == key.value:
            return key
    raise PageNotFound(
        f"coverage is shown for OWASP-LLM and OWASP-AGENTIC, not {value!r}",
        links=[Link(TAB_LABELS[k], f"/controls/coverage?framework={k.value}") for k in TAB_LABELS],
    )


@router.get("/coverage")
def coverage_page(
    request: Request,
    store: StoreDep,
    library: LibraryDep,
    framework: str = FrameworkKey.OWASP_LLM.value,
) -> Response:
    chosen = _framework(framework)
    with store.session() as session:
        matrix, known = estate_coverage(session, library, (chosen,))
    tabs = [
        Tab(label, f"/controls/coverage?framework={key.value}", key is chosen)
        for key, label in TAB_LABELS.items()
    ]
    context = {
        "framework": chosen,
        "tabs": tabs,
        "matrix": matrix,
        "chart": heatmap(matrix),
        "legend": legend_entries(matrix),
        "short": {status.value: text for status, text in _SHORT.items()},
        "untyped": known.untyped,
        "gap_count": sum(len(row.gaps) for row in matrix.rows),
    }
    return render(request, "controls/coverage.html", context)
