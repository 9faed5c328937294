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


def _time(fn, items: list[str]) -> tuple[float, float, float, float]:
    """Wall p50 / p99 and this thread's CPU-time p50 / p99, in microseconds.

    ``thread_time_ns`` does not advance while the thread waits for a CPU: on a shared machine it
    is the cost of the code on one core, the wall figure adds the waiting."""
    times = np.empty(len(items))
    cpu = np.empty(len(items))
    for i, item in enumerate(items):
        start_cpu = time.thread_time_ns()
        start = time.perf_counter_ns()
        fn(item)
        times[i] = time.perf_counter_ns() - start
        cpu[i] = time.thread_time_ns() - start_cpu
    return (
        float(np.percentile(times, 50)) / 1e3,
        float(np.percentile(times, 99)) / 1e3,
        float(np.percentile(cpu, 50)) / 1e3,
        float(np.percentile(cpu, 99)) / 1e3,
    )


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:
        return "unknown"


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
    load_before = _loadavg()
    for name, fn in cases.items():
        _time(fn, items[:200])  # warm-up
        runs = [_time(fn, items) for _ in range(args.runs)]
        p50 = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        results[name] = {
            "p50_us": round(p50, 1),
            "p99_us": round(p99, 1),
            "mb_per_s": round(MESSAGE_CHARS / p50, 2),
            "cpu_p50_us": round(statistics.median(r[2] for r in runs), 1),
            "cpu_p99_us": round(statistics.median(r[3] for r in runs), 1),
        }
    info = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "model_version": model.version,
        "messages": len(items),
        "runs": args.runs,
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "results": results,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return
    print(f"{info['machine']}, {info['cpus']} CPUs, Python {info['python']}, numpy {info['numpy']}")
    print(f"{len(items)} messages of {MESSAGE_CHARS} chars, median of {args.runs} runs")
    print(f"load average (1/5/15 min): before {load_before}, after {info['loadavg_after']}")
    for name, r in results.items():
        print(
            f"{name:<58} wall p50 {r['p50_us']:>7.1f} us  p99 {r['p99_us']:>7.1f} us  "
            f"{r['mb_per_s']:.2f} MB/s | cpu p50 {r['cpu_p50_us']:>7.1f} us  "
            f"p99 {r['cpu_p99_us']:>7.1f} us"
        )


if __name__ == "__main__":
    main()
