"""The ``garrison`` command: one entry point, sub-commands per pillar."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from garrison import __version__
from garrison.cli import (
    aibom,
    alerts,
    assets,
    catalog,
    config,
    controls,
    db,
    detectors,
    discover,
    monitor,
    risk,
    rules,
    scan,
)
from garrison.cli import audit as audit_cli
from garrison.cli import token as token_cli
from garrison.cli import users as users_cli
from garrison.cli.demo import demo
from garrison.cli.output import fail
from garrison.cli.serve import serve
from garrison.core.errors import GarrisonError

HELP = """Garrison runs an enterprise AI security program as working software.

It inventories AI assets, scores their risk, maps controls to OWASP, MITRE ATLAS, NIST AI RMF,
ISO/IEC 42001 and the EU AI Act, watches LLM traffic, routes alerts and drives AI incident
playbooks.

Exit codes: 0 success, 1 findings or violations (or nothing found), 2 usage or input error.

\b
Start here:
  garrison demo                      # load the demo organization, open the dashboard
  garrison catalog show LLM01:2025   # one framework item
  garrison catalog search "prompt injection"
  garrison config show               # what Garrison is configured with
"""

app = typer.Typer(
    name="garrison",
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(monitor.app, name="monitor")
app.add_typer(detectors.app, name="detectors")
app.add_typer(discover.app, name="discover")
app.add_typer(controls.app, name="controls")
app.add_typer(assets.app, name="assets")
app.add_typer(scan.app, name="scan")
app.add_typer(aibom.app, name="aibom")
app.add_typer(risk.app, name="risk")
app.add_typer(token_cli.app, name="token")
app.add_typer(users_cli.app, name="user")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(alerts.app, name="alerts")
app.add_typer(rules.app, name="rules")
app.command()(demo)
app.command()(serve)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"garrison {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Garrison: an enterprise AI security program as working software."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Click reports usage errors itself (exit 2); Garrison's own errors become one message on stderr
    and exit code 2 instead of a traceback.
    """
    try:
        app(args=argv, prog_name="garrison", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except GarrisonError as exc:
        fail(exc.message, hint=exc.hint)
        return exc.exit_code
    return 0


def entry() -> None:
    sys.exit(run())
