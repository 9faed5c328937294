"""Training the shipped classifier from ``shared/datasets``: numpy only, deterministic.

Run through ``scripts/train-injection-model``. The steps:

1. read the JSONL files (``garrison.monitoring.evaluation.read_datasets``);
2. split them train / dev / test by near-duplicate group (``split.py``);
3. hash every text into the feature space (``features.py``);
4. fit one L2-regularised logistic regression per head (L-BFGS on the train split, classes
   balanced), choosing the regularisation on the dev split;
5. calibrate each head with Platt scaling on the dev split and pick its default threshold there
   (the lowest that keeps 1 % false positives on the dev negatives);
6. write ``model.npz`` (arrays only, loaded with ``allow_pickle=False``) and ``manifest.json``.

Test figures are computed only with ``--test``, meant to be run once, at the end. Nothing here
looks at the test split otherwise.

There are three heads rather than one multi-class model because the tasks are measured against
different negatives (benign prompts vs clean documents) and overlap: a DAN prompt is a jailbreak
and often an injection too; separate binary heads do not force a choice between them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from garrison.monitoring.detectors.classifier.features import (
    DEFAULT_BITS,
    FEATURE_CONFIG,
    ngram_buckets,
    prepare,
)
from garrison.monitoring.detectors.classifier.model import (
    MANIFEST_NAME,
    WEIGHTS_NAME,
    default_model_dir,
    file_digest,
    max_window_logit,
)
from garrison.monitoring.detectors.classifier.split import DEFAULT_FRACTIONS, split_records
from garrison.monitoring.evaluation import Record, binary_metrics, read_datasets

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

LabelKind = tuple[str, str]


@dataclass(frozen=True)
class HeadSpec:
    name: str
    positives: dict[LabelKind, float]
    """Label/kind pairs taken as positive, with a relative weight within the positive class."""
    negatives: dict[LabelKind, float]
    evaluate_on: LabelKind
    """The task the head is tuned and calibrated on: these positives against the benign records
    of the same kind (the figures ``garrison detectors evaluate`` reports)."""
    l2_grid: tuple[float, ...] = (1e-5, 3e-5, 1e-4, 3e-4)
    window: int | None = None
    """At inference (and so on dev), score the best slice of this many bytes, not the whole text.
    Chosen on dev: for planted instructions, 256-byte slices beat 128, 512, 1024 and whole texts."""


_ORDINARY_TEXT: dict[LabelKind, float] = {
    ("benign", "direct"): 1.0,
    ("benign", "indirect"): 1.0,
    # Ordinary model answers: more everyday text the heads must not fire on.
    ("no_leak", "output"): 0.5,
}

HEADS: tuple[HeadSpec, ...] = (
    HeadSpec(
        "injection_direct",
        # Not the planted BIPIA texts: alone, many are harmless requests ("Write a poem about
        # the sea"), and as direct positives they taught the head to flag ordinary prompts.
        positives={("injection", "direct"): 1.0},
        negatives=_ORDINARY_TEXT,
        evaluate_on=("injection", "direct"),
    ),
    HeadSpec(
        "jailbreak",
        positives={("jailbreak", "direct"): 1.0},
        negatives=_ORDINARY_TEXT,
        evaluate_on=("jailbreak", "direct"),
    ),
    HeadSpec(
        "injection_indirect",
        positives={("injection", "indirect"): 1.0, ("injection", "direct"): 0.3},
        negatives=_ORDINARY_TEXT,
        evaluate_on=("injection", "indirect"),
        l2_grid=(1e-6, 3e-6, 1e-5, 3e-5),
        window=256,
    ),
)


# --- design matrix ------------------------------------------------------------------------------


@dataclass
class Rows:
    """Sparse rows as (column, value) arrays per record, duplicates already summed."""

    columns: list[IntArray]
    values: list[FloatArray]

    @classmethod
    def from_texts(cls, texts: Sequence[str], bits: int) -> Rows:
        columns: list[IntArray] = []
        values: list[FloatArray] = []
        for text in texts:
            buckets = ngram_buckets(prepare(text), bits)
            if len(buckets) == 0:
                columns.append(np.zeros(0, dtype=np.intp))
                values.append(np.zeros(0, dtype=np.float64))
                continue
            cols, counts = np.unique(buckets, return_counts=True)
            columns.append(cols.astype(np.intp))
            values.append(counts / math.sqrt(len(buckets)))
        return cls(columns, values)


@dataclass
class Matrix:
    """COO matrix over a subset of records, with the two products training needs."""

    rows: IntArray
    cols: IntArray
    vals: FloatArray
    n_rows: int
    n_cols: int

    @classmethod
    def select(cls, rows: Rows, indices: Sequence[int], n_cols: int) -> Matrix:
        lengths = [len(rows.columns[i]) for i in indices]
        return cls(
            rows=np.repeat(np.arange(len(indices), dtype=np.intp), lengths),
            cols=np.concatenate([rows.columns[i] for i in indices]),
            vals=np.concatenate([rows.values[i] for i in indices]),
            n_rows=len(indices),
            n_cols=n_cols,
        )

    def dot(self, w: FloatArray) -> FloatArray:
        out: FloatArray = np.bincount(
            self.rows, weights=self.vals * w[self.cols], minlength=self.n_rows
        ).astype(np.float64)
        return out

    def tdot(self, r: FloatArray) -> FloatArray:
        out: FloatArray = np.bincount(
            self.cols, weights=self.vals * r[self.rows], minlength=self.n_cols
        ).astype(np.float64)
        return out


# --- optimisation -------------------------------------------------------------------------------


def _log1pexp(z: FloatArray) -> FloatArray:
    return np.logaddexp(0.0, z)


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def lbfgs(
    fun: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    *,
    max_iter: int = 300,
    memory: int = 10,
    tol: float = 1e-7,
) -> FloatArray:
    """Minimise a smooth convex ``fun`` (value, gradient) with L-BFGS and Armijo backtracking."""
    x = x0.copy()
    f, g = fun(x)
    s_hist: list[FloatArray] = []
    y_hist: list[FloatArray] = []
    for _ in range(max_iter):
        q = g.copy()
        alphas: list[tuple[float, float]] = []
        for s, y in zip(reversed(s_hist), reversed(y_hist), strict=True):
            rho = 1.0 / float(y @ s)
            alpha = rho * float(s @ q)
            q -= alpha * y
            alphas.append((rho, alpha))
        if s_hist:
            q *= float(s_hist[-1] @ y_hist[-1]) / float(y_hist[-1] @ y_hist[-1])
        else:
            q /= max(1.0, float(np.linalg.norm(g)))
        for (s, y), (rho, alpha) in zip(
            zip(s_hist, y_hist, strict=True), reversed(alphas), strict=True
        ):
            beta = rho * float(y @ q)
            q += (alpha - beta) * s
        direction = -q
        slope = float(g @ direction)
        if slope >= 0:
            direction, slope = -g, -float(g @ g)
            s_hist.clear()
            y_hist.clear()
        step = 1.0
        while True:
            x_new = x + step * direction
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-12:
                return x
        s_new, y_new = x_new - x, g_new - g
        if float(s_new @ y_new) > 1e-12:
            s_hist.append(s_new)
            y_hist.append(y_new)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        converged = abs(f - f_new) <= tol * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if converged:
            break
    return x


def fit_logistic(
    matrix: Matrix, y: FloatArray, weight: FloatArray, l2: float
) -> tuple[FloatArray, float]:
    """Weights and bias minimising weighted mean log-loss + ``l2 / 2 * |w|**2``."""
    total = float(weight.sum())
    d = matrix.n_cols

    def fun(params: FloatArray) -> tuple[float, FloatArray]:
        w, b = params[:d], params[d]
        z = matrix.dot(w) + b
        loss = float((weight * (_log1pexp(z) - y * z)).sum()) / total
        r = weight * (_sigmoid(z) - y) / total
        grad = np.empty(d + 1)
        grad[:d] = matrix.tdot(r) + l2 * w
        grad[d] = r.sum()
        return loss + 0.5 * l2 * float(w @ w), grad

    params = lbfgs(fun, np.zeros(d + 1))
    return params[:d], float(params[d])


def fit_platt(logits: FloatArray, y: FloatArray) -> tuple[float, float]:
    """``a, b`` such that ``sigmoid(a * logit + b)`` is calibrated on these examples (Newton),
    with Platt's target smoothing so that separable data does not push ``a`` to infinity."""
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        z = a * logits + b
        return float((_log1pexp(z) - t * z).sum())

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        p = _sigmoid(a * logits + b)
        g = np.array([((p - t) * logits).sum(), (p - t).sum()])
        wgt = p * (1 - p) + 1e-12
        h = np.array(
            [
                [(wgt * logits * logits).sum(), (wgt * logits).sum()],
                [(wgt * logits).sum(), wgt.sum()],
            ]
        ) + 1e-9 * np.eye(2)
        delta = np.linalg.solve(h, g)
        # Damped Newton: a full step can overshoot badly when the classes barely overlap.
        step = 1.0
        while step > 1e-8:
            new = loss(a - step * float(delta[0]), b - step * float(delta[1]))
            if new <= current:
                break
            step *= 0.5
        a, b = a - step * float(delta[0]), b - step * float(delta[1])
        improved = current - new
        current = new
        if float(np.abs(step * delta).max()) < 1e-10 or improved < 1e-12:
            break
    return a, b


