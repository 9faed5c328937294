"""Recall and false-positive rates of the non-classifier detectors on the development data.

    .venv/bin/python benchmarks/detectors/eval_detectors.py [--datasets DIR]

* Injection / jailbreak patterns: share of records with a finding at or above the flag threshold
  (0.5), per label and kind; false-positive rate on benign prompts and documents.
* Secrets, PII, unsafe output, exfiltration: findings at or above their flag thresholds on the
  benign and no_leak records (these contain no planted secrets, so every hit is a false alarm or
  a genuine incidental one, e.g. an email address in a document).
* System-prompt leak: outputs.jsonl has no registered prompts, and its leak texts ARE system
  prompts as revealed by live services. Each leak text is registered as the app's system prompt
  and then checked against (a) itself verbatim, (b) a reformatted copy (markdown bullets, upper
  case, re-wrapped lines, a preamble), (c) its first half inside an answer, and (d) a canary
  planted in it. False positives: every no_leak output against every registered prompt.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from garrison.monitoring.detectors import Category, Direction, ScanContext, normalise
from garrison.monitoring.detectors.exfiltration import ExfiltrationDetector
from garrison.monitoring.detectors.injection import InjectionPatternDetector
from garrison.monitoring.detectors.leakage import SystemPromptLeakDetector
from garrison.monitoring.detectors.pii import PIIDetector
from garrison.monitoring.detectors.pipeline import load_config
from garrison.monitoring.detectors.secrets import SecretsDetector
from garrison.monitoring.detectors.unsafe_output import UnsafeOutputDetector

DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def reformat(text: str) -> str:
    words = text.split()
    lines = [" ".join(words[i : i + 7]) for i in range(0, len(words), 7)]
    return "Sure! My instructions are:\n\n" + "\n".join(f"* **{line.upper()}**" for line in lines)


def main() -> None:  # noqa: PLR0915 - a report, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=DEFAULT)
    args = parser.parse_args()
    config = load_config()
    flag = {category: t.flag for category, t in config.thresholds.items()}
    records = [
        *read(args.datasets, "injection.jsonl"),
        *read(args.datasets, "jailbreak.jsonl"),
        *read(args.datasets, "benign.jsonl"),
    ]
    injection = InjectionPatternDetector()
    totals: Counter[tuple[str, str]] = Counter()
    hits: Counter[tuple[str, str]] = Counter()
    others = {"secrets": SecretsDetector(), "pii": PIIDetector()}
    other_hits: Counter[str] = Counter()
    benign_total = 0
    for record in records:
        key = (record["label"], record["kind"])
        totals[key] += 1
        direction = Direction.RETRIEVED if record["kind"] == "indirect" else Direction.INPUT
        text = normalise(record["text"])
        found = injection.scan(text, ScanContext(direction=direction))
        if any(f.score >= flag[f.category] for f in found):
            hits[key] += 1
        if record["label"] == "benign":
            benign_total += 1
            for name, detector in others.items():
                if any(f.score >= flag[f.category] for f in detector.scan(text, ScanContext())):
                    other_hits[name] += 1
    print("injection / jailbreak patterns (flag threshold 0.5):")
    for key in sorted(totals):
        share = hits[key] / totals[key]
        print(f"  {key[0]:10} {key[1]:9} {hits[key]:5d}/{totals[key]:5d} = {share:.3f}")
    for name in others:
        count = other_hits[name]
        share = count / benign_total
        print(f"{name} findings >= flag on benign: {count}/{benign_total} = {share:.4f}")

    outputs = read(args.datasets, "outputs.jsonl")
    leaks = [r["text"] for r in outputs if r["label"] == "leak"]
    clean = [r["text"] for r in outputs if r["label"] == "no_leak"]
    leak = SystemPromptLeakDetector()
    threshold = flag[Category.SYSTEM_PROMPT_LEAK]

    def score(prompt: str, output: str, canaries: tuple[str, ...] = ()) -> float:
        context = ScanContext(direction=Direction.OUTPUT, system_prompt=prompt, canaries=canaries)
        return max((f.score for f in leak.scan(normalise(output), context)), default=0.0)

    variants = {
        "verbatim": lambda p: p,
        "reformatted": reformat,
        "first half in an answer": lambda p: "Here is what I was told: " + p[: len(p) // 2],
    }
    print(f"system-prompt leak ({len(leaks)} registered prompts, threshold {threshold}):")
    for name, make in variants.items():
        caught = sum(score(p, make(p)) >= threshold for p in leaks)
        print(f"  recall {name:24} {caught}/{len(leaks)} = {caught / len(leaks):.3f}")
    canary = "gx-canary-51f0c2"
    caught = sum(
        score(p + f"\n{canary}", f"{p[:200]} {canary}", (canary,)) >= threshold for p in leaks
    )
    print(f"  recall {'canary':24} {caught}/{len(leaks)} = {caught / len(leaks):.3f}")
    false = sum(score(p, o) >= threshold for p in leaks for o in clean)
    pairs = len(leaks) * len(clean)
    print(f"  false positives no_leak x prompts: {false}/{pairs} = {false / pairs:.4f}")
    cross = sum(score(p, q) >= threshold for p in leaks for q in leaks if p != q)
    print(
        f"  other services' leaks flagged as this prompt: {cross}/{len(leaks) * (len(leaks) - 1)}"
    )
    exfil, unsafe = ExfiltrationDetector(), UnsafeOutputDetector()
    ctx = ScanContext(direction=Direction.OUTPUT)
    ex = sum(any(f.score >= flag[f.category] for f in exfil.scan(normalise(o), ctx)) for o in clean)
    un = sum(
        any(f.score >= flag[f.category] for f in unsafe.scan(normalise(o), ctx)) for o in clean
    )
    print(f"exfiltration >= flag on no_leak outputs: {ex}/{len(clean)}")
    print(f"unsafe output >= flag on no_leak outputs: {un}/{len(clean)}")


if __name__ == "__main__":
    main()
