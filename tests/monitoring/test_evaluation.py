from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from garrison.monitoring.detectors.base import Category
from garrison.monitoring.evaluation import (
    DatasetError,
    Record,
    Task,
    binary_metrics,
    evaluate_tasks,
    parse_record,
    precision_recall_f1,
    read_dataset,
    roc_auc,
    tasks_for,
    threshold_at_fpr,
)


def test_precision_recall_f1_by_hand() -> None:
    scores = [0.9, 0.8, 0.4, 0.7, 0.2, 0.1]
    positive = [True, True, True, False, False, False]
    # At 0.5: TP = 2 (0.9, 0.8), FP = 1 (0.7), FN = 1 (0.4).
    p, r, f = precision_recall_f1(scores, positive, 0.5)
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(2 / 3)
    assert f == pytest.approx(2 / 3)
    # The threshold is inclusive.
    assert precision_recall_f1(scores, positive, 0.4)[1] == 1.0


def test_precision_undefined_when_nothing_flagged() -> None:
    p, r, f = precision_recall_f1([0.1, 0.2], [True, False], 0.9)
    assert math.isnan(p)
    assert r == 0.0
    assert math.isnan(f)


def test_roc_auc_perfect_inverse_and_ties() -> None:
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    # All tied: every pair counts one half.
    assert roc_auc([0.5, 0.5, 0.5], [True, False, False]) == 0.5
    # Positives 0.8, 0.5; negatives 0.5, 0.2: the pairs count 1 + 1 + 0.5 (tie) + 1.
    assert roc_auc([0.8, 0.5, 0.5, 0.2], [True, True, False, False]) == pytest.approx(3.5 / 4)


def test_roc_auc_needs_both_classes() -> None:
    assert math.isnan(roc_auc([0.1, 0.2], [True, True]))
    assert math.isnan(roc_auc([], []))


def test_threshold_at_fpr_allows_floor_of_rate() -> None:
    negatives = [i / 100 for i in range(200)]  # 0.00 … 1.99
    # 1 % of 200 = 2 false positives allowed: 1.99 and 1.98 may pass, 1.97 may not.
    t = threshold_at_fpr(negatives, 0.01)
    assert 1.97 < t <= 1.98
    assert sum(n >= t for n in negatives) == 2


def test_threshold_at_fpr_ties_never_exceed_rate() -> None:
    # 100 negatives, 1 allowed, but the top two tie: the threshold must pass neither.
    negatives = [0.9, 0.9] + [0.1] * 98
    t = threshold_at_fpr(negatives, 0.01)
    assert t > 0.9
    assert sum(n >= t for n in negatives) == 0


def test_threshold_at_fpr_small_sets_and_empty() -> None:
    # 10 negatives at 1 %: no false positive allowed, threshold just above the highest.
    t = threshold_at_fpr([0.3, 0.7, 0.1] + [0.0] * 7, 0.01)
    assert 0.7 < t < 0.7001
    assert math.isnan(threshold_at_fpr([], 0.01))


def test_binary_metrics_recall_at_fpr() -> None:
    negatives = [0.01 * i for i in range(100)]  # highest 0.99, one FP allowed -> t just above 0.98
    positives = [0.985, 0.995, 0.5, 0.99]
    m = binary_metrics(positives + negatives, [True] * 4 + [False] * 100, threshold=0.5)
    assert m.n_positive == 4
    assert m.n_negative == 100
    assert m.recall_at_fpr == pytest.approx(3 / 4)
    assert m.recall == 1.0
    assert m.fpr == pytest.approx(0.50)


def test_binary_metrics_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        binary_metrics([math.nan], [True])


def _rec(label: str, kind: str) -> Record:
    return Record("t", label, "s", kind)


def test_tasks_use_same_kind_negatives() -> None:
    records = [
        _rec("injection", "direct"),
        _rec("injection", "indirect"),
        _rec("benign", "direct"),
        _rec("benign", "indirect"),
        _rec("jailbreak", "direct"),
    ]
    tasks = tasks_for(records)
    assert [(t.label, t.kind) for t in tasks] == [
        ("injection", "direct"),
        ("injection", "indirect"),
        ("jailbreak", "direct"),
    ]
    scores = [
        {Category.PROMPT_INJECTION: 0.9},
        {Category.PROMPT_INJECTION: 0.8},
        {Category.PROMPT_INJECTION: 0.95},  # a benign prompt outscoring the direct attack
        {},  # a clean document: missing category scores 0
        {Category.JAILBREAK: 0.7},
    ]
    results = {(r.task.label, r.task.kind): r.metrics for r in evaluate_tasks(records, scores)}
    assert results[("injection", "direct")].roc_auc == 0.0
    assert results[("injection", "indirect")].roc_auc == 1.0
    assert results[("injection", "indirect")].n_negative == 1
    assert results[("jailbreak", "direct")].n_negative == 1  # benign/direct only
    assert Task("leak", "output").negative_label == "no_leak"


def test_parse_record_errors_name_the_problem() -> None:
    good = '{"text": "hi", "label": "benign", "source": "x", "kind": "direct"}'
    assert parse_record(good).label == "benign"
    cases = {
        "{not json": "not valid JSON",
        "[1, 2]": "expected a JSON object",
        '{"text": "hi", "label": "benign", "kind": "direct"}': "missing key(s) source",
        '{"text": 1, "label": "benign", "source": "x", "kind": "direct"}': "'text' must be",
        '{"text": "a", "label": "evil", "source": "x", "kind": "direct"}': "unknown label 'evil'",
        '{"text": "a", "label": "leak", "source": "x", "kind": "direct"}': "cannot go with kind",
        '{"text": "a", "label": "benign", "source": "x", "kind": "direct", "n": 1}': "unexpected",
    }
    for raw, message in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_record(raw)


def test_read_dataset_skips_bad_lines_with_their_number(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"text": "a\u2028b", "label": "benign", "source": "x", "kind": "direct"}\n'
        "\n"
        '{"text": "b", "label": "nope", "source": "x", "kind": "direct"}\n'
        '{"text": "c", "label": "injection", "source": "x", "kind": "indirect"}\n',
        encoding="utf-8",
    )
    data = read_dataset(path)
    # U+2028 inside a string is not a line break in JSON lines.
    assert [r.text for r in data.records] == ["a\u2028b", "c"]
    assert data.records[1].line == 4
    assert len(data.errors) == 1
    assert data.errors[0].line == 3
    assert str(data.errors[0]).endswith(
        ":3: unknown label 'nope' (expected one of injection, jailbreak, benign, leak, no_leak)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nhello,benign\n", "not a detector dataset"),
        ('{"tool": "scanner", "findings": []}\n', "not a detector dataset"),
        ("", "no records"),
    ],
)
def test_read_dataset_refuses_other_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        read_dataset(path)


def test_read_dataset_refuses_binary_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_dataset(path)
    with pytest.raises(DatasetError, match="cannot read"):
        read_dataset(tmp_path / "missing.jsonl")