def calibration_error(p: FloatArray, y: FloatArray, bins: int = 10) -> dict[str, float]:
    """Expected calibration error over equal-width bins, and the Brier score."""
    edges = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for k in range(bins):
        mask = edges == k
        if mask.any():
            ece += float(mask.mean()) * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return {"ece": ece, "brier": float(((p - y) ** 2).mean())}


# --- the run ------------------------------------------------------------------------------------


@dataclass
class HeadResult:
    spec: HeadSpec
    weights: FloatArray
    bias: float
    l2: float
    platt: tuple[float, float]
    threshold: float
    report: dict[str, Any] = field(default_factory=dict)


def _indices(
    records: Sequence[Record], split: Sequence[str], name: str, wanted: dict[LabelKind, float]
) -> list[int]:
    return [i for i, r in enumerate(records) if split[i] == name and (r.label, r.kind) in wanted]


def _eval_indices(
    records: Sequence[Record], split: Sequence[str], name: str, spec: HeadSpec
) -> tuple[list[int], FloatArray]:
    label, kind = spec.evaluate_on
    idx = [
        i
        for i, r in enumerate(records)
        if split[i] == name and r.kind == kind and r.label in (label, "benign")
    ]
    y = np.array([1.0 if records[i].label == label else 0.0 for i in idx])
    return idx, y


