"""``garrison risk``: assess assets, explain a score, the riskiest assets, history, acceptance,
and the quantitative (FAIR-style) view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from garrison.cli import state as cli_state
from garrison.cli.output import console, err_console, print_json, table
from garrison.controls import ControlLibrary, get_library
from garrison.core.errors import GarrisonError
from garrison.inventory import AIAsset, resolve_asset, search
from garrison.risk import (
    AcceptanceStatus,
    Assessment,
    RiskConfig,
    RiskExplanation,
    accept,
    acceptances,
    assess_assets,
    history,
    load_risk_config,
    open_risk_gaps,
    quantify,
    top,
)
from garrison.risk.engine import preview, require_latest
from garrison.risk.scoring import rounded_shares

app = typer.Typer(
    help="""Risk: inherent and residual risk of every AI asset, explained.

The model (six dimensions, weights, per-value scores, levels, appetite, control effectiveness)
is content/risk.yaml, overridable per organization with GARRISON_CONTENT_DIR. Only operational
controls reduce risk, and never below the configured cap.

\b
Examples:
  garrison risk assess --all
  garrison risk show support-bot --explain
  garrison risk top --limit 5 --fail-above high     # exit 1 in CI when a high risk exists
  garrison risk accept support-bot --reason "compensating WAF" --approver ciso@example.com \\
      --expires 2027-03-31
  garrison risk acceptances --expired
  garrison risk quantify support-bot
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
FailAbove = Annotated[
    str | None,
    typer.Option(
        "--fail-above",
        metavar="LEVEL",
        help="Exit 1 when a residual risk is above this level (e.g. medium).",
    ),
]
PROGRESS_THRESHOLD = 20

_LEVEL_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "green",
}


def _config() -> RiskConfig:
    return load_risk_config(cli_state.settings().content_dir)


def _library() -> ControlLibrary:
    return get_library(cli_state.settings().content_dir)


def _level_text(level: str) -> Text:
    return Text(level, style=_LEVEL_STYLE.get(level, ""))


