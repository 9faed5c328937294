"""Measuring detectors on labelled data: the dataset reader and the metrics.

The dataset format is the one of ``shared/datasets``: JSON lines with exactly the keys ``text``,
``label`` (injection, jailbreak, benign, leak, no_leak), ``source`` and ``kind`` (direct, indirect,
output). A malformed line is reported with its number and skipped; a file that is not in this format
at all (a CSV, a scanner report) is refused as a whole, because guessing would produce figures
that look real and mean nothing.

The metrics are pure functions over ``(score, is_positive)`` pairs. Each task is one
``label x kind`` of attack texts, measured against the benign texts of the same kind: typed
prompts against benign prompts, planted instructions against clean documents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson

from garrison.core.errors import GarrisonError
from garrison.monitoring.detectors.base import Category, Direction

LABELS = ("injection", "jailbreak", "benign", "leak", "no_leak")
KINDS = ("direct", "indirect", "output")
FIELDS = ("text", "label", "source", "kind")

POSITIVE_LABELS: Mapping[str, Category] = {
    "injection": Category.PROMPT_INJECTION,
    "jailbreak": Category.JAILBREAK,
    "leak": Category.SYSTEM_PROMPT_LEAK,
}
"""Which detector category answers for each attack label."""

NEGATIVE_LABEL: Mapping[str, str] = {
    "injection": "benign",
    "jailbreak": "benign",
    "leak": "no_leak",
}
"""The label of the negatives each attack label is measured against (same ``kind``)."""

DIRECTION_OF_KIND: Mapping[str, Direction] = {
    "direct": Direction.INPUT,
    "indirect": Direction.RETRIEVED,
    "output": Direction.OUTPUT,
}

DEFAULT_FPR = 0.01

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class DatasetError(GarrisonError):
    """A file that is not a detector dataset at all; nothing from it is used."""


@dataclass(frozen=True)
class Record:
    text: str
    label: str
    source: str
    kind: str
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class LineError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Dataset:
    records: list[Record] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


_FORMAT_HINT = (
    'expected JSON lines, one object per line: {"text": …, "label": '
    "injection|jailbreak|benign|leak|no_leak, "
    '"source": …, "kind": direct|indirect|output}'
)


def parse_record(raw: str, *, path: str = "", line: int = 0) -> Record:
    """One line of a dataset; ``ValueError`` names what is wrong with it."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    missing = [key for key in FIELDS if key not in value]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    extra = sorted(set(value) - set(FIELDS))
    if extra:
        raise ValueError(f"unexpected key(s) {', '.join(extra)}")
    for key in FIELDS:
        if not isinstance(value[key], str):
            raise ValueError(f"{key!r} must be a string, got {type(value[key]).__name__}")
    label, kind = value["label"], value["kind"]
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r} (expected one of {', '.join(LABELS)})")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if (label in ("leak", "no_leak")) != (kind == "output"):
        raise ValueError(f"label {label!r} cannot go with kind {kind!r}")
    return Record(value["text"], label, value["source"], kind, path, line)


def read_dataset(path: Path | str) -> Dataset:
    """Every valid record of one JSONL file, and one ``LineError`` per line that is not.

    Raises ``DatasetError`` when the file cannot be read, is empty, or its first non-blank line is
    not a record: that is a different kind of file, not a dataset with a bad line.
    """
    file = Path(path)
    name = str(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{name}: not UTF-8 text (byte {exc.start})", hint=_FORMAT_HINT
        ) from None
    dataset = Dataset()
    seen_first = False
    # Split on "\n" only: str.splitlines() also breaks at U+2028, U+0085 and other characters
    # that JSON strings may hold unescaped, which would cut valid records in two.
    for number, raw in enumerate(content.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = parse_record(raw, path=name, line=number)
        except ValueError as exc:
            if not seen_first:
                raise DatasetError(
                    f"{name}:{number}: not a detector dataset: {exc}", hint=_FORMAT_HINT
                ) from None
            dataset.errors.append(LineError(name, number, str(exc)))
            continue
        seen_first = True
        dataset.records.append(record)
    if not dataset.records:
        raise DatasetError(f"{name}: no records", hint=_FORMAT_HINT)
    return dataset


def read_datasets(paths: Iterable[Path | str]) -> Dataset:
    merged = Dataset()
    for path in paths:
        one = read_dataset(path)
        merged.records.extend(one.records)
        merged.errors.extend(one.errors)
    return merged


# --- metrics -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinaryMetrics:
    """Figures for one set of scored examples. ``nan`` where a figure is undefined (no positives,
    no negatives, nothing predicted positive)."""

    n_positive: int
    n_negative: int
    threshold: float
    """Scores ``>= threshold`` count as detections for precision, recall, F1 and FPR."""
    precision: float
    recall: float
    f1: float
    fpr: float
    roc_auc: float
    target_fpr: float
    threshold_at_fpr: float
    """The lowest threshold whose false-positive rate on these negatives is ``<= target_fpr``."""
    recall_at_fpr: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "fpr": self.fpr,
            "roc_auc": self.roc_auc,
            "target_fpr": self.target_fpr,
            "threshold_at_fpr": self.threshold_at_fpr,
            "recall_at_fpr": self.recall_at_fpr,
        }