def _class_weights(
    records: Sequence[Record], idx: Sequence[int], spec: HeadSpec
) -> tuple[FloatArray, FloatArray]:
    """Labels and weights: each class sums to the same total, and within a class each label/kind
    gets its relative weight, so a large family (machine-translated PurpleLlama rows) cannot drown
    a small one."""
    y = np.array(
        [1.0 if (records[i].label, records[i].kind) in spec.positives else 0.0 for i in idx]
    )
    pairs = [(records[i].label, records[i].kind) for i in idx]
    counts = Counter(pairs)
    raw = np.array(
        [
            (spec.positives if y[j] else spec.negatives)[pair] / counts[pair]
            for j, pair in enumerate(pairs)
        ]
    )
    for cls in (0.0, 1.0):
        mask = y == cls
        raw[mask] *= 0.5 * len(idx) / raw[mask].sum()
    return y, raw


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _logits(
    spec: HeadSpec, matrix: Matrix, texts: Sequence[str], w: FloatArray, b: float, *, bits: int
) -> FloatArray:
    """Logits as the shipped model computes them for this head (whole text, or best slice)."""
    if spec.window is None:
        return matrix.dot(w) + b
    w32 = w.astype(np.float32)
    return np.array([max_window_logit(prepare(t), w32, b, bits, spec.window) for t in texts])


