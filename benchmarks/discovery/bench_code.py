"""Time code discovery over the generated 100,000-file tree (see tree.py: 2,000 code files).

Usage: .venv/bin/python benchmarks/discovery/bench_code.py [--root DIR] [--runs 5]
Prints each run and the median; the target (with the files source) is under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tree import TreeShape, build_tree

from garrison.inventory.discovery.code import discover_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--root", type=Path, default=Path(tempfile.gettempdir()) / "garrison-bench-tree"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    build_tree(args.root)
    print(f"tree ready in {time.perf_counter() - started:.1f} s at {args.root}")
    shape = TreeShape()
    times = []
    for run in range(args.runs):
        started = time.perf_counter()
        result = discover_code([args.root])
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        evidence = sum(len(a.evidence) for a in result.assets)
        print(
            f"run {run + 1}: {elapsed:.2f} s, {len(result.assets)} assets, {len(result.edges)} "
            f"edges, {evidence} evidence records, {len(result.errors)} errors, "
            f"complete={result.complete}"
        )
        assert result.complete
        assert not result.errors
    print(
        f"median {statistics.median(times):.2f} s over {args.runs} runs, "
        f"{shape.files:,} files of which {shape.code_files:,} code (target < 30 s with files)"
    )


if __name__ == "__main__":
    main()
