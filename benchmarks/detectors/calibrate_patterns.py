"""Per-pattern hit counts on the development data, for calibrating pattern scores.

    .venv/bin/python benchmarks/detectors/calibrate_patterns.py [--datasets DIR] [--engine re2]

For every pattern of the prompt-injection detector: how many injection / jailbreak records and how
many benign records it fires on, and the smoothed precision (tp + 1) / (tp + fp + 2) that the
pattern's ``score`` should carry (capped at 0.95 in the YAML: see the note there).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from garrison.monitoring.detectors.engine import get_engine
from garrison.monitoring.detectors.normalise import normalise
from garrison.monitoring.detectors.patterns import patterns_for

DEFAULT_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
POSITIVE = {"injection", "jailbreak"}


def load(folder: Path) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for name in ("injection.jsonl", "jailbreak.jsonl", "benign.jsonl"):
        with (folder / name).open(encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--engine", choices=["hyperscan", "re2"], default=None)
    parser.add_argument("--show-fp", action="store_true", help="print benign texts that match")
    args = parser.parse_args()
    engine = get_engine(args.engine)
    wanted = {p.id for p in patterns_for("DET-INJECTION-PATTERNS")}
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    by_label: Counter[tuple[str, str]] = Counter()
    hit_label: Counter[tuple[str, str]] = Counter()
    for record in load(args.datasets):
        key = (record["label"], record["kind"])
        by_label[key] += 1
        fired = {m.pattern.id for m in engine.match(normalise(record["text"]))} & wanted
        if fired:
            hit_label[key] += 1
        for pattern_id in fired:
            if record["label"] in POSITIVE:
                tp[pattern_id] += 1
            else:
                fp[pattern_id] += 1
                if args.show_fp:
                    print(f"FP {pattern_id}: {record['text'][:300]!r}")
    print(f"{'pattern':36} {'tp':>5} {'fp':>4} {'precision':>9}")
    for pattern_id in sorted(wanted):
        t, f = tp[pattern_id], fp[pattern_id]
        print(f"{pattern_id:36} {t:5d} {f:4d} {(t + 1) / (t + f + 2):9.3f}")
    print()
    for key in sorted(by_label):
        share = hit_label[key] / by_label[key]
        print(f"{key[0]:10} {key[1]:9} {hit_label[key]:5d}/{by_label[key]:5d} = {share:.3f}")


if __name__ == "__main__":
    main()
