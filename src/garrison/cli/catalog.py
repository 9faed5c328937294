"""``garrison catalog``: browse the frameworks Garrison maps everything to."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from garrison.catalog import Catalog, CatalogItem, get_catalog
from garrison.catalog.models import (
    AtlasCaseStudy,
    AtlasMitigation,
    AtlasTechnique,
    EuArticle,
    OwaspRisk,
    SaifRisk,
)
from garrison.cli.output import console, print_json, table

app = typer.Typer(
    help="""Browse the frameworks catalog: OWASP LLM 2025 and Agentic 2026 Top 10, MITRE ATLAS,
NIST AI RMF 1.0, ISO/IEC 42001 Annex A, EU AI Act, Google SAIF / CoSAI, CSA AICM.

IDs are accepted in the notations people write: LLM01:2025 or LLM01, AML.T0051, GOVERN 1.1
or GV-1.1, A.6.2.4, Art. 15 or Article 15.

\b
Examples:
  garrison catalog list                     # the frameworks and their sizes
  garrison catalog list NIST-AI-RMF         # the 72 subcategories
  garrison catalog list ATLAS --kind mitigation --json
  garrison catalog show LLM01 --json
  garrison catalog search "model extraction" --framework ATLAS
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _related(item: CatalogItem) -> str:
    """The cross-reference that matters most for each kind, for the listing's last column."""
    if isinstance(item, AtlasTechnique):
        return ", ".join(item.tactics)
    if isinstance(item, AtlasMitigation | AtlasCaseStudy):
        return ", ".join(item.techniques[:6]) + (" …" if len(item.techniques) > 6 else "")
    if isinstance(item, OwaspRisk):
        return ", ".join(item.related)
    if isinstance(item, EuArticle):
        return ", ".join(item.applies_to)
    if isinstance(item, SaifRisk):
        return ", ".join(item.owasp_llm)
    return item.parent or ""


_RELATED_HEADING = {
    "technique": "tactics",
    "sub-technique": "tactics",
    "mitigation": "techniques",
    "case-study": "techniques",
    "article": "applies to",
}


@app.command("list")
def list_items(
    framework: Annotated[
        str | None,
        typer.Argument(help="Framework key or alias (OWASP-LLM, ATLAS, NIST-AI-RMF, …)."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Kind of item, e.g. tactic, mitigation, category. Default: the main one."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the frameworks, or the items of one framework."""
    catalog = get_catalog()
    if framework is None:
        _list_frameworks(catalog, as_json)
        return
    chosen = catalog.framework(framework)
    if kind is not None and kind not in chosen.kinds:
        raise typer.BadParameter(
            f"{chosen.key.value} has no kind {kind!r}; it has {', '.join(chosen.kinds)}",
            param_hint="--kind",
        )
    kinds = (kind,) if kind else chosen.listing_kinds
    items = [item for item in catalog.items(chosen.key) if item.kind in kinds]
    if as_json:
        print_json([item.model_dump(mode="json") for item in items])
        return
    heading = _RELATED_HEADING.get(kinds[0], "related" if kinds[0] == "risk" else "parent")
    console.print(
        table(
            f"{chosen.key.value}: {len(items)} {' and '.join(kinds)} item(s)",
            ["ID", "kind", "name", heading],
            ([item.id, item.kind, item.name, _related(item)] for item in items),
        )
    )


def _list_frameworks(catalog: Catalog, as_json: bool) -> None:
    rows: list[dict[str, Any]] = []
    for framework in catalog.frameworks:
        counts = {k: len(catalog.items(framework.key, k)) for k in framework.kinds}
        rows.append(
            {
                "key": framework.key.value,
                "name": framework.name,
                "version": framework.version,
                "publisher": framework.publisher,
                "url": framework.url,
                "license": framework.license,
                "counts": counts,
            }
        )
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Frameworks catalog — {len(catalog)} items",
            ["key", "name", "version", "items"],
            (
                [
                    r["key"],
                    r["name"],
                    r["version"],
                    ", ".join(f"{n} {k}" for k, n in r["counts"].items()),
                ]
                for r in rows
            ),
        )
    )


@app.command()
def show(
    identifier: Annotated[
        str, typer.Argument(metavar="ID", help="e.g. LLM01:2025, AML.T0051, 'GOVERN 1.1'.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Show one item: its text, its place in the framework, and its cross-references."""
    catalog = get_catalog()
    item = catalog.get(identifier)
    ancestors = catalog.ancestors(item.id)
    children = catalog.children(item.id)
    if as_json:
        print_json(
            {
                **item.model_dump(mode="json"),
                "ancestors": [a.id for a in ancestors],
                "children": [c.id for c in children],
            }
        )
        return
    lines = [f"[bold]{escape(item.title)}[/]", f"[dim]{item.framework.value} · {item.kind}[/]"]
    if ancestors:
        lines.append("in: " + escape(" > ".join(a.title for a in reversed(ancestors))))
    if item.text and item.text != item.name:
        lines += ["", escape(item.text)]
    extras = item.model_dump(exclude=set(CatalogItem.model_fields))
    for name, value in extras.items():
        if value not in (None, "", (), []):
            shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            lines.append(f"[bold]{escape(name.replace('_', ' '))}:[/] {escape(shown)}")
    if children:
        lines += ["", "[bold]contains:[/]", *(f"  {escape(c.title)}" for c in children)]
    if item.url:
        lines += ["", f"[dim]{escape(item.url)}[/]"]
    console.print(Panel("\n".join(lines), expand=False))


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to look for in IDs, names and texts.")],
    framework: Annotated[str | None, typer.Option(help="Only this framework.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind of item.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many results.")] = 25,
    as_json: JsonOption = False,
) -> None:
    """Find items by words; every word must match. Exits 1 when nothing matches."""
    catalog = get_catalog()
    if framework is not None:
        catalog.framework(framework)  # an unknown framework is an input error, not "no match"
    hits = catalog.search(text, framework=framework, kind=kind, limit=limit)
    if as_json:
        print_json([{"score": hit.score, **hit.item.model_dump(mode="json")} for hit in hits])
    else:
        console.print(
            table(
                f"{len(hits)} match(es) for {text!r}",
                ["ID", "framework", "kind", "name"],
                ([h.item.id, h.item.framework.value, h.item.kind, h.item.name] for h in hits),
            )
        )
    if not hits:
        raise typer.Exit(1)
