"""Coverage on a small synthetic library and estate, every expected cell worked out by hand."""

from __future__ import annotations

from garrison.catalog import FrameworkKey
from garrison.controls import Control, load_library
from garrison.controls.coverage import (
    AssetScope,
    CellStatus,
    cell_for,
    coverage_matrix,
    select_assets,
    short_label,
)
from garrison.controls.library import ControlLibrary

BASE = load_library()


def control(cid: str, kind: str, applies: list[str], owasp: list[str]) -> Control:
    return Control.model_validate(
        {
            "id": cid,
            "name": cid,
            "type": kind,
            "category": "guardrails",
            "family": "test",
            "applies_to": applies,
            "summary": "s",
            "implementation": {"deploy": "d", "verify": "v", "evidence": ["e"]},
            "effectiveness": {"weight": 0.3, "rationale": "r"},
            "mappings": {"owasp_llm": owasp},
        }
    )


# LLM01: preventive P1 and detective D1 on apps; LLM02: preventive P2 on apps and datasets;
# LLM04: detective D4 on datasets only; corrective C1 on LLM03 never covers anything.
LIBRARY = ControlLibrary(
    [
        control("CTRL-P1", "preventive", ["api_endpoint"], ["LLM01"]),
        control("CTRL-D1", "detective", ["api_endpoint"], ["LLM01"]),
        control("CTRL-P2", "preventive", ["api_endpoint", "training_dataset"], ["LLM02"]),
        control("CTRL-D4", "detective", ["training_dataset"], ["LLM04"]),
        control("CTRL-C1", "corrective", ["api_endpoint"], ["LLM03"]),
    ]
)
APP = AssetScope("app", "api_endpoint", "payments", "Payments bot")
APP2 = AssetScope("app2", "api_endpoint", "Research")
DATA = AssetScope("data", "training_dataset", "payments")
STATES = {
    "app": {
        "CTRL-P1": "operational",
        "CTRL-D1": "operational",
        "CTRL-P2": "implemented",
        "CTRL-C1": "operational",
    },
    "app2": {"CTRL-D1": "operational", "CTRL-P1": "failed"},
    "data": {"CTRL-P2": "operational"},
}


def statuses(matrix_row: dict[str, object]) -> dict[str, str]:
    return {item.split(":")[0]: cell.status.value for item, cell in matrix_row.items()}  # type: ignore[attr-defined]


def test_matrix_cells_by_hand() -> None:
    matrix = coverage_matrix(LIBRARY, [APP, APP2, DATA], STATES, [FrameworkKey.OWASP_LLM])
    assert [i.label for i in matrix.items] == [f"LLM{n:02}" for n in range(1, 11)]
    rows = {row.asset.asset_id: statuses(dict(row.cells)) for row in matrix.rows}
    na = "not-applicable"
    assert rows["app"] == {
        "LLM01": "both",
        "LLM02": "gap",
        "LLM03": na,
        "LLM04": na,
        "LLM05": na,
        "LLM06": na,
        "LLM07": na,
        "LLM08": na,
        "LLM09": na,
        "LLM10": na,
    }
    assert rows["app2"]["LLM01"] == "covered-detective"
    assert rows["app2"]["LLM02"] == "gap"
    assert rows["data"]["LLM01"] == na
    assert rows["data"]["LLM02"] == "covered-preventive"
    assert rows["data"]["LLM04"] == "gap"

    app2_llm01 = matrix.rows[1].cells["LLM01:2025"]
    assert app2_llm01.detective == ("CTRL-D1",)
    assert app2_llm01.missing_preventive == ("CTRL-P1",)
    assert matrix.has_gaps
    assert matrix.gaps() == {"LLM02:2025": ["app", "app2"], "LLM04:2025": ["data"]}
    llm02 = next(s for s in matrix.item_gaps if s.item.id == "LLM02:2025")
    assert (llm02.gap, llm02.preventive_only, llm02.recommended) == (
        ("app", "app2"),
        ("data",),
        ("CTRL-P2",),
    )
    llm01 = next(s for s in matrix.item_gaps if s.item.id == "LLM01:2025")
    assert (llm01.both, llm01.detective_only, llm01.not_applicable) == (
        ("app",),
        ("app2",),
        ("data",),
    )


def test_no_gaps_when_everything_applicable_is_covered() -> None:
    states = {"app": {"CTRL-P1": "operational", "CTRL-P2": "operational"}}
    matrix = coverage_matrix(LIBRARY, [APP], states, [FrameworkKey.OWASP_LLM])
    assert not matrix.has_gaps
    data = matrix.to_dict()
    assert data["gap_count"] == 0
    assert data["assets"][0]["cells"]["LLM01:2025"]["status"] == "covered-preventive"
    assert set(data["legend"]) == {s.value for s in CellStatus}


def test_unknown_asset_and_empty_estate() -> None:
    matrix = coverage_matrix(LIBRARY, [], STATES)
    assert matrix.rows == ()
    assert not matrix.has_gaps
    assert len(matrix.items) == 20


def test_cell_for_ignores_states_of_controls_that_do_not_apply() -> None:
    cell = cell_for(list(LIBRARY), "training_dataset", {"CTRL-P1": "operational"})
    assert cell.status is CellStatus.GAP  # P2 and D4 apply and neither is operational


def test_select_assets_by_team_and_id() -> None:
    assets = [APP, APP2, DATA]
    assert select_assets(assets, team="PAYMENTS") == [APP, DATA]
    assert select_assets(assets, asset_id="app2") == [APP2]
    assert select_assets(assets) == assets


def test_real_library_on_an_agent() -> None:
    agent = AssetScope("agent", "ai_agent")
    everything = {c.id: "operational" for c in BASE.applicable("ai_agent")}
    matrix = coverage_matrix(BASE, [agent], {"agent": everything})
    assert all(
        c.status in (CellStatus.BOTH, CellStatus.NOT_APPLICABLE)
        for c in matrix.rows[0].cells.values()
    )
    assert matrix.rows[0].cells["ASI06"].status is CellStatus.BOTH
    nothing = coverage_matrix(BASE, [agent], {})
    assert nothing.rows[0].cells["LLM06:2025"].status is CellStatus.GAP


def test_short_label() -> None:
    assert short_label("LLM01:2025") == "LLM01"
    assert short_label("ASI10") == "ASI10"