def train_head(
    spec: HeadSpec,
    records: Sequence[Record],
    split: Sequence[str],
    rows: Rows,
    bits: int,
) -> HeadResult:
    d = 1 << bits
    train_idx = _indices(records, split, "train", {**spec.positives, **spec.negatives})
    y, weight = _class_weights(records, train_idx, spec)
    train = Matrix.select(rows, train_idx, d)
    dev_idx, dev_y = _eval_indices(records, split, "dev", spec)
    dev = Matrix.select(rows, dev_idx, d)
    dev_texts = [records[i].text for i in dev_idx]

    def dev_logits(w: FloatArray, b: float) -> FloatArray:
        return _logits(spec, dev, dev_texts, w, b, bits=bits)

    best: tuple[tuple[float, float], float, FloatArray, float] | None = None
    tried = []
    for l2 in spec.l2_grid:
        start = time.perf_counter()
        w, b = fit_logistic(train, y, weight, l2)
        logits = dev_logits(w, b)
        m = binary_metrics(logits.tolist(), (dev_y > 0).tolist(), threshold=0.0)
        key = (m.recall_at_fpr, m.roc_auc)
        tried.append(
            {"l2": l2, "dev_recall_at_1pct_fpr": m.recall_at_fpr, "dev_roc_auc": m.roc_auc}
        )
        _log(
            f"  {spec.name} l2={l2:g}: dev recall@1%FPR {m.recall_at_fpr:.3f} "
            f"AUC {m.roc_auc:.4f} ({time.perf_counter() - start:.1f}s)"
        )
        if best is None or key > best[0]:
            best = (key, l2, w, b)
    assert best is not None
    _, l2, w, b = best

    logits = dev_logits(w, b)
    a, c = fit_platt(logits, dev_y)
    probs = _sigmoid(a * logits + c)
    # Calibration measured honestly on dev: Platt fitted on one half, checked on the other.
    half = np.arange(len(dev_y)) % 2 == 0
    cross = np.empty_like(probs)
    for fit_mask in (half, ~half):
        fa, fc = fit_platt(logits[fit_mask], dev_y[fit_mask])
        cross[~fit_mask] = _sigmoid(fa * logits[~fit_mask] + fc)
    dev_metrics = binary_metrics(probs.tolist(), (dev_y > 0).tolist(), threshold=0.5)
    return HeadResult(
        spec=spec,
        weights=w,
        bias=b,
        l2=l2,
        platt=(a, c),
        threshold=dev_metrics.threshold_at_fpr,
        report={
            "trained_on": {f"{k[0]}/{k[1]}": v for k, v in spec.positives.items()}
            | {f"{k[0]}/{k[1]}": v for k, v in spec.negatives.items()},
            "n_train": len(train_idx),
            "l2_search": tried,
            "dev": dev_metrics.as_dict(),
            "dev_calibration_crossfit": calibration_error(cross, dev_y),
        },
    )


def _evaluate(
    head: HeadResult,
    *,
    records: Sequence[Record],
    split: Sequence[str],
    rows: Rows,
    name: str,
    bits: int,
) -> dict[str, Any]:
    idx, y = _eval_indices(records, split, name, head.spec)
    matrix = Matrix.select(rows, idx, 1 << bits)
    a, c = head.platt
    texts = [records[i].text for i in idx]
    probs = _sigmoid(a * _logits(head.spec, matrix, texts, head.weights, head.bias, bits=bits) + c)
    at_dev_threshold = binary_metrics(probs.tolist(), (y > 0).tolist(), threshold=head.threshold)
    return {
        **at_dev_threshold.as_dict(),
        "calibration": calibration_error(probs, y),
    }