def _split(scores: Sequence[float], positive: Sequence[bool]) -> tuple[FloatArray, FloatArray]:
    s = np.asarray(scores, dtype=np.float64)
    p = np.asarray(positive, dtype=bool)
    if s.shape != p.shape or s.ndim != 1:
        raise ValueError("scores and labels must be two sequences of the same length")
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN")
    return s[p], s[~p]


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def precision_recall_f1(
    scores: Sequence[float], positive: Sequence[bool], threshold: float
) -> tuple[float, float, float]:
    pos, neg = _split(scores, positive)
    tp = int((pos >= threshold).sum())
    fp = int((neg >= threshold).sum())
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, len(pos))
    if math.isnan(precision) or math.isnan(recall) or precision + recall == 0:
        f1 = math.nan if math.isnan(precision) or math.isnan(recall) else 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def threshold_at_fpr(
    negative_scores: Sequence[float] | FloatArray, target_fpr: float = DEFAULT_FPR
) -> float:
    """The lowest threshold that flags at most ``floor(target_fpr * n)`` of the negatives.

    Ties count against the threshold: if the negative at the allowed rank ties with the next one,
    the threshold moves above both, so the realised FPR never exceeds the target. With no
    negatives the threshold is ``nan`` (nothing can be said about false positives).
    """
    neg = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    if len(neg) == 0:
        return math.nan
    allowed = math.floor(target_fpr * len(neg) + 1e-9)
    if allowed >= len(neg):
        return float(neg[-1])
    return float(np.nextafter(neg[allowed], math.inf))


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic: the chance that a random positive
    outscores a random negative, a tie counting one half (average ranks)."""
    pos, neg = _split(scores, positive)
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    allscores = np.concatenate([pos, neg])
    order = np.argsort(allscores, kind="mergesort")
    ranks = np.empty(len(allscores), dtype=np.float64)
    sorted_scores = allscores[order]
    # Average rank per run of equal scores (1-based).
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(allscores)]))
    average = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average, ends - starts)
    rank_sum = ranks[: len(pos)].sum()
    u = rank_sum - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(pos) * len(neg)))


def binary_metrics(
    scores: Sequence[float],
    positive: Sequence[bool],
    *,
    threshold: float = 0.5,
    target_fpr: float = DEFAULT_FPR,
) -> BinaryMetrics:
    pos, neg = _split(scores, positive)
    precision, recall, f1 = precision_recall_f1(scores, positive, threshold)
    at = threshold_at_fpr(neg, target_fpr)
    recall_at = math.nan if math.isnan(at) or len(pos) == 0 else float((pos >= at).mean())
    return BinaryMetrics(
        n_positive=len(pos),
        n_negative=len(neg),
        threshold=threshold,
        precision=precision,
        recall=recall,
        f1=f1,
        fpr=_ratio(float((neg >= threshold).sum()), len(neg)),
        roc_auc=roc_auc(scores, positive),
        target_fpr=target_fpr,
        threshold_at_fpr=at,
        recall_at_fpr=recall_at,
    )


# --- tasks: label x kind ------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """Attack records of one ``label`` and ``kind`` against the negatives of the same kind."""

    label: str
    kind: str

    @property
    def category(self) -> Category:
        return POSITIVE_LABELS[self.label]

    @property
    def negative_label(self) -> str:
        return NEGATIVE_LABEL[self.label]

    @property
    def direction(self) -> Direction:
        return DIRECTION_OF_KIND[self.kind]

    def is_positive(self, record: Record) -> bool:
        return record.label == self.label and record.kind == self.kind

    def is_negative(self, record: Record) -> bool:
        return record.label == self.negative_label and record.kind == self.kind


def tasks_for(records: Iterable[Record]) -> list[Task]:
    """One task per attack ``label x kind`` present, in a stable order."""
    present = {(r.label, r.kind) for r in records if r.label in POSITIVE_LABELS}
    return [Task(label, kind) for label in LABELS for kind in KINDS if (label, kind) in present]


@dataclass(frozen=True)
class TaskResult:
    task: Task
    metrics: BinaryMetrics


RecordScores = Mapping[Category, float]


def evaluate_tasks(
    records: Sequence[Record],
    scores: Sequence[RecordScores],
    *,
    threshold: float = 0.5,
    target_fpr: float = DEFAULT_FPR,
    tasks: Sequence[Task] | None = None,
) -> list[TaskResult]:
    """Metrics per task, given each record's best score per category (a missing category is 0)."""
    if len(records) != len(scores):
        raise ValueError("one score mapping per record is needed")
    results = []
    for task in tasks_for(records) if tasks is None else tasks:
        chosen = [
            (s.get(task.category, 0.0), task.is_positive(r))
            for r, s in zip(records, scores, strict=True)
            if task.is_positive(r) or task.is_negative(r)
        ]
        values = [c[0] for c in chosen]
        flags = [c[1] for c in chosen]
        results.append(
            TaskResult(
                task,
                binary_metrics(values, flags, threshold=threshold, target_fpr=target_fpr),
            )
        )
    return results


def evaluate_records(
    records: Sequence[Record],
    score: Callable[[Record], RecordScores],
    *,
    threshold: float = 0.5,
    target_fpr: float = DEFAULT_FPR,
) -> list[TaskResult]:
    """Score every record with ``score`` and measure each task."""
    return evaluate_tasks(
        records, [score(r) for r in records], threshold=threshold, target_fpr=target_fpr
    )
