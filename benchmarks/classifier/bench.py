"""Latency of the trained classifier per 1 KB message.

    .venv/bin/python benchmarks/classifier/bench.py --data ../shared/datasets [--runs 5] [--json]

Messages are 1,024-character slices of the dataset's texts (attacks and benign mixed), each
distinct so that no cache helps. Each run times every message once, after a warm-up; the figures
are the medians over runs of each run's p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from garrison.monitoring.detectors.base import Direction, ScanContext
from garrison.monitoring.detectors.classifier import (
    InjectionClassifier,
    JailbreakClassifier,
    shipped_model,
)
from garrison.monitoring.evaluation import read_datasets

MESSAGE_CHARS = 1024


def messages(data: Path, count: int) -> list[str]:
    texts = [r.text for r in read_datasets(sorted(data.glob("*.jsonl"))).records]
    corpus = "\n".join(texts)
    step = max(1, (len(corpus) - MESSAGE_CHARS) // count)
    return [corpus[i * step : i * step + MESSAGE_CHARS] for i in range(count)]


def _time(fn, items: list[str]) -> tuple[float, float]:
    times = np.empty(len(items))
    for i, item in enumerate(items):
        start = time.perf_counter_ns()
        fn(item)
        times[i] = time.perf_counter_ns() - start
    return float(np.percentile(times, 50)) / 1e3, float(np.percentile(times, 99)) / 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    items = messages(args.data, args.messages)
    model = shipped_model()
    injection = InjectionClassifier()
    jailbreak = JailbreakClassifier()
    direct = ScanContext(direction=Direction.INPUT)
    retrieved = ScanContext(direction=Direction.RETRIEVED)

    def model_only(text: str) -> None:
        model._last = None  # measure the features every time, not the one-entry cache
        model.logits(text)

    def both_detectors(text: str) -> None:
        model._last = None
        injection.scan(text, direct)
        jailbreak.scan(text, direct)

    def retrieved_doc(text: str) -> None:
        model._last = None
        injection.scan(text, retrieved)

    cases = {
        "model, all 3 heads": model_only,
        "classifier.injection + classifier.jailbreak scan (input)": both_detectors,
        "classifier.injection scan (retrieved)": retrieved_doc,
    }
    results = {}
    for name, fn in cases.items():
        _time(fn, items[:200])  # warm-up
        runs = [_time(fn, items) for _ in range(args.runs)]
        p50 = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        results[name] = {
            "p50_us": round(p50, 1),
            "p99_us": round(p99, 1),
            "mb_per_s": round(MESSAGE_CHARS / p50, 2),
        }
    info = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "model_version": model.version,
        "messages": len(items),
        "runs": args.runs,
        "results": results,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return
    print(f"{info['machine']}, {info['cpus']} CPUs, Python {info['python']}, numpy {info['numpy']}")
    print(f"{len(items)} messages of {MESSAGE_CHARS} chars, median of {args.runs} runs")
    for name, r in results.items():
        print(
            f"{name:<58} p50 {r['p50_us']:>7.1f} us  p99 {r['p99_us']:>7.1f} us  "
            f"{r['mb_per_s']:.2f} MB/s"
        )


if __name__ == "__main__":
    main()
