"""``garrison detectors``: list the content detectors and measure them on labelled data."""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from garrison.cli.output import console, err_console, fail, print_json, table
from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    ScanContext,
    detector_registry,
)

if TYPE_CHECKING:
    from garrison.monitoring.evaluation import Record, TaskResult

# numpy and the model load only when a command needs them: every `garrison` invocation imports
# this module to build the command tree.
DEFAULT_FPR = 0.01

app = typer.Typer(
    help="""Content detectors: what is registered, and how well it does on labelled data.

Datasets are JSON lines with the keys text, label (injection, jailbreak, benign, leak, no_leak),
source and kind (direct, indirect, output), as in shared/datasets. Each attack label x kind is
measured against the benign records of the same kind (clean documents for indirect injection).

\b
Examples:
  garrison detectors list
  garrison detectors evaluate dev.jsonl --detector classifier.injection
  garrison detectors evaluate data/*.jsonl --json
  garrison detectors evaluate dev.jsonl --min-recall 0.9     # exit 1 if recall@1%FPR is lower
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_MAX_LINE_ERRORS_SHOWN = 20


def load_detectors() -> list[tuple[str, type[Detector]]]:
    """Every registered detector class: the classifier's, and the pattern detectors' when their
    package registers them on import."""
    importlib.import_module("garrison.monitoring.detectors.classifier")
    with contextlib.suppress(ImportError):
        pipeline = importlib.import_module("garrison.monitoring.detectors.pipeline")
        load_builtin = getattr(pipeline, "load_builtin_detectors", None)
        if callable(load_builtin):
            load_builtin()
    return detector_registry.items()


def _normaliser() -> Callable[[str], Any]:
    """The pipeline's normalisation if it is installed, else the raw string (the classifier
    accepts both)."""
    try:
        module = importlib.import_module("garrison.monitoring.detectors.normalise")
    except ImportError:
        return lambda text: text
    normalise = getattr(module, "normalise", None)
    return normalise if callable(normalise) else (lambda text: text)


@app.command("list")
def list_detectors(as_json: JsonOption = False) -> None:
    """List the registered detectors with their framework mappings."""
    rows = [
        {
            "id": name,
            "version": cls.version,
            "description": cls.description,
            "categories": [c.value for c in cls.categories],
            "directions": [d.value for d in cls.directions],
            "owasp": list(cls.owasp),
            "atlas": list(cls.atlas),
        }
        for name, cls in load_detectors()
    ]
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} detector(s)",
            ["ID", "version", "categories", "directions", "OWASP", "ATLAS"],
            (
                [
                    r["id"],
                    r["version"],
                    ", ".join(r["categories"]),
                    ", ".join(r["directions"]),
                    ", ".join(r["owasp"]),
                    ", ".join(r["atlas"]),
                ]
                for r in rows
            ),
        )
    )


def _build(cls: type[Detector]) -> Detector:
    # Evaluation must see every score, not only those above a deployment's reporting threshold.
    try:
        return cls(min_score=0.0)  # type: ignore[call-arg]
    except TypeError:
        return cls()


def _score_all(
    records: Sequence[Record], detectors: Sequence[Detector]
) -> list[dict[Category, float]]:
    from garrison.monitoring.evaluation import DIRECTION_OF_KIND

    normalise = _normaliser()
    scores: list[dict[Category, float]] = []
    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("scoring", total=len(records))
        for record in records:
            direction = DIRECTION_OF_KIND[record.kind]
            context = ScanContext(direction=direction)
            text = normalise(record.text)
            best: dict[Category, float] = {}
            for detector in detectors:
                if direction not in detector.directions:
                    continue
                for finding in detector.scan(text, context):
                    if finding.score > best.get(finding.category, -1.0):
                        best[finding.category] = finding.score
            scores.append(best)
            progress.advance(task)
    return scores


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _threshold(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


@app.command("evaluate")
def evaluate(  # noqa: PLR0917 - Typer turns each parameter into an option
    datasets: Annotated[
        list[Path], typer.Argument(help="JSONL dataset file(s).", show_default=False)
    ],
    detector: Annotated[
        list[str] | None,
        typer.Option(
            "--detector", "-d", help="Detector ID to run (repeatable). Default: all registered."
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            help="Score at or above which a record counts as detected (precision/recall)."
        ),
    ] = 0.5,
    fpr: Annotated[
        float, typer.Option(help="False-positive rate for the recall@FPR column.")
    ] = DEFAULT_FPR,
    min_recall: Annotated[
        float | None,
        typer.Option(
            help="Exit 1 if any label x kind has recall at the --fpr rate below this (for CI)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run detectors over labelled JSONL data; print precision, recall, recall@1%FPR, ROC AUC
    per label x kind."""
    from garrison.monitoring.evaluation import DatasetError, evaluate_tasks, read_datasets

    if not 0.0 < fpr < 1.0:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--fpr")
    registered = dict(load_detectors())
    chosen = detector or sorted(registered)
    unknown = [d for d in chosen if d not in registered]
    if unknown:
        fail(
            f"unknown detector(s): {', '.join(unknown)}",
            hint=f"registered: {', '.join(sorted(registered)) or 'none'}",
        )
        raise typer.Exit(2)
    try:
        data = read_datasets(datasets)
    except DatasetError as exc:
        fail(exc.message, hint=exc.hint)
        raise typer.Exit(2) from None
    for error in data.errors[:_MAX_LINE_ERRORS_SHOWN]:
        err_console.print(f"[yellow]skipped[/] {error}", markup=True, highlight=False)
    if len(data.errors) > _MAX_LINE_ERRORS_SHOWN:
        err_console.print(f"… and {len(data.errors) - _MAX_LINE_ERRORS_SHOWN} more bad line(s)")

    detectors = [_build(registered[d]) for d in chosen]
    scores = _score_all(data.records, detectors)
    results = evaluate_tasks(data.records, scores, threshold=threshold, target_fpr=fpr)
    if as_json:
        print_json(
            {
                "datasets": [str(p) for p in datasets],
                "detectors": chosen,
                "records": len(data.records),
                "skipped_lines": [str(e) for e in data.errors],
                "results": [_result_dict(r) for r in results],
            }
        )
    else:
        _print_results(
            results, chosen=chosen, fpr=fpr, n=len(data.records), skipped=len(data.errors)
        )
    if min_recall is not None:
        low = [r for r in results if not (r.metrics.recall_at_fpr >= min_recall)]
        if low:
            for r in low:
                err_console.print(
                    f"{r.task.label}/{r.task.kind}: recall@{fpr:.0%}FPR "
                    f"{_fmt(r.metrics.recall_at_fpr)} < {min_recall}",
                    highlight=False,
                )
            raise typer.Exit(1)


