"""``garrison controls``: the control library, each asset's control state, and OWASP coverage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from garrison.catalog import FrameworkKey
from garrison.cli import state as cli_state
from garrison.cli.output import console, print_json, table
from garrison.controls import Control, ControlCategory, ControlLibrary, ControlType, load_library
from garrison.controls.assets import estate_coverage, lookup_asset
from garrison.controls.coverage import AssetScope, CellStatus, CoverageMatrix, legend
from garrison.controls.library import OWASP_FRAMEWORKS, get_library
from garrison.controls.state import (
    Attestation,
    ControlState,
    attest,
    control_states,
    history,
)
from garrison.core.errors import GarrisonError, NotFoundError

app = typer.Typer(
    help="""The technical control library, per-asset control state, and OWASP coverage.

Controls are content (content/controls/*.yaml, overridable per organization with
GARRISON_CONTENT_DIR): preventive, detective and corrective, each with an implementation
specification and mappings to OWASP LLM 2025 and Agentic 2026, MITRE ATLAS, NIST AI RMF,
ISO/IEC 42001 and the EU AI Act. A control counts for coverage on an asset only once it is
attested operational there.

\b
Examples:
  garrison controls list --type detective --maps-to LLM01
  garrison controls show CTRL-INPUT-FILTER
  garrison controls attest support-bot CTRL-INPUT-FILTER --state operational \\
      --by alice --evidence https://ci.example.com/runs/812
  garrison controls state support-bot
  garrison controls coverage --team payments --framework OWASP-LLM
  garrison controls library-check --content-dir ./our-content
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_CELL_STYLE = {
    CellStatus.BOTH: ("P+D", "bold green"),
    CellStatus.PREVENTIVE: ("P", "yellow"),
    CellStatus.DETECTIVE: ("D", "yellow"),
    CellStatus.GAP: ("GAP", "bold white on red"),
    CellStatus.NOT_APPLICABLE: ("·", "dim"),
}
_STATE_STYLE = {
    ControlState.OPERATIONAL: "green",
    ControlState.IMPLEMENTED: "yellow",
    ControlState.PLANNED: "cyan",
    ControlState.FAILED: "bold red",
}


def _library() -> ControlLibrary:
    return get_library(cli_state.settings().content_dir)


def _framework_keys(framework: str | None) -> tuple[FrameworkKey, ...]:
    if framework is None:
        return OWASP_FRAMEWORKS
    key = FrameworkKey(get_framework_key(framework))
    if key not in OWASP_FRAMEWORKS:
        raise typer.BadParameter(
            f"coverage is computed for OWASP-LLM and OWASP-AGENTIC, not {key.value}",
            param_hint="--framework",
        )
    return (key,)


def get_framework_key(name: str) -> str:
    return _library().catalog.framework(name).key.value


def _control_json(control: Control, library: ControlLibrary) -> dict[str, Any]:
    data = control.model_dump(mode="json")
    source = library.sources.get(control.id)
    data["source"] = None if source is None else str(source)
    return data


# --- library ------------------------------------------------------------------------------------


@app.command("list")
def list_controls(  # noqa: PLR0917 - Typer maps each option to a parameter
    control_type: Annotated[
        ControlType | None, typer.Option("--type", help="preventive, detective or corrective.")
    ] = None,
    asset_type: Annotated[
        str | None, typer.Option(help="Only controls that apply to this asset type.")
    ] = None,
    maps_to: Annotated[
        str | None,
        typer.Option(help="Only controls mapped to this framework item, e.g. LLM01, AML.M0015."),
    ] = None,
    category: Annotated[
        ControlCategory | None, typer.Option(help="e.g. input_filtering, rate_limiting.")
    ] = None,
    family: Annotated[str | None, typer.Option(help="e.g. input, agents, supply_chain.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List controls, optionally filtered. Exits 1 when nothing matches."""
    library = _library()
    if maps_to is not None:
        library.catalog.get(maps_to)  # an unknown ID is an input error, not "no match"
    chosen = library.filter(
        type=control_type,
        asset_type=asset_type,
        maps_to=maps_to,
        category=category,
        family=family,
    )
    if as_json:
        print_json([_control_json(c, library) for c in chosen])
    else:
        console.print(
            table(
                f"{len(chosen)} control(s)",
                ["ID", "type", "category", "name", "OWASP"],
                (
                    [
                        c.id,
                        c.type.value,
                        c.category.value,
                        c.name,
                        " ".join(i.split(":")[0] for i in c.mappings.owasp()),
                    ]
                    for c in chosen
                ),
            )
        )
    if not chosen:
        raise typer.Exit(1)


@app.command()
def show(
    control_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. CTRL-INPUT-FILTER.")],
    as_json: JsonOption = False,
) -> None:
    """Show one control: its specification, weight and framework mappings with their names."""
    library = _library()
    control = library.get(control_id)
    catalog = library.catalog
    mappings = {
        field: [{"id": i, "name": catalog.get(i).name} for i in getattr(control.mappings, field)]
        for field in type(control.mappings).model_fields
    }
    if as_json:
        print_json({**_control_json(control, library), "mapping_names": mappings})
        return
    spec = control.implementation
    lines = [
        f"[bold]{escape(control.id)}[/] {escape(control.name)}",
        f"[dim]{control.type.value} · {control.category.value} · family {control.family} · "
        f"weight {control.effectiveness.weight:.2f}[/]",
        "",
        escape(control.summary),
        "",
        "[bold]Deploy:[/] " + escape(spec.deploy),
        "[bold]Verify:[/] " + escape(spec.verify),
        "[bold]Evidence to keep:[/]",
        *(f"  - {escape(e)}" for e in spec.evidence),
        "",
        f"[bold]Effectiveness {control.effectiveness.weight:.2f}:[/] "
        + escape(control.effectiveness.rationale),
        "[bold]Applies to:[/] " + escape(", ".join(control.applies_to)),
    ]
    if control.implemented_by:
        lines.append(
            "[bold]Implemented by:[/] "
            + escape(", ".join(f"{i.kind.value} {i.id}" for i in control.implemented_by))
        )
    for field, refs in mappings.items():
        if refs:
            lines += ["", f"[bold]{field.replace('_', ' ')}:[/]"]
            lines += [f"  {escape(r['id'])}  {escape(r['name'])}" for r in refs]
    source = library.sources.get(control.id)
    if source is not None:
        lines += ["", f"[dim]{escape(str(source))}[/]"]
    console.print(Panel("\n".join(lines), expand=False))


@app.command("library-check")
def library_check(
    content_dir: Annotated[
        Path | None,
        typer.Option(
            help="An organization's content folder to validate with the packaged library "
            "(default: GARRISON_CONTENT_DIR).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate the library and show how it covers OWASP LLM 2025 and Agentic 2026.

    Exits 2 on an invalid file (with file, line and control), 1 when an OWASP LLM item has no
    preventive or no detective control in the library, 0 otherwise. Agentic items are reported
    but do not fail the check.
    """
    chosen_dir = content_dir if content_dir is not None else cli_state.settings().content_dir
    library = load_library(chosen_dir)
    by_framework = {fw: library.framework_coverage(fw) for fw in OWASP_FRAMEWORKS}
    incomplete = [c.item_id for c in by_framework[FrameworkKey.OWASP_LLM] if not c.complete]
    if as_json:
        print_json(
            {
                "controls": len(library),
                "files": [str(p) for p in library.files],
                "coverage": {
                    fw.value: [
                        {
                            "item": c.item_id,
                            "name": c.name,
                            "preventive": list(c.preventive),
                            "detective": list(c.detective),
                            "corrective": list(c.corrective),
                        }
                        for c in items
                    ]
                    for fw, items in by_framework.items()
                },
                "incomplete": incomplete,
            }
        )
    else:
        counts = {t: sum(1 for c in library if c.type is t) for t in ControlType}
        console.print(
            Text(
                f"{len(library)} controls valid in {len(library.files)} files ("
                + ", ".join(f"{n} {t.value}" for t, n in counts.items())
                + ")"
            )
        )
        for fw, items in by_framework.items():
            out = Table(title=Text(f"{fw.value}: library controls per item"), title_justify="left")
            for column in ("item", "name", "preventive", "detective", "corrective"):
                out.add_column(column, overflow="fold")
            for c in items:
                style = "" if c.complete else "bold red"
                out.add_row(
                    Text(c.item_id.split(":")[0]),
                    Text(c.name),
                    Text(str(len(c.preventive)), style="bold red" if not c.preventive else ""),
                    Text(str(len(c.detective)), style="bold red" if not c.detective else ""),
                    Text(str(len(c.corrective)), style=style and "dim"),
                )
            console.print(out)
        if incomplete:
            console.print(
                Text(f"missing a preventive or detective control: {', '.join(incomplete)}", "red")
            )
    if incomplete:
        raise typer.Exit(1)


# --- per-asset state ----------------------------------------------------------------------------


def _attestation_json(a: Attestation) -> dict[str, Any]:
    return {
        "asset_id": a.asset_id,
        "control_id": a.control_id,
        "state": a.state.value,
        "actor": a.actor,
        "evidence": list(a.evidence),
        "note": a.note,
        "attested_at": a.attested_at.isoformat(),
        "recorded_at": a.recorded_at.isoformat(),
        "asset_type": a.asset_type,
        "sequence": a.sequence,
    }


def _resolve(ref: str, asset_type: str | None) -> AssetScope:
    """The asset from the inventory; an asset it does not hold needs --asset-type."""
    with cli_state.store().session() as session:
        try:
            return lookup_asset(session, ref)
        except NotFoundError:
            if asset_type is None:
                raise GarrisonError(
                    f"no asset {ref!r} in the inventory",
                    hint="register it (garrison assets …), or give --asset-type to attest a "
                    "control on an asset the inventory does not hold yet",
                ) from None
    return AssetScope(asset_id=ref.strip(), asset_type=asset_type)


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO time; e.g. 2026-01-31T09:00:00+00:00", param_hint="--at"
        ) from None


@app.command("attest")
def attest_command(  # noqa: PLR0917 - Typer maps each option to a parameter
    asset: Annotated[str, typer.Argument(help="Asset ID, ID prefix or exact name.")],
    control_id: Annotated[str, typer.Argument(metavar="CONTROL", help="e.g. CTRL-RATE-LIMIT.")],
    state: Annotated[ControlState, typer.Option(help="The control's state on the asset.")],
    by: Annotated[str, typer.Option("--by", help="Who attests it (name or e-mail).")],
    evidence: Annotated[
        list[str] | None,
        typer.Option(help="A URL or file path backing the claim; repeat for several."),
    ] = None,
    note: Annotated[str, typer.Option(help="Free text, e.g. what was verified.")] = "",
    at: Annotated[
        str | None, typer.Option(help="When the state held (ISO time with offset); default now.")
    ] = None,
    asset_type: Annotated[
        str | None,
        typer.Option(help="The asset's type, for an asset the inventory does not hold."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a control's state on an asset; every attestation is kept in its history.

    \b
    Examples:
      garrison controls attest support-bot CTRL-RATE-LIMIT --state operational --by alice \\
          --evidence https://wiki.example.com/gw-limits --note "burst test throttled at 60/min"
      garrison controls attest 3f2a9c CTRL-HUMAN-APPROVAL --state failed --by soc \\
          --note "approvals bypassed for refunds since v2.3"
    """
    scope = _resolve(asset, asset_type)
    library = _library()
    with cli_state.store().session() as session:
        recorded = attest(
            session,
            scope.asset_id,
            control_id,
            state,
            by,
            evidence or (),
            note,
            _parse_time(at),
            asset_type=scope.asset_type,
            library=library,
        )
    if as_json:
        print_json(_attestation_json(recorded))
        return
    console.print(
        Text(
            f"{recorded.control_id} is {recorded.state.value} on {scope.name or scope.asset_id} "
            f"(attested by {recorded.actor} at {recorded.attested_at.isoformat()})"
        )
    )


@app.command("state")
def state_command(
    asset: Annotated[str, typer.Argument(help="Asset ID, ID prefix or exact name.")],
    as_json: JsonOption = False,
) -> None:
    """The current state of each control attested on an asset, and what is not yet attested."""
    scope = _resolve(asset, None)
    library = _library()
    with cli_state.store().session() as session:
        current = control_states(session, scope.asset_id)
    unattested = [c.id for c in library.applicable(scope.asset_type) if c.id not in current]
    if as_json:
        print_json(
            {
                "asset_id": scope.asset_id,
                "asset_type": scope.asset_type,
                "states": [_attestation_json(a) for a in current.values()],
                "not_attested": unattested,
            }
        )
        return
    out = Table(
        title=Text(f"{scope.name or scope.asset_id} ({scope.asset_type})"), title_justify="left"
    )
    for column in ("control", "type", "state", "by", "at", "evidence"):
        out.add_column(column, overflow="fold")
    for a in current.values():
        control = library.find(a.control_id)
        out.add_row(
            Text(a.control_id),
            Text(control.type.value if control else "not in library"),
            Text(a.state.value, style=_STATE_STYLE[a.state]),
            Text(a.actor),
            Text(a.attested_at.strftime("%Y-%m-%d %H:%M")),
            Text("\n".join(a.evidence)),
        )
    console.print(out)
    operational = sum(1 for a in current.values() if a.operational)
    console.print(
        Text(
            f"{operational} operational of {len(library.applicable(scope.asset_type))} "
            f"applicable controls; {len(unattested)} not attested"
        )
    )


@app.command("history")
def history_command(
    asset: Annotated[str, typer.Argument(help="Asset ID, ID prefix or exact name.")],
    control_id: Annotated[
        str | None, typer.Argument(metavar="[CONTROL]", help="Only this control.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every attestation on an asset (or for one control), oldest first."""
    scope = _resolve(asset, None)
    with cli_state.store().session() as session:
        entries = history(session, scope.asset_id, control_id)
    if as_json:
        print_json([_attestation_json(a) for a in entries])
        return
    console.print(
        table(
            f"{len(entries)} attestation(s) on {scope.name or scope.asset_id}",
            ["at", "control", "state", "by", "evidence", "note"],
            (
                [
                    a.attested_at.isoformat(timespec="seconds"),
                    a.control_id,
                    a.state.value,
                    a.actor,
                    " ".join(a.evidence),
                    a.note,
                ]
                for a in entries
            ),
        )
    )


# --- coverage -----------------------------------------------------------------------------------


def _render_matrix(matrix: CoverageMatrix, framework: FrameworkKey) -> None:
    items = [i for i in matrix.items if i.framework is framework]
    # Borderless columns keep ten OWASP columns plus the asset readable in 80-120 columns.
    out = Table(
        title=Text(f"{framework.value} coverage"),
        title_justify="left",
        box=None,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
        header_style="bold underline",
    )
    with_type = console.width >= 110
    out.add_column("asset", overflow="ellipsis", max_width=28, no_wrap=True)
    if with_type:
        out.add_column("type", overflow="ellipsis", max_width=16, no_wrap=True)
    for item in items:
        out.add_column(item.label, justify="center", no_wrap=True, min_width=len(item.label))
    for row in matrix.rows:
        first = [Text(row.asset.name or row.asset.asset_id)]
        if with_type:
            first.append(Text(row.asset.asset_type))
        cells = [Text(*_CELL_STYLE[row.cells[item.id].status]) for item in items]
        out.add_row(*first, *cells)
    console.print(out)
    gaps = [s for s in matrix.item_gaps if s.item.framework is framework and s.gap]
    for summary in gaps:
        names = {r.asset.asset_id: r.asset.name or r.asset.asset_id for r in matrix.rows}
        console.print(
            Text.assemble(
                (f"{summary.item.label} {summary.item.name}", "bold"),
                f": gap on {len(summary.gap)} asset(s): "
                + ", ".join(names[a] for a in summary.gap[:8])
                + (" …" if len(summary.gap) > 8 else ""),
                ("\n    close with: " + ", ".join(summary.recommended), "dim"),
            )
        )


def _render_legend() -> None:
    parts: list[Text | str | tuple[str, str]] = ["legend: "]
    for status, meaning in legend().items():
        label, style = _CELL_STYLE[status]
        parts += [(label, style), f" {meaning}   "]
    console.print(Text.assemble(*parts))


@app.command()
def coverage(
    asset: Annotated[
        str | None, typer.Option(help="Only this asset (ID, ID prefix or exact name).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only the assets of this owner team.")] = None,
    framework: Annotated[
        str | None, typer.Option(help="OWASP-LLM or OWASP-AGENTIC (default: both).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Which OWASP items have no operational preventive or detective control, per asset.

    Assets come from the inventory (plus assets attested but not yet in it). A cell is P+D,
    P or D when operational controls of those types cover the item on the asset, GAP when
    applicable controls exist but none is operational, and · when no library control for the
    item applies to the asset's type. Exits 1 when any gap exists, so CI can gate on it.

    \b
    Examples:
      garrison controls coverage                          # the whole estate, both lists
      garrison controls coverage --team payments --framework OWASP-LLM
      garrison controls coverage --asset support-bot --json
    """
    if asset is not None and team is not None:
        raise typer.BadParameter("give --asset or --team, not both", param_hint="--asset")
    frameworks = _framework_keys(framework)
    library = _library()
    with cli_state.store().session() as session:
        matrix, known = estate_coverage(session, library, frameworks, asset=asset, team=team)
    if as_json:
        print_json(
            {
                "frameworks": [f.value for f in frameworks],
                "scope": {"asset": asset, "team": team},
                **matrix.to_dict(),
                "untyped_assets": known.untyped,
            }
        )
    else:
        if not matrix.rows:
            console.print(Text("no assets in scope", style="yellow"))
        for key in frameworks:
            if matrix.rows:
                _render_matrix(matrix, key)
        _render_legend()
        if known.untyped:
            console.print(
                Text(
                    f"{len(known.untyped)} attested asset(s) have no known type and are not "
                    "shown: " + ", ".join(known.untyped[:5]),
                    style="yellow",
                )
            )
    if matrix.has_gaps:
        raise typer.Exit(1)
