"""Latency and throughput of the pattern detectors, with a Python ``re`` loop as the baseline.

    .venv/bin/python benchmarks/detectors/bench_patterns.py [--quick] [--engine re2] [--gc-freeze]

Messages are ~1 KB, built by concatenating records of ../shared/datasets (benign, injection and
jailbreak, shuffled with a fixed seed) so that they hold realistic prose, documents and attacks.
Each repeat times every message once through:

* ``pipeline``: ``scan()`` with the four pattern detectors (injection, secrets, PII, unsafe output)
  and nothing else: normalisation, decoded views, one engine pass per view, validators, verdict
  and redaction;
* ``engine``: the compiled pattern pass alone over the already normalised text and views;
* ``re loop``: the same expressions compiled with Python ``re``, searched one after another over
  the normalised text only (the baseline does less work than ``engine``: no views).

Reported: p50 / p99 microseconds per message and MB/s, the median over repeats, twice: wall
time, and the scanning thread's CPU time (``time.thread_time_ns``), which leaves out the time the
thread waited for a CPU. On a shared machine the CPU figure is the cost of our code on one core
and the one to compare with the targets; the load average before and after is printed too.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

from garrison.monitoring.detectors import Direction, ScanContext, scan
from garrison.monitoring.detectors.engine import get_engine
from garrison.monitoring.detectors.normalise import normalise
from garrison.monitoring.detectors.pipeline import DetectorsConfig, DetectorSwitch, load_config

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
PATTERN_DETECTORS = ("DET-INJECTION-PATTERNS", "DET-SECRETS", "DET-PII", "DET-UNSAFE-OUTPUT")
MESSAGE_SIZE = 1024


def messages(count: int, seed: int = 7) -> list[str]:
    texts: list[str] = []
    for name in ("benign.jsonl", "injection.jsonl", "jailbreak.jsonl"):
        with (DATASETS / name).open(encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    rng = random.Random(seed)
    rng.shuffle(texts)
    result: list[str] = []
    current = ""
    for text in texts:
        current = f"{current}\n{text}" if current else text
        if len(current) >= MESSAGE_SIZE:
            result.append(current[:MESSAGE_SIZE])
            current = ""
            if len(result) == count:
                break
    return result


def pattern_config() -> DetectorsConfig:
    base = load_config()
    switches = [DetectorSwitch(id=i, enabled=i in PATTERN_DETECTORS) for i in base_ids(base)]
    return base.model_copy(update={"detectors": switches, "enable_unlisted": False})


def base_ids(config: DetectorsConfig) -> list[str]:
    return [switch.id for switch in config.detectors]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(function, items) -> tuple[list[float], list[float]]:
    """Wall seconds and this thread's CPU seconds per call.

    ``thread_time_ns`` stops while the thread waits for a CPU, so on a shared machine it is the
    cost of our code on one core; the wall figure includes the time other processes held it."""
    wall: list[float] = []
    cpu: list[float] = []
    for item in items:
        began_cpu = time.thread_time_ns()
        began = time.perf_counter_ns()
        function(item)
        wall.append((time.perf_counter_ns() - began) / 1e9)
        cpu.append((time.thread_time_ns() - began_cpu) / 1e9)
    return wall, cpu


def summary(measured: tuple[list[float], list[float]], total_bytes: int) -> dict[str, float]:
    wall, cpu = measured
    return {
        "p50_us": percentile(wall, 0.50) * 1e6,
        "p99_us": percentile(wall, 0.99) * 1e6,
        "mb_s": total_bytes / sum(wall) / 1e6,
        "cpu_p50_us": percentile(cpu, 0.50) * 1e6,
        "cpu_p99_us": percentile(cpu, 0.99) * 1e6,
        "cpu_mb_s": total_bytes / max(sum(cpu), 1e-9) / 1e6,
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 messages, 3 repeats")
    parser.add_argument("--engine", choices=["hyperscan", "re2"], default=None)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after warm-up, as a long-running server would after start-up: the "
        "compiled patterns, models and configuration then stay out of every full collection",
    )
    args = parser.parse_args()
    count, repeats = (200, 3) if args.quick else (args.messages, args.repeats)
    corpus = messages(count)
    total = sum(len(m.encode("utf-8")) for m in corpus)
    engine = get_engine(args.engine)
    config = pattern_config()
    context = ScanContext(direction=Direction.INPUT)
    normalised = [normalise(m) for m in corpus]
    baseline = [
        re.compile(p.expression, (re.IGNORECASE if p.caseless else 0) | re.MULTILINE * p.multiline)
        for p in engine.patterns
    ]

    def run_pipeline(message: str) -> None:
        scan(message, context, config=config, engine=engine)

    def run_engine(index: int) -> None:
        item = normalised[index]
        for _, kind, text in item.targets():
            engine.match_text(text, kind=kind)

    def run_re(index: int) -> None:
        text = normalised[index].text
        for expression in baseline:
            expression.search(text)

    for message in corpus[:50]:  # warm caches and the compiled database
        run_pipeline(message)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    runs: dict[str, list[dict[str, float]]] = {"pipeline": [], "engine": [], "re loop": []}
    indexes = list(range(len(corpus)))
    load_before = loadavg()
    for _ in range(repeats):
        runs["pipeline"].append(summary(timed(run_pipeline, corpus), total))
        runs["engine"].append(summary(timed(run_engine, indexes), total))
        runs["re loop"].append(summary(timed(run_re, indexes), total))
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"load average (1/5/15 min): before {load_before}, after {loadavg()}")
    print(
        f"engine: {engine.name}, patterns: {len(engine.patterns)}, messages: {len(corpus)} "
        f"(~{MESSAGE_SIZE} B), repeats: {repeats}"
    )
    medians: dict[str, dict[str, float]] = {}
    for name, results in runs.items():
        medians[name] = {k: statistics.median(r[k] for r in results) for k in results[0]}
        m = medians[name]
        print(
            f"{name:9} wall p50 {m['p50_us']:8.1f} us  p99 {m['p99_us']:8.1f} us "
            f"{m['mb_s']:7.2f} MB/s | cpu p50 {m['cpu_p50_us']:8.1f} us  "
            f"p99 {m['cpu_p99_us']:8.1f} us {m['cpu_mb_s']:7.2f} MB/s"
        )
    for key, label in (("p50_us", "wall"), ("cpu_p50_us", "cpu")):
        baseline = medians["re loop"][key]
        print(
            f"{label}: re loop / engine p50 ratio: {baseline / medians['engine'][key]:.1f}x; "
            f"re loop / pipeline p50 ratio: {baseline / medians['pipeline'][key]:.1f}x"
        )


if __name__ == "__main__":
    main()