def _check_level(config: RiskConfig, level: str | None) -> int | None:
    if level is None:
        return None
    try:
        return config.rank(level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fail-above") from None


def _exceeds(config: RiskConfig, assessments: list[Assessment], limit: int | None) -> bool:
    return limit is not None and any(config.rank(a.level) > limit for a in assessments)


def _summary_table(title: str, assessments: list[Assessment]) -> None:
    out = table(
        title,
        ["asset", "type", "inherent", "controls", "residual", "level", "next control"],
        [],
    )
    for a in assessments:
        e = a.explanation
        out.add_row(
            Text(e.asset_name),
            Text(e.asset_type),
            Text(f"{e.inherent:.2f}"),
            Text(f"-{e.effectiveness * 100:.1f} %"),
            Text(f"{e.residual:.2f}"),
            _level_text(e.level),
            Text(e.recommendations[0].control_id if e.recommendations else "-"),
        )
    console.print(out)


@app.command("assess")
def assess_command(
    asset: Annotated[str | None, typer.Argument(help="Asset ID, name or source ID.")] = None,
    all_assets: Annotated[bool, typer.Option("--all", help="Assess every asset.")] = False,
    fail_above: FailAbove = None,
    as_json: JsonOption = False,
) -> None:
    """Assess one asset, or all of them, and store the assessments."""
    if (asset is None) == (not all_assets):
        raise typer.BadParameter("give an ASSET or --all (not both)")
    config, library = _config(), _library()
    limit = _check_level(config, fail_above)
    with cli_state.store().session() as session:
        chosen: list[AIAsset] = (
            search(session) if all_assets else [resolve_asset(session, asset or "")]
        )
        if all_assets and not chosen:
            raise GarrisonError(
                "the inventory has no assets", hint="register or discover assets first"
            )
        if len(chosen) >= PROGRESS_THRESHOLD and not as_json:
            with Progress(
                TextColumn("assessing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("assess", total=len(chosen))
                done = assess_assets(
                    session,
                    chosen,
                    config=config,
                    library=library,
                    progress=lambda n: bar.advance(task, n),
                )
        else:
            done = assess_assets(session, chosen, config=config, library=library)
    done.sort(key=lambda a: (-a.residual, a.explanation.asset_name))
    if as_json:
        print_json([a.summary() for a in done])
    else:
        _summary_table(f"{len(done)} asset(s) assessed", done)
    if _exceeds(config, done, limit):
        raise typer.Exit(1)


def render_explanation(e: RiskExplanation) -> None:
    """Print an explanation so that the score can be recomputed by hand from what is shown."""
    console.print(
        Text.assemble(
            (f"{e.asset_name}", "bold"),
            f" ({e.asset_type}, {e.asset_id}) as of {e.as_of.isoformat()}: residual ",
            (f"{e.residual:.2f}", "bold"),
            " ",
            _level_text(e.level),
            " (within appetite)" if e.within_appetite else " (above appetite)",
        )
    )
    shares = rounded_shares([f.share for f in e.factors])
    factors = table(
        "Factors: inherent = sum of score*weight; residual = sum of score*weight*(1 - controls)",
        ["dimension", "value", "score", "weight", "score*weight", "share", "controls", "residual"],
        [],
    )
    for factor, share in zip(e.factors, shares, strict=True):
        factors.add_row(
            Text(factor.dimension.value),
            Text(factor.value),
            Text(f"{factor.score:g}"),
            Text(f"{factor.weight:g}"),
            Text(f"{factor.weighted:.4f}"),
            Text(f"{share:.2f} %"),
            Text(f"-{factor.effectiveness * 100:.2f} %" + (" (cap)" if factor.capped else "")),
            Text(f"{factor.residual:.4f}"),
        )
    factors.add_row(
        Text("total", style="bold"),
        Text(""),
        Text(""),
        Text(""),
        Text(f"{e.inherent:.2f}"),
        Text("100.00 %"),
        Text(f"-{e.effectiveness * 100:.2f} %"),
        Text(f"{e.residual:.2f}"),
    )
    console.print(factors)
    for factor in e.factors:
        steps = "; ".join(factor.basis)
        moved = "; ".join(
            f"{a.provider}: {a.applied:+g} ({a.explanation})" for a in factor.adjustments
        )
        console.print(
            Text(f"  {factor.dimension.value}: {steps}" + (f"; {moved}" if moved else ""))
        )
    console.print(
        Text(
            f"Controls: within a category 1 - Π(1 - weight), scaled by the category maximum; "
            f"categories on a dimension combine the same way, capped at {e.cap * 100:g} %."
        )
    )
    if e.categories:
        console.print(
            table(
                None,
                ["category", "operational controls", "1-Π(1-w)", "max", "effect", "dimensions"],
                (
                    [
                        c.category.value,
                        ", ".join(c.controls),
                        f"{c.combined:.4f}",
                        f"{c.maximum:g}",
                        f"{c.effect:.4f}",
                        ", ".join(d.value for d in c.dimensions),
                    ]
                    for c in e.categories
                ),
            )
        )
    attested = e.controls
    console.print(
        table(
            f"{len(e.controls) + len(e.missing)} applicable control(s), {len(attested)} attested "
            "(only operational ones count)",
            ["control", "state", "type", "category", "weight", "counts"],
            (
                [
                    c.id,
                    c.state,
                    c.type.value,
                    c.category.value,
                    f"{c.weight:g}",
                    "yes" if c.counts else "no",
                ]
                for c in attested
            ),
        )
    )
    if e.missing:
        console.print(
            Text(f"{len(e.missing)} applicable control(s) never attested: {', '.join(e.missing)}")
        )
    console.print(Text(f"Providers: {', '.join(e.providers) if e.providers else 'none'}"))
    if e.recommendations:
        console.print(
            table(
                "Recommendations (by expected residual reduction)",
                ["control", "state", "name", "reduces by", "residual after", "OWASP"],
                (
                    [
                        r.control_id,
                        r.state,
                        r.name,
                        f"{r.expected_reduction:.2f}",
                        f"{r.expected_residual:.2f}",
                        ", ".join(r.owasp),
                    ]
                    for r in e.recommendations
                ),
            )
        )
    console.print(Text(f"risk model {e.config_digest[:12]}", style="dim"))


@app.command("show")
def show_command(
    asset: Annotated[str, typer.Argument(help="Asset ID, name or source ID.")],
    explain: Annotated[bool, typer.Option("--explain", help="Why this score.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The asset's latest assessment; --explain shows every factor, control and recommendation."""
    with cli_state.store().session() as session:
        found = resolve_asset(session, asset)
        latest_one = require_latest(session, found.id)
    if as_json:
        data = latest_one.summary().model_dump(mode="json")
        if explain:
            data["explanation"] = latest_one.explanation.model_dump(mode="json")
        print_json(data)
    elif explain:
        render_explanation(latest_one.explanation)
    else:
        _summary_table(f"{found.name}", [latest_one])


@app.command("top")
def top_command(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many assets.")] = 10,
    fail_above: FailAbove = None,
    as_json: JsonOption = False,
) -> None:
    """The assets with the highest residual risk (latest assessment of each)."""
    config = _config()
    threshold = _check_level(config, fail_above)
    with cli_state.store().session() as session:
        chosen = top(session, limit)
    if as_json:
        print_json([a.summary() for a in chosen])
    else:
        _summary_table(f"top {len(chosen)} by residual risk", chosen)
    if _exceeds(config, chosen, threshold):
        raise typer.Exit(1)


@app.command("history")
def history_command(
    asset: Annotated[str, typer.Argument(help="Asset ID, name or source ID.")],
    as_json: JsonOption = False,
) -> None:
    """Every assessment of the asset, oldest first."""
    with cli_state.store().session() as session:
        found = resolve_asset(session, asset)
        past = history(session, found.id)
    if as_json:
        print_json([a.summary() for a in past])
        return
    console.print(
        table(
            f"{found.name}: {len(past)} assessment(s)",
            ["#", "assessed at", "inherent", "residual", "level", "model"],
            (
                [
                    a.id,
                    a.assessed_at.isoformat(timespec="seconds"),
                    f"{a.explanation.inherent:.2f}",
                    f"{a.explanation.residual:.2f}",
                    a.level,
                    a.explanation.config_digest[:12],
                ]
                for a in past
            ),
        )
    )


def _parse_expiry(value: str) -> datetime | date:
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD) or ISO time with offset", param_hint="--expires"
        ) from None


@app.command("accept")
def accept_command(  # noqa: PLR0917 - Typer maps each option to a parameter
    asset: Annotated[str, typer.Argument(help="Asset ID, name or source ID.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the risk is accepted.")],
    approver: Annotated[str, typer.Option("--approver", help="Who approved (not the owner).")],
    expires: Annotated[str, typer.Option("--expires", help="YYYY-MM-DD (end of day, UTC).")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Who accepts; default the asset's owner.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Accept the asset's residual risk above appetite until an expiry."""
    expiry = _parse_expiry(expires)
    config = _config()
    with cli_state.store().session() as session:
        found = resolve_asset(session, asset)
        who = owner or found.owner_email or found.owner_team
        if not who:
            raise GarrisonError("the asset has no owner to accept its risk", hint="give --owner")
        done = accept(
            session,
            found.id,
            reason=reason,
            owner=who,
            approver=approver,
            expires=expiry,
            config=config,
        )
    if as_json:
        print_json(_acceptance_json(done))
    else:
        console.print(
            Text(
                f"accepted {done.level} residual risk {done.residual:g} of {found.name} "
                f"(#{done.id}) until {done.expires_at:%Y-%m-%d %H:%M} UTC; approver {done.approver}"
            )
        )


def _acceptance_json(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "asset_id": a.asset_id,
        "assessment_id": a.assessment_id,
        "level": a.level,
        "residual": a.residual,
        "reason": a.reason,
        "owner": a.owner,
        "approver": a.approver,
        "accepted_at": a.accepted_at.isoformat(),
        "expires_at": a.expires_at.isoformat(),
        "status": a.status.value,
    }


@app.command("acceptances")
def acceptances_command(
    expired: Annotated[bool, typer.Option("--expired", help="Only expired ones.")] = False,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Risk acceptances with their status now (active, expired, exceeded, superseded)."""
    config = _config()
    with cli_state.store().session() as session:
        asset_id = None if asset is None else resolve_asset(session, asset).id
        found = acceptances(
            session,
            config,
            asset_id=asset_id,
            status=AcceptanceStatus.EXPIRED if expired else None,
        )
    if as_json:
        print_json([_acceptance_json(a) for a in found])
        return
    console.print(
        table(
            f"{len(found)} acceptance(s)",
            ["#", "asset", "level", "residual", "owner", "approver", "expires", "status", "reason"],
            (
                [
                    a.id,
                    a.asset_id,
                    a.level,
                    f"{a.residual:g}",
                    a.owner,
                    a.approver,
                    f"{a.expires_at:%Y-%m-%d}",
                    a.status.value,
                    a.reason,
                ]
                for a in found
            ),
        )
    )


@app.command("gaps")
def gaps_command(as_json: JsonOption = False) -> None:
    """Residual risks above appetite with no acceptance in force. Exits 1 when there are any."""
    config = _config()
    with cli_state.store().session() as session:
        gaps = open_risk_gaps(session, config)
    if as_json:
        print_json(
            [
                {
                    "asset_id": g.asset_id,
                    "asset_name": g.asset_name,
                    "level": g.level,
                    "residual": g.residual,
                    "kind": g.kind.value,
                    "acceptance_id": g.acceptance_id,
                    "message": g.message,
                }
                for g in gaps
            ]
        )
    else:
        console.print(
            table(
                f"{len(gaps)} open risk gap(s)",
                ["asset", "level", "residual", "gap"],
                ([g.asset_name, g.level, f"{g.residual:g}", g.message] for g in gaps),
            )
        )
    if gaps:
        raise typer.Exit(1)


@app.command("quantify")
def quantify_command(
    asset: Annotated[str | None, typer.Argument(help="Asset ID, name or source ID.")] = None,
    top_n: Annotated[
        int | None, typer.Option("--top", min=1, help="Quantify the N riskiest assets instead.")
    ] = None,
    simulations: Annotated[int | None, typer.Option(min=100, max=5_000_000)] = None,
    seed: Annotated[int | None, typer.Option(min=0)] = None,
    as_json: JsonOption = False,
) -> None:
    """FAIR-style Monte Carlo: annualized loss expectancy, percentiles, loss exceedance."""
    if (asset is None) == (top_n is None):
        raise typer.BadParameter("give an ASSET or --top N (not both)")
    config, library = _config(), _library()
    with cli_state.store().session() as session:
        if asset is not None:
            chosen = [resolve_asset(session, asset)]
        else:
            chosen = [resolve_asset(session, a.asset_id) for a in top(session, top_n or 1)]
        results = []
        for one in chosen:
            inputs, explanation = preview(session, one, config=config, library=library)
            results.append(
                quantify(
                    one, explanation, inputs.controls, config, simulations=simulations, seed=seed
                )
            )
    if as_json:
        print_json(results if asset is None else results[0])
        return
    for r in results:
        console.print(
            Text(
                f"{r.asset_name}: annualized loss expectancy {r.annualized_loss_expectancy:,} "
                f"{r.currency} ({r.simulations} simulated years, seed {r.seed}); "
                f"{r.frequency:.3f} events/year after preventive controls "
                f"(-{r.preventive_reduction * 100:.1f} %), loss per event "
                f"-{r.magnitude_reduction * 100:.1f} % from detective/corrective controls"
            )
        )
        console.print(
            table(
                None,
                ["percentile", f"annual loss ({r.currency})"],
                ([f"p{p}", f"{v:,}"] for p, v in r.percentiles.items()),
            )
        )
        console.print(
            table(
                "loss exceedance",
                [f"loss ≥ ({r.currency})", "probability per year"],
                ([f"{p.loss:,}", f"{p.probability * 100:.2f} %"] for p in r.exceedance),
            )
        )
