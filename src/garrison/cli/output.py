"""Rendering for commands: Rich tables for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (pydantic models and dataclasses included)."""
    sys.stdout.write(
        orjson.dumps(
            data, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        ).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    out = Table(
        title=None if title is None else Text(title), title_justify="left", header_style="bold"
    )
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        # Text() keeps data such as "[bold]" from being read as Rich markup.
        out.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    return out


def fail(message: str, *, hint: str | None = None) -> None:
    # Messages quote user input and file content: escape them so "[x]" is shown, not parsed.
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err_console.print(f"  [dim]hint:[/] {escape(hint)}")
