from __future__ import annotations

from datetime import UTC, datetime

import pytest

from garrison.inventory.graph import (
    build_graph,
    dot_string,
    downstream,
    find_cycles,
    missing_nodes,
    neighbourhood,
    to_dot,
    to_view,
    upstream,
)
from garrison.inventory.models import AIAsset, Dependency, Relation

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def asset(asset_id: str, name: str | None = None, asset_type: str = "tool") -> AIAsset:
    return AIAsset(
        id=asset_id,
        natural_key=f"name:{asset_id}",
        name=name or asset_id,
        asset_type=asset_type,
        registered_at=NOW,
        last_updated=NOW,
        last_seen=NOW,
    )


def edge(a: str, b: str | None, ref: str | None = None) -> Dependency:
    return Dependency(
        asset_id=a,
        target_ref=ref or b or "",
        target_id=b,
        relation=Relation.USES_MODEL,
        declared_by="declared",
    )


def test_a_shared_dependency_is_not_a_cycle() -> None:
    # Two apps on one model: the seed's visited-set walk called the second visit "circular".
    graph = build_graph(
        [asset(x) for x in "abcm"], [edge("a", "b"), edge("a", "c"), edge("b", "m"), edge("c", "m")]
    )
    assert find_cycles(graph) == []
    assert upstream(graph, "a") == {"b", "c", "m"}
    assert downstream(graph, "m") == {"a", "b", "c"}


def test_cycles_are_reported_once_each_in_order() -> None:
    graph = build_graph(
        [asset(x) for x in "abcdx"],
        [edge("b", "c"), edge("c", "a"), edge("a", "b"), edge("d", "d"), edge("x", "a")],
    )
    assert find_cycles(graph) == [["a", "b", "c"], ["d"]]


def test_cycle_listing_is_bounded() -> None:
    nodes = [str(i) for i in range(8)]
    edges = [edge(a, b) for a in nodes for b in nodes if a != b]  # complete graph: many cycles
    assert len(find_cycles(build_graph([asset(n) for n in nodes], edges), limit=25)) == 25


def test_missing_targets_are_nodes_of_their_own() -> None:
    graph = build_graph(
        [asset("a"), asset("b")],
        [edge("a", None, "gpt-4o-mini"), edge("b", None, "gpt-4o-mini"), edge("b", "gone", "x")],
    )
    missing = missing_nodes(graph)
    assert [(m.reference, m.referenced_by) for m in missing] == [
        ("gpt-4o-mini", ["a", "b"]),
        ("x", ["b"]),
    ]


def test_neighbourhood_by_direction() -> None:
    graph = build_graph([asset(x) for x in "abc"], [edge("a", "b"), edge("b", "c")])
    assert set(neighbourhood(graph, "b", "upstream").graph) == {"b", "c"}
    assert set(neighbourhood(graph, "b", "downstream").graph) == {"a", "b"}
    assert set(neighbourhood(graph, "b").graph) == {"a", "b", "c"}
    with pytest.raises(KeyError):
        neighbourhood(graph, "zz")


def test_dot_labels_cannot_break_out() -> None:
    hostile = 'x" ]; evil -> pwned; "\n\\ \x07'
    assert dot_string(hostile) == '"x\\" ]; evil -> pwned; \\"\\n\\\\ "'
    text = to_dot(build_graph([asset("a", hostile), asset("b")], [edge("a", "b")]))
    assert 'evil -> pwned; \\"' in text
    assert text.count("->") == 2  # the real edge, and the escaped text inside a label
    assert '"a" -> "b" [label="uses_model"];' in text


def test_dot_marks_cycles_and_missing() -> None:
    text = to_dot(
        build_graph(
            [asset("a"), asset("b")], [edge("a", "b"), edge("b", "a"), edge("a", None, "q")]
        )
    )
    assert 'color="darkorange"' in text
    assert '"missing:q" [label="missing: q"' in text


def test_json_view() -> None:
    view = to_view(
        build_graph([asset("a", "App", "llm_application"), asset("m")], [edge("a", "m")]),
        root="a",
    )
    assert [n.id for n in view.nodes] == ["a", "m"]
    assert view.nodes[0].asset_type == "llm_application"
    assert view.edges[0].model_dump() == {
        "source": "a",
        "target": "m",
        "relation": "uses_model",
        "declared_by": "declared",
    }