def _result_dict(result: TaskResult) -> dict[str, Any]:
    metrics = {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in result.metrics.as_dict().items()
    }
    return {
        "label": result.task.label,
        "kind": result.task.kind,
        "negatives": f"{result.task.negative_label}/{result.task.kind}",
        "category": result.task.category.value,
        **metrics,
    }


def _print_results(
    results: Sequence[TaskResult], *, chosen: Sequence[str], fpr: float, n: int, skipped: int
) -> None:
    if not results:
        err_console.print("no attack records (injection, jailbreak, leak) to measure")
        return
    fpr_label = f"{fpr:.0%}" if fpr * 100 == round(fpr * 100) else f"{fpr:.1%}"
    console.print(
        table(
            f"{n} record(s), {skipped} skipped; detectors: {', '.join(chosen)}",
            [
                "label",
                "kind",
                "n+",
                "n-",
                "precision",
                "recall",
                f"recall@{fpr_label}FPR",
                "ROC AUC",
                "threshold",
                f"threshold@{fpr_label}FPR",
            ],
            (
                [
                    r.task.label,
                    r.task.kind,
                    r.metrics.n_positive,
                    r.metrics.n_negative,
                    _fmt(r.metrics.precision),
                    _fmt(r.metrics.recall),
                    _fmt(r.metrics.recall_at_fpr),
                    _fmt(r.metrics.roc_auc),
                    _threshold(r.metrics.threshold),
                    _threshold(r.metrics.threshold_at_fpr),
                ]
                for r in results
            ),
        )
    )
