"""Time files discovery over the generated 100,000-file tree (see tree.py).

Usage: .venv/bin/python benchmarks/discovery/bench_files.py [--root DIR] [--runs 5]
Prints each run and the median; the target is under 30 s on 2 cores.
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

from garrison.inventory.discovery.files import discover_files


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
        found = discover_files([args.root])
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        result = found.result
        print(
            f"run {run + 1}: {elapsed:.2f} s, {found.files_seen:,} files, "
            f"{len(result.assets)} assets, "
            f"{len(result.errors)} errors, complete={result.complete}"
        )
        assert found.files_seen == shape.files, found.files_seen
        assert len(found.artifacts) == shape.model_files, len(found.artifacts)
    print(f"median {statistics.median(times):.2f} s over {args.runs} runs (target < 30 s)")


if __name__ == "__main__":
    main()
