"""The dependency graph of an estate: upstream/downstream walks, cycles, missing nodes, exports.

Pure functions over ``AIAsset`` and ``Dependency`` values (``registry.load_graph`` builds one
from the store). An edge points from the dependent asset to what it uses, so an asset's
*upstream* is everything reachable from it (models, data, keys it relies on) and its
*downstream* is everything that reaches it (what breaks, or leaks, if it is compromised).

Fixes against the seed's ``dependency_graph``: it walked upstream only; its single ``visited`` set
reported any asset reached twice through a diamond (two apps sharing one model) as "circular";
and a cycle was never reported as such. Here a cycle is a real cycle (from strongly connected
components), each reported once with its members in order, and an edge to an asset that is not
in the registry is a *missing* node carrying the reference that could not be resolved.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel

from garrison.inventory.models import AIAsset, Dependency

Direction = Literal["upstream", "downstream", "both"]
MAX_CYCLES = 100
"""Cycles listed per report; an estate with more has a modelling problem to fix first."""
MISSING_PREFIX = "missing:"


@dataclass(frozen=True)
class AssetGraph:
    """A directed graph: nodes are asset IDs (or ``missing:<ref>``), edges carry the relation."""

    graph: nx.MultiDiGraph[str]

    def __contains__(self, node: str) -> bool:
        return node in self.graph

    @property
    def assets(self) -> list[str]:
        return sorted(n for n, data in self.graph.nodes(data=True) if not data.get("missing"))


def missing_node(reference: str) -> str:
    return MISSING_PREFIX + reference


def build_graph(assets: Iterable[AIAsset], dependencies: Iterable[Dependency]) -> AssetGraph:
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for asset in assets:
        graph.add_node(
            asset.id,
            name=asset.name,
            asset_type=asset.asset_type.value,
            environment=asset.environment.value,
            stale=asset.stale,
            missing=False,
        )
    for edge in dependencies:
        if edge.asset_id not in graph:
            continue  # the depending asset is outside the selection (another organization)
        target = edge.target_id
        if target is None or target not in graph:
            target = missing_node(edge.target_ref)
            graph.add_node(target, name=edge.target_ref, missing=True)
        graph.add_edge(
            edge.asset_id,
            target,
            key=f"{edge.relation.value}|{edge.declared_by}",
            relation=edge.relation.value,
            declared_by=edge.declared_by,
        )
    return AssetGraph(graph)


def upstream(graph: AssetGraph, asset_id: str) -> set[str]:
    """Everything ``asset_id`` depends on, directly or not."""
    return set(nx.descendants(graph.graph, asset_id))


def downstream(graph: AssetGraph, asset_id: str) -> set[str]:
    """Everything that depends on ``asset_id``, directly or not."""
    return set(nx.ancestors(graph.graph, asset_id))


def neighbourhood(graph: AssetGraph, asset_id: str, direction: Direction = "both") -> AssetGraph:
    """The subgraph of ``asset_id`` and its upstream, downstream, or both."""
    if asset_id not in graph.graph:
        raise KeyError(asset_id)
    nodes = {asset_id}
    if direction in ("upstream", "both"):
        nodes |= upstream(graph, asset_id)
    if direction in ("downstream", "both"):
        nodes |= downstream(graph, asset_id)
    return AssetGraph(graph.graph.subgraph(nodes).copy())


def find_cycles(graph: AssetGraph, limit: int = MAX_CYCLES) -> list[list[str]]:
    """Elementary cycles, each once, rotated to start at its smallest ID; at most ``limit``.

    Only strongly connected components can hold cycles, so the search stays inside them.
    """
    simple: nx.DiGraph[str] = nx.DiGraph(graph.graph)
    found: list[list[str]] = []
    for component in nx.strongly_connected_components(simple):
        members = sorted(component)
        if len(members) == 1 and not simple.has_edge(members[0], members[0]):
            continue
        sub = simple.subgraph(members)
        for cycle in itertools.islice(nx.simple_cycles(sub), limit - len(found)):
            start = cycle.index(min(cycle))
            found.append(cycle[start:] + cycle[:start])
        if len(found) >= limit:
            break
    return sorted(found)


def missing_nodes(graph: AssetGraph) -> list[MissingNode]:
    """Edge targets that are not in the registry, with the assets that point at them."""
    result = []
    for node, data in graph.graph.nodes(data=True):
        if data.get("missing"):
            referrers = sorted({source for source, _ in graph.graph.in_edges(node)})
            result.append(MissingNode(reference=data["name"], referenced_by=referrers))
    return sorted(result, key=lambda m: m.reference)


def _nodes(graph: AssetGraph) -> list[tuple[str, dict[str, Any]]]:
    return [(node, dict(graph.graph.nodes[node])) for node in sorted(graph.graph.nodes)]


def _edges(graph: AssetGraph) -> list[tuple[str, str, dict[str, Any]]]:
    found = [(str(s), str(t), dict(d)) for s, t, d in graph.graph.edges(data=True)]
    return sorted(found, key=lambda e: (e[0], e[1], str(e[2]["relation"])))


class GraphNode(BaseModel):
    id: str
    name: str
    asset_type: str | None = None
    environment: str | None = None
    stale: bool = False
    missing: bool = False


class GraphEdge(BaseModel):
    source: str
    target: str
    relation: str
    declared_by: str


class MissingNode(BaseModel):
    reference: str
    referenced_by: list[str]


class GraphView(BaseModel):
    """The JSON form of a graph (``garrison assets graph --json``, ``GET /api/v1/assets/graph``)."""

    root: str | None = None
    direction: Direction = "both"
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    cycles: list[list[str]]
    missing: list[MissingNode]


def to_view(
    graph: AssetGraph, *, root: str | None = None, direction: Direction = "both"
) -> GraphView:
    nodes = [
        GraphNode(
            id=node,
            name=str(data.get("name", node)),
            asset_type=data.get("asset_type"),
            environment=data.get("environment"),
            stale=bool(data.get("stale", False)),
            missing=bool(data.get("missing", False)),
        )
        for node, data in _nodes(graph)
    ]
    edges = [
        GraphEdge(
            source=source,
            target=target,
            relation=data["relation"],
            declared_by=data["declared_by"],
        )
        for source, target, data in _edges(graph)
    ]
    return GraphView(
        root=root,
        direction=direction,
        nodes=nodes,
        edges=edges,
        cycles=find_cycles(graph),
        missing=missing_nodes(graph),
    )


# --- Graphviz DOT ---------------------------------------------------------------------------------

_SHAPES = {
    "foundation_model": "box3d",
    "fine_tuned_model": "box3d",
    "embedding_model": "box3d",
    "vector_database": "cylinder",
    "knowledge_base": "cylinder",
    "training_dataset": "folder",
    "evaluation_dataset": "folder",
    "ai_agent": "hexagon",
    "llm_application": "component",
    "api_key": "note",
    "guardrail_config": "octagon",
    "prompt_template": "note",
    "mcp_server": "component",
    "tool": "cds",
}


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: quotes and backslashes escaped, line breaks as ``\\n``,
    other control characters dropped, so a hostile asset name cannot break out of its label."""
    out: list[str] = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char in ("\r", "\t"):
            out.append(" ")
        elif ord(char) < 32 or ord(char) == 127:
            continue
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def to_dot(
    graph: AssetGraph, *, title: str = "garrison assets", highlight: Sequence[str] = ()
) -> str:
    """Graphviz DOT text (``dot -Tsvg``): stale assets dashed, missing ones red, cycles bold."""
    cycle_edges = {
        (cycle[i], cycle[(i + 1) % len(cycle)])
        for cycle in find_cycles(graph)
        for i in range(len(cycle))
    }
    lines = [
        f"digraph {dot_string(title)} {{",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8];',
    ]
    for node, data in _nodes(graph):
        attrs: dict[str, Any] = {}
        if data.get("missing"):
            attrs |= {"label": f"missing: {data.get('name', node)}", "shape": "box"}
            attrs |= {"color": "red", "fontcolor": "red", "style": "dashed"}
        else:
            kind = str(data.get("asset_type", ""))
            attrs["label"] = f"{data.get('name', node)}\n{kind} · {data.get('environment', '')}"
            attrs["shape"] = _SHAPES.get(kind, "box")
            if data.get("stale"):
                attrs["style"] = "dashed"
        if node in highlight:
            attrs["penwidth"] = 2.5
        lines.append(f"  {dot_string(node)} [{_attributes(attrs)}];")
    for source, target, data in _edges(graph):
        attrs = {"label": data["relation"]}
        if (source, target) in cycle_edges:
            attrs |= {"color": "darkorange", "penwidth": 2}
        lines.append(f"  {dot_string(source)} -> {dot_string(target)} [{_attributes(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attributes(attrs: dict[str, Any]) -> str:
    parts = []
    for name, value in attrs.items():
        rendered = str(value) if isinstance(value, int | float) else dot_string(str(value))
        parts.append(f"{name}={rendered}")
    return ", ".join(parts)
