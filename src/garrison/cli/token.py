"""``garrison token``: API tokens for applications and scripts."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.text import Text

from garrison.cli import state
from garrison.cli.output import console, err_console, print_json, table
from garrison.core.timeutil import utcnow
from garrison.identity import create_token, list_tokens, parse_duration, parse_scope, revoke_token

app = typer.Typer(
    help="""API tokens: scoped, hashed at rest, shown once, expiring and revocable.

Scopes: ingest (send events only), read, analyst (read + acknowledge, silence, attest, accept
risk), admin (analyst + content, users, settings). Send a token as
'Authorization: Bearer <token>'.

\b
Examples:
  garrison token create --name checkout-bot --scope ingest --org northwind --expires 90d
  garrison token create --name grafana --scope read
  garrison token list --json
  garrison token revoke 3fa9c2d81b7e
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli:unknown"


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="What uses the token, e.g. checkout-bot.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="ingest, read, analyst or admin; repeatable.")
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="Limit the token to one organization's data.")
    ] = None,
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime: 90d, 12h, 2w, or never.")
    ] = "90d",
    as_json: JsonOption = False,
) -> None:
    """Create a token and print its secret once: store it now, it cannot be shown again.

    \b
    Examples:
      garrison token create --name checkout-bot --scope ingest --org northwind
      garrison token create --name soc-console --scope analyst --expires 30d
    """
    scopes = [parse_scope(s) for s in scope]
    lifetime = parse_duration(expires)
    with state.store().session() as session:
        issued = create_token(
            session, name, scopes, actor=cli_actor(), org=org, expires_in=lifetime
        )
    if as_json:
        print_json({**issued.token.as_dict(utcnow()), "secret": issued.secret})
        return
    console.print(Text(issued.secret), soft_wrap=True)
    err_console.print(
        Text(
            f"token {issued.token.prefix} ({issued.token.name}) created; "
            "this is the only time the secret is shown"
        )
    )


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every token with its prefix, scopes, organization, expiry and status (never secrets).

    \b
    Example:
      garrison token list --json
    """
    now = utcnow()
    with state.store().session() as session:
        tokens = list_tokens(session)
    if as_json:
        print_json([t.as_dict(now) for t in tokens])
        return
    rows = [
        [
            t.prefix,
            t.name,
            ",".join(s.value for s in t.scopes),
            t.org or "(all)",
            "never" if t.expires_at is None else f"{t.expires_at:%Y-%m-%d %H:%M}",
            "" if t.last_used_at is None else f"{t.last_used_at:%Y-%m-%d %H:%M}",
            t.status(now),
        ]
        for t in tokens
    ]
    console.print(
        table(
            "API tokens",
            ["prefix", "name", "scopes", "org", "expires", "last used", "status"],
            rows,
        )
    )


@app.command()
def revoke(
    prefix: Annotated[str, typer.Argument(help="The token's prefix (from `garrison token list`).")],
) -> None:
    """Revoke a token at once; requests with it are refused from now on.

    \b
    Example:
      garrison token revoke 3fa9c2d81b7e
    """
    with state.store().session() as session:
        token = revoke_token(session, prefix, actor=cli_actor())
    console.print(Text(f"token {token.prefix} ({token.name}) revoked"))
