"""``garrison assets``: the AI asset inventory from the command line."""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text
from rich.tree import Tree

from garrison import audit
from garrison.cli import state
from garrison.cli.output import console, err_console, print_json, table
from garrison.core.errors import GarrisonError
from garrison.inventory import (
    DEFAULT_ORG,
    AIAsset,
    AssetDetail,
    AssetFilter,
    AssetSpec,
    AssetType,
    ComplianceStatus,
    Confidence,
    DataClassification,
    Environment,
    Evidence,
    Exposure,
    RegulatoryScope,
    compliance_gap_report,
    edit_asset,
    get_asset,
    get_asset_detail,
    load_graph,
    register,
    resolve_asset,
    search,
    to_dot,
    to_view,
)
from garrison.inventory.graph import AssetGraph, Direction, neighbourhood
from garrison.inventory.importing import (
    DECLARED_SOURCE,
    Format,
    ImportFormatError,
    import_assets,
    read_rows,
)
from garrison.inventory.models import ATTRIBUTE_NAMES, IDENTITY_ATTRIBUTES
from garrison.inventory.registry import MANUAL_SOURCE, validation_message

PROGRESS_THRESHOLD = 1000
"""Rows from which an import shows a progress bar."""

app = typer.Typer(
    help="""The AI asset inventory: models, endpoints, agents, tools, MCP servers, datasets,
vector stores, guardrails, prompts and API keys (by reference), with where each was seen,
what it depends on, and the compliance gaps.

\b
Examples:
  garrison assets list --env production --exposure public
  garrison assets list --type ai_agent --json
  garrison assets show "Northwind Assist"          # attributes, evidence, history, edges
  garrison assets add --name "Fraud scorer" --type fine_tuned_model --env production \\
      --owner-team "Payments Risk" --classification regulated --scope pci_dss
  garrison assets edit 3f2a9c --set owner_team="Payments Risk" --set sbom_available=true
  garrison assets import estate.yaml               # YAML, JSON or CSV; bad rows reported
  garrison assets graph "Northwind Assist" --upstream --dot assist.dot
  garrison assets gaps                             # exit 1 when there are gaps (CI)
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
OrgOption = Annotated[
    str | None, typer.Option("--org", help="Only this organization's assets (its key).")
]


def _actor(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


# --- list -----------------------------------------------------------------------------------------


@app.command("list")
def list_assets(
    *,
    org: OrgOption = None,
    asset_type: Annotated[
        list[AssetType] | None, typer.Option("--type", "-t", help="Asset type (repeatable).")
    ] = None,
    env: Annotated[
        list[Environment] | None, typer.Option("--env", "-e", help="Environment (repeatable).")
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="Model or cloud provider, e.g. openai, aws."),
    ] = None,
    classification: Annotated[
        list[DataClassification] | None,
        typer.Option("--classification", "-c", help="Data classification (repeatable)."),
    ] = None,
    unclassified: Annotated[
        bool, typer.Option("--unclassified", help="Only assets nobody has classified.")
    ] = False,
    owner_team: Annotated[str | None, typer.Option("--owner-team", help="Owning team.")] = None,
    scope: Annotated[
        RegulatoryScope | None, typer.Option("--scope", help="Regulatory scope, e.g. gdpr.")
    ] = None,
    exposure: Annotated[
        list[Exposure] | None, typer.Option("--exposure", help="Network exposure (repeatable).")
    ] = None,
    stale: Annotated[
        bool | None,
        typer.Option("--stale/--fresh", help="Only assets a complete run no longer sees, or not."),
    ] = None,
    status: Annotated[
        list[ComplianceStatus] | None,
        typer.Option("--status", help="Compliance status (repeatable)."),
    ] = None,
    unreviewed: Annotated[
        bool, typer.Option("--unreviewed", help="Only compliance status 'unreviewed'.")
    ] = False,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Text in name, description, model, owner or tags."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List assets, filtered. Filters combine; a repeated option means any of its values.

    \b
    Examples:
      garrison assets list --org northwind --type llm_application --type ai_agent
      garrison assets list --exposure public --classification confidential
      garrison assets list --unclassified --json
      garrison assets list -q claude --stale
    """
    filters = AssetFilter(
        org=org,
        asset_types=tuple(asset_type or ()),
        environments=tuple(env or ()),
        providers=tuple(provider or ()),
        data_classifications=tuple(classification or ()),
        unclassified=unclassified,
        owner_team=owner_team,
        regulatory_scope=scope,
        exposures=tuple(exposure or ()),
        stale=stale,
        compliance_statuses=tuple(status or ()),
        unreviewed_only=unreviewed,
        text=query,
        limit=limit,
    )
    with state.store().session() as session:
        assets = search(session, filters)
    if as_json:
        print_json([asset.model_dump(mode="json") for asset in assets])
        return
    console.print(
        table(
            f"{len(assets)} asset(s)",
            ["ID", "name", "type", "env", "model", "owner", "data", "exposure", "status"],
            (
                [
                    asset.id[:8],
                    asset.name + (" (stale)" if asset.stale else ""),
                    asset.asset_type.value,
                    asset.environment.value,
                    _model(asset),
                    asset.owner_team or "-",
                    asset.data_classification.value if asset.data_classification else "-",
                    asset.exposure.value,
                    asset.compliance_status.value,
                ]
                for asset in assets
            ),
        )
    )


def _model(asset: AIAsset) -> str:
    parts = [p for p in (asset.model_provider, asset.model_name) if p]
    return "/".join(parts) if parts else "-"


# --- show -----------------------------------------------------------------------------------------


AssetArgument = Annotated[
    str,
    typer.Argument(metavar="ASSET", help="Asset ID (or 6+ first characters), source ID or name."),
]


@app.command()
def show(asset: AssetArgument, org: OrgOption = None, as_json: JsonOption = False) -> None:
    """Show one asset: attributes with their provenance, dependencies, evidence and history.

    \b
    Examples:
      garrison assets show "Northwind Assist"
      garrison assets show 3f2a9c1e --json
      garrison assets show arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2
    """
    with state.store().session() as session:
        found = resolve_asset(session, asset, org=org)
        detail = get_asset_detail(session, found.id)
        names = _names(session, detail)
    if as_json:
        print_json(detail)
        return
    _print_detail(detail, names)


def _names(session: Any, detail: AssetDetail) -> dict[str, str]:
    ids = {d.target_id for d in detail.upstream if d.target_id} | {
        d.asset_id for d in detail.downstream
    }
    if not ids:
        return {}
    return {a.id: a.name for a in search(session, AssetFilter(org=detail.asset.org)) if a.id in ids}


def _print_detail(detail: AssetDetail, names: dict[str, str]) -> None:
    asset = detail.asset
    title = f"{asset.name} ({asset.asset_type.value}, {asset.environment.value})"
    if asset.stale:
        title += f" — STALE since {asset.stale_since:%Y-%m-%d} ({', '.join(asset.stale_sources)})"
    data = asset.attributes()
    rows = []
    for name in sorted(ATTRIBUTE_NAMES):
        value = data.get(name)
        if value in (None, "", [], {}):
            continue
        held = asset.provenance.get(name)
        where = f"{held.source} ({held.confidence.value})" if held else ""
        rows.append([name, _short(value), where])
    console.print(table(title, ["attribute", "value", "set by"], rows))
    console.print(Text(f"ID {asset.id}   natural key {asset.natural_key}"))
    console.print(
        Text(
            f"registered {asset.registered_at:%Y-%m-%d %H:%M}Z   "
            f"updated {asset.last_updated:%Y-%m-%d %H:%M}Z   "
            f"last seen {asset.last_seen:%Y-%m-%d %H:%M}Z"
        )
    )
    if detail.upstream or detail.downstream:
        console.print(
            table(
                "Dependencies",
                ["direction", "relation", "asset", "declared by"],
                [
                    *(
                        [
                            "uses",
                            d.relation.value,
                            names.get(d.target_id, d.target_ref)
                            if d.target_id
                            else f"{d.target_ref} (missing)",
                            d.declared_by,
                        ]
                        for d in detail.upstream
                    ),
                    *(
                        [
                            "used by",
                            d.relation.value,
                            names.get(d.asset_id, d.asset_id),
                            d.declared_by,
                        ]
                        for d in detail.downstream
                    ),
                ],
            )
        )
    if detail.evidence:
        console.print(
            table(
                "Evidence",
                ["source", "location", "confidence", "attributes", "last seen"],
                (
                    [
                        e.source,
                        e.location,
                        e.confidence.value,
                        ", ".join(e.attributes)
                        if len(e.attributes) <= 4
                        else f"{len(e.attributes)} attributes",
                        f"{e.observed_at:%Y-%m-%d %H:%M}Z",
                    ]
                    for e in detail.evidence
                ),
            )
        )
    console.print(
        table(
            "History",
            ["when", "action", "source", "actor", "changes"],
            (
                [
                    f"{h.at:%Y-%m-%d %H:%M}Z",
                    h.action,
                    h.source,
                    h.actor or "",
                    "; ".join(
                        f"{c.attribute}: {_short(c.old)} → {_short(c.new)}" for c in h.changes
                    ),
                ]
                for h in detail.history
            ),
        )
    )


def _short(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- add / edit -----------------------------------------------------------------------------------

_LIST_FIELDS = frozenset({"regulatory_scope", "tags", "depends_on"})
_JSON_FIELDS = frozenset({"tools", "vector_namespaces", "api_key"})


def parse_assignment(text: str) -> tuple[str, Any]:
    """``field=value`` from ``--set``: lists comma-separated, JSON for structured fields,
    ``null`` (or nothing) to clear. Pydantic converts the rest (numbers, booleans, dates)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise typer.BadParameter(f"{text!r} is not field=value", param_hint="--set")
    if name in IDENTITY_ATTRIBUTES or (name not in ATTRIBUTE_NAMES and name != "depends_on"):
        raise typer.BadParameter(
            f"{name!r} is not an editable field; fields: "
            + ", ".join(sorted((ATTRIBUTE_NAMES - IDENTITY_ATTRIBUTES) | {"depends_on"})),
            param_hint="--set",
        )
    value = raw.strip()
    if value in ("", "null", "none"):
        return name, [] if name in _LIST_FIELDS else None
    if name in _JSON_FIELDS or value[:1] in ("[", "{"):
        try:
            return name, json.loads(value)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{name}: not JSON ({exc.msg})", param_hint="--set") from None
    if name in _LIST_FIELDS:
        return name, [part.strip() for part in value.split(",") if part.strip()]
    return name, value


def _spec(values: dict[str, Any]) -> AssetSpec:
    try:
        return AssetSpec.model_validate(values)
    except ValidationError as exc:
        raise GarrisonError(validation_message(exc), hint="fix the value and try again") from None


@app.command()
def add(
    *,
    name: Annotated[str | None, typer.Option(help="Asset name.")] = None,
    asset_type: Annotated[
        AssetType | None, typer.Option("--type", "-t", help="Asset type.")
    ] = None,
    env: Annotated[Environment | None, typer.Option("--env", "-e", help="Environment.")] = None,
    org: Annotated[str, typer.Option(help="Organization key.")] = DEFAULT_ORG,
    owner_team: Annotated[str | None, typer.Option("--owner-team")] = None,
    owner_email: Annotated[str | None, typer.Option("--owner-email")] = None,
    classification: Annotated[
        DataClassification | None, typer.Option("--classification", "-c")
    ] = None,
    exposure: Annotated[Exposure | None, typer.Option()] = None,
    provider: Annotated[str | None, typer.Option(help="Model provider.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or ID.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="API endpoint URL.")] = None,
    source_id: Annotated[
        str | None, typer.Option("--source-id", help="The source's own ID, e.g. an ARN.")
    ] = None,
    scope: Annotated[
        list[RegulatoryScope] | None, typer.Option("--scope", help="Regulatory scope (repeatable).")
    ] = None,
    depends_on: Annotated[
        list[str] | None,
        typer.Option("--depends-on", help="An asset this one uses, by name or ID (repeatable)."),
    ] = None,
    assignments: Annotated[
        list[str] | None, typer.Option("--set", help="Any other field: field=value (repeatable).")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="A YAML or JSON file holding one asset's fields."),
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who is adding it (default: your user).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register one asset by hand (an upsert: adding a known asset updates it).

    \b
    Examples:
      garrison assets add --name "Claims triage bot" --type llm_application --env production \\
          --owner-team Claims --owner-email claims@example.com --exposure public \\
          --depends-on "Azure OpenAI gpt-4o (prod)" --set last_security_review=2026-10-01
      garrison assets add --file asset.yaml
    """
    values: dict[str, Any] = {}
    if from_file is not None:
        rows = read_rows(from_file, None if from_file.suffix else "yaml", org=None)
        if len(rows) != 1 or rows[0].spec is None:
            problem = rows[0].error if len(rows) == 1 else f"{len(rows)} assets in the file"
            raise GarrisonError(
                f"{from_file}: {problem}",
                hint="`add --file` takes one asset; use `garrison assets import` for many",
            )
        values = rows[0].spec.model_dump(mode="json", exclude_unset=True)
    given = {
        "name": name,
        "asset_type": asset_type,
        "environment": env,
        "owner_team": owner_team,
        "owner_email": owner_email,
        "data_classification": classification,
        "exposure": exposure,
        "model_provider": provider,
        "model_name": model,
        "api_endpoint": endpoint,
        "source_id": source_id,
        "regulatory_scope": scope,
        "depends_on": depends_on,
    }
    values |= {k: v for k, v in given.items() if v is not None}
    values.setdefault("org", org)
    values |= dict(parse_assignment(item) for item in assignments or ())
    if "name" not in values or "asset_type" not in values:
        raise typer.BadParameter("an asset needs --name and --type (or a --file that has them)")
    spec = _spec(values)
    who = _actor(actor)
    with state.store().session() as session:
        outcome = register(
            session,
            spec,
            source=MANUAL_SOURCE,
            evidence=[Evidence(location=f"cli:add by {who}", confidence=Confidence.DECLARED)],
            actor=who,
        )
        if outcome.action != "unchanged":
            audit.record(
                session, f"cli:{who}", f"asset.{outcome.action}", "asset", outcome.asset_id,
                None, outcome.changes, org=spec.org,
            )  # fmt: skip
    if as_json:
        print_json(outcome)
        return
    console.print(Text(f"{outcome.action} {outcome.asset_id} ({spec.name})"))
    for change in outcome.changes:
        console.print(Text(f"  {change.attribute}: {_short(change.old)} → {_short(change.new)}"))


@app.command()
def edit(
    asset: AssetArgument,
    assignments: Annotated[
        list[str], typer.Option("--set", help="field=value; repeat for several fields.")
    ],
    org: OrgOption = None,
    actor: Annotated[
        str | None, typer.Option(help="Who makes the change (default: your user).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change attributes of one asset; the change is recorded in its history with the actor.

    Lists are comma-separated; tools, vector_namespaces and api_key take JSON; 'null' clears.

    \b
    Examples:
      garrison assets edit "Fraud holdout 2025-Q3" --set data_classification=regulated
      garrison assets edit 3f2a9c --set regulatory_scope=gdpr,pci_dss --set sbom_available=true
      garrison assets edit 3f2a9c --set review_due=2027-01-31 --actor alice
      garrison assets edit 3f2a9c \\
          --set 'api_key={"location":"env_var","reference":"OPENAI_API_KEY"}'
    """
    changes = dict(parse_assignment(item) for item in assignments)
    with state.store().session() as session:
        found = resolve_asset(session, asset, org=org)
        outcome = edit_asset(session, found.id, changes, _actor(actor))
        if outcome.action != "unchanged":
            audit.record(
                session, f"cli:{_actor(actor)}", "asset.edit", "asset", found.id,
                found, get_asset(session, found.id), org=found.org,
            )  # fmt: skip
    if as_json:
        print_json(outcome)
        return
    if not outcome.changes and "depends_on" not in changes:
        console.print(Text(f"{found.name}: nothing changed"))
        return
    console.print(Text(f"{found.name} ({outcome.asset_id}) updated"))
    for change in outcome.changes:
        console.print(Text(f"  {change.attribute}: {_short(change.old)} → {_short(change.new)}"))


# --- import ---------------------------------------------------------------------------------------


@app.command("import")
def import_file(
    *,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A .yaml, .json or .csv file.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="yaml, json or csv (default: from the extension)."),
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Organization for rows that name none.")
    ] = None,
    source: Annotated[
        str, typer.Option(help="Source name recorded as the rows' provenance.")
    ] = DECLARED_SOURCE,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="The file is the whole list for its source: assets it no longer lists go stale.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import declared assets. Each row is validated alone; a bad row is reported with its line
    and skipped, the rest are registered (upserts: importing twice changes nothing).

    Exit codes: 0 all imported, 1 some rows rejected, 2 unreadable file or wrong format.

    \b
    YAML (JSON the same shape):
      org: northwind
      assets:
        - name: Claims triage bot
          asset_type: llm_application
          environment: production
          owner_team: Claims
          depends_on: [{target: "Azure OpenAI gpt-4o (prod)", relation: uses_model}]
    CSV: a header of field names; lists separated by ';'; api_key.location and
    api_key.reference columns for keys:
      name,asset_type,environment,owner_team,regulatory_scope
      Claims triage bot,llm_application,production,Claims,gdpr;eu_ai_act_limited_risk

    \b
    Examples:
      garrison assets import estate.yaml
      garrison assets import export.csv --org northwind --json
      garrison assets import cmdb.json --source cmdb --complete
    """
    chosen: Format | None = None
    if fmt is not None:
        if fmt not in ("yaml", "json", "csv"):
            raise ImportFormatError(f"unknown format {fmt!r}", hint="use yaml, json or csv")
        chosen = fmt  # type: ignore[assignment]  # narrowed by the check above
    rows = read_rows(path, chosen, org=org)
    valid = sum(row.spec is not None for row in rows)
    with state.store().session() as session:
        if valid >= PROGRESS_THRESHOLD and not as_json:
            with Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("import", total=valid)
                report = import_assets(
                    session,
                    rows,
                    path=str(path),
                    source=source,
                    complete=complete,
                    progress=lambda n: bar.advance(task, n),
                )
        else:
            report = import_assets(session, rows, path=str(path), source=source, complete=complete)
    rejected = [
        {"line": row.line, "item": row.index + 1, "error": row.error} for row in report.rejected
    ]
    if as_json:
        print_json(
            {
                "file": str(path),
                "accepted": report.accepted,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": rejected,
                "run": report.run,
            }
        )
    else:
        console.print(
            Text(
                f"{path}: {report.accepted} imported ({report.created} created, "
                f"{report.updated} updated, {report.unchanged} unchanged), "
                f"{len(rejected)} rejected"
            )
        )
        for item in rejected:
            where = f"line {item['line']}" if item["line"] is not None else f"item {item['item']}"
            err_console.print(Text(f"  {path}:{where}: {item['error']}"))
    if rejected:
        raise typer.Exit(1)


# --- graph ----------------------------------------------------------------------------------------


@app.command()
def graph(
    *,
    asset: Annotated[
        str | None, typer.Argument(metavar="[ASSET]", help="Centre on this asset (ID or name).")
    ] = None,
    org: OrgOption = None,
    upstream: Annotated[
        bool, typer.Option("--upstream", help="Only what ASSET depends on.")
    ] = False,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Only what depends on ASSET.")
    ] = False,
    dot: Annotated[
        Path | None, typer.Option("--dot", help="Write Graphviz DOT to this file ('-': stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The dependency graph: what each asset uses and what uses it, with cycles and missing
    assets (edges to something not in the inventory) reported.

    \b
    Examples:
      garrison assets graph --org northwind                 # summary, cycles, missing
      garrison assets graph "Northwind Assist" --upstream   # a tree of what it relies on
      garrison assets graph "Card fraud scorer v7" --downstream --json
      garrison assets graph --dot estate.dot && dot -Tsvg estate.dot > estate.svg
    """
    if upstream and downstream:
        raise typer.BadParameter("give --upstream or --downstream, not both (default: both)")
    direction: Direction = "upstream" if upstream else "downstream" if downstream else "both"
    if asset is None and (upstream or downstream):
        raise typer.BadParameter("--upstream and --downstream need an ASSET")
    with state.store().session() as session:
        root = resolve_asset(session, asset, org=org) if asset is not None else None
        full = load_graph(session, org=org if root is None else root.org)
    chosen = full if root is None else neighbourhood(full, root.id, direction)
    view = to_view(chosen, root=None if root is None else root.id, direction=direction)
    if dot is not None:
        text = to_dot(chosen, highlight=() if root is None else (root.id,))
        if str(dot) == "-":
            typer.echo(text, nl=False)
            return
        try:
            dot.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise GarrisonError(f"cannot write {dot}: {exc.strerror}") from None
        if not as_json:
            err_console.print(
                Text(f"wrote {dot} ({len(view.nodes)} nodes, {len(view.edges)} edges)")
            )
    if as_json:
        print_json(view)
        return
    if root is not None:
        _print_tree(chosen, root, direction)
    else:
        console.print(Text(f"{len(view.nodes)} nodes, {len(view.edges)} edges"))
    names = {node.id: node.name for node in view.nodes}
    for cycle in view.cycles:
        console.print(Text("cycle: " + " → ".join(names.get(n, n) for n in [*cycle, cycle[0]])))
    for missing in view.missing:
        users = ", ".join(names.get(n, n) for n in missing.referenced_by)
        console.print(Text(f"missing: {missing.reference!r} (used by {users})"))


def _print_tree(graph_: AssetGraph, root: AIAsset, direction: Direction) -> None:
    g = graph_.graph

    def label(node: str, relation: str | None) -> Text:
        data = g.nodes[node]
        text = Text(str(data.get("name", node)))
        if data.get("missing"):
            text.append(" (missing)", style="red")
        else:
            text.append(f"  {data.get('asset_type')}", style="dim")
        if relation:
            text = Text(f"{relation}: ").append_text(text)
        return text

    def grow(tree: Tree, node: str, forward: bool, path: tuple[str, ...]) -> None:
        edges = g.out_edges(node, data=True) if forward else g.in_edges(node, data=True)
        for source, target, data in sorted(edges, key=lambda e: (str(e[0]), str(e[1]))):
            nxt = target if forward else source
            branch = tree.add(label(nxt, str(data["relation"])))
            if nxt in path:
                branch.add(Text("↻ cycle", style="yellow"))
                continue
            grow(branch, nxt, forward, (*path, nxt))

    top = Tree(label(root.id, None))
    if direction in ("upstream", "both"):
        grow(
            top.add(Text("uses", style="bold")) if direction == "both" else top,
            root.id,
            True,
            (root.id,),
        )
    if direction in ("downstream", "both"):
        grow(
            top.add(Text("used by", style="bold")) if direction == "both" else top,
            root.id,
            False,
            (root.id,),
        )
    console.print(top)


# --- gaps -----------------------------------------------------------------------------------------


@app.command()
def gaps(
    org: OrgOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as on this date (YYYY-MM-DD, UTC).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The compliance gap report: never reviewed, review out of date, self-hosted without SBOM,
    unclassified or under-classified data, no owner, public with sensitive data, public without
    a guardrail, EU AI Act high-risk not assessed. Thresholds are content
    (inventory/gap_rules.yaml; override it in GARRISON_CONTENT_DIR).

    Exit code 1 when there is any gap, so a CI job can fail on it.

    \b
    Examples:
      garrison assets gaps --org northwind
      garrison assets gaps --json | jq '.by_kind.no_owner'
      garrison assets gaps --as-of 2027-01-01
    """
    day: date | None = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise typer.BadParameter(
                f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
            ) from None
    settings = state.settings()
    with state.store().session() as session:
        report = compliance_gap_report(
            session, org=org, as_of=day, content_dir=settings.content_dir
        )
    if as_json:
        print_json(report)
    else:
        console.print(
            table(
                f"Compliance gaps as of {report.as_of.isoformat()}: {len(report.gaps)} "
                f"over {report.assets_checked} asset(s)",
                ["rule", "severity", "asset", "reason"],
                ([g.rule_id, g.severity.value, g.asset_name, g.reason] for g in report.gaps),
            )
        )
        console.print(
            table(
                None,
                ["rule", "title", "gaps", "frameworks"],
                ([r.id, r.title, r.count, ", ".join(r.frameworks)] for r in report.rules),
            )
        )
    if report.has_gaps:
        raise typer.Exit(1)