def write_splits(records: Sequence[Record], split: Sequence[str], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("train", "dev", "test"):
        with (directory / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for record, where in zip(records, split, strict=True):
                if where == name:
                    row = {
                        "text": record.text,
                        "label": record.label,
                        "source": record.source,
                        "kind": record.kind,
                    }
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")


def dataset_digest(paths: Sequence[Path]) -> dict[str, str]:
    return {p.name: file_digest(p) for p in paths}


def run(
    data_dir: Path,
    out_dir: Path,
    *,
    bits: int = DEFAULT_BITS,
    with_test: bool = False,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    splits_dir: Path | None = None,
) -> dict[str, Any]:
    paths = sorted(data_dir.glob("*.jsonl"))
    if not paths:
        raise SystemExit(f"no *.jsonl files in {data_dir}")
    dataset = read_datasets(paths)
    for error in dataset.errors:
        _log(f"skipped {error}")
    records = dataset.records
    _log(f"{len(records)} records from {len(paths)} files; splitting")
    split = split_records(records, fractions).assignment
    counts = Counter((r.label, r.kind, s) for r, s in zip(records, split, strict=True))
    if splits_dir is not None:
        write_splits(records, split, splits_dir)
    _log("hashing features")
    rows = Rows.from_texts([r.text for r in records], bits)

    heads = []
    for spec in HEADS:
        _log(f"training {spec.name}")
        heads.append(train_head(spec, records, split, rows, bits))

    out_dir.mkdir(parents=True, exist_ok=True)
    weights = np.stack([h.platt[0] * h.weights for h in heads]).astype(np.float32)
    bias = np.array([h.platt[0] * h.bias + h.platt[1] for h in heads], dtype=np.float32)
    weights_path = out_dir / WEIGHTS_NAME
    # Platt's slope and intercept are folded into the weights: inference is one dot product.
    np.savez_compressed(weights_path, weights=weights, bias=bias)

    manifest: dict[str, Any] = {
        "name": "garrison-injection-linear",
        "version": dt.datetime.now(dt.UTC).strftime("%Y.%m.%d"),
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "model": "L2-regularised logistic regression per head, Platt-calibrated on dev",
        "bits": bits,
        "dims": 1 << bits,
        "features": FEATURE_CONFIG,
        "weights_file": WEIGHTS_NAME,
        "weights_sha256": file_digest(weights_path),
        "training_data": {
            "files": dataset_digest(paths),
            "records": len(records),
            "split": "near-duplicate groups by SHA-256 within label/kind/source strata",
            "fractions": list(fractions),
            "counts": {f"{lb}/{kd}/{sp}": n for (lb, kd, sp), n in sorted(counts.items())},
        },
        "heads": [
            {
                "name": h.spec.name,
                "index": i,
                "task": f"{h.spec.evaluate_on[0]}/{h.spec.evaluate_on[1]}",
                "threshold": h.threshold,
                "window": h.spec.window,
                "threshold_rule": "lowest score keeping <= 1% FPR on the dev negatives",
                "l2": h.l2,
                "platt": {"a": h.platt[0], "b": h.platt[1]},
                **h.report,
            }
            for i, h in enumerate(heads)
        ],
    }
    if with_test:
        for entry, head in zip(manifest["heads"], heads, strict=True):
            entry["test"] = _evaluate(
                head, records=records, split=split, rows=rows, name="test", bits=bits
            )
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="train-injection-model",
        description="Train the hashed n-gram logistic model and write its weights and manifest.",
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=default_model_dir())
    parser.add_argument("--bits", type=int, default=DEFAULT_BITS)
    parser.add_argument(
        "--write-splits",
        type=Path,
        metavar="DIR",
        help="write train.jsonl, dev.jsonl and test.jsonl there (for garrison detectors evaluate)",
    )
    parser.add_argument(
        "--test",
        action="store_true",
        help="also measure the test split (do this once, at the end; never tune on it)",
    )
    args = parser.parse_args(argv)
    manifest = run(
        args.data, args.out, bits=args.bits, with_test=args.test, splits_dir=args.write_splits
    )
    for head in manifest["heads"]:
        dev = head["dev"]
        line = (
            f"{head['name']:<20} dev: n+={dev['n_positive']} n-={dev['n_negative']} "
            f"recall@1%FPR={dev['recall_at_fpr']:.3f} AUC={dev['roc_auc']:.4f} "
            f"threshold={head['threshold']:.4f}"
        )
        if "test" in head:
            test = head["test"]
            line += (
                f" | test: recall={test['recall']:.3f} FPR={test['fpr']:.3f} "
                f"recall@1%FPR={test['recall_at_fpr']:.3f} AUC={test['roc_auc']:.4f}"
            )
        print(line)
    return 0
