"""Registering 10,000 assets, then re-registering them with a few changes, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/inventory/bench_register.py [--assets 10000] [--repeats 3]
        [--backend sqlite --backend postgresql]

Each repeat uses a fresh, migrated database and times two passes, each one discovery run
(``start_run`` → ``register_many`` → ``finish_run(complete=True)``) committed as one unit of work:

* ``first``: 10,000 new assets (a mix of model endpoints keyed by provider/model/endpoint, cloud
  resources keyed by ARN and datasets keyed by name), each with one piece of evidence; one in ten
  declares two dependencies;
* ``second``: the same 10,000 again, 1 % of them with a changed ``model_version`` (updates with
  history), the rest unchanged (``last_seen`` only), and the staleness check of a complete run.

PostgreSQL is the throwaway cluster of ``tests/support/postgres.py`` (fsync off, loopback). The
median over repeats is reported per backend and pass: wall time, and the CPU time of this process
(on a shared machine the CPU time is the steadier figure; PostgreSQL's own work is in its server
processes, so for it only the wall time counts).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from garrison.inventory import AssetSpec, Evidence, finish_run, register_many, start_run
from garrison.store import Store, open_store
from garrison.store.models.inventory import AssetHistoryRow, AssetRow

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support, run as a script
from tests.support.postgres import start_postgres

CHANGED_EVERY = 100
SOURCE = "bench"


def specs(
    count: int, *, version: str = "1", changed_every: int = 0
) -> list[tuple[AssetSpec, list[Evidence]]]:
    items: list[tuple[AssetSpec, list[Evidence]]] = []
    for i in range(count):
        changed = bool(changed_every) and i % changed_every == 0
        kind = i % 3
        values: dict[str, Any] = {"org": "bench", "environment": "production"}
        if kind == 0:
            values |= {
                "name": f"endpoint {i}",
                "asset_type": "api_endpoint",
                "model_provider": "azure_openai",
                "model_name": f"gpt-4o-{i}",
                "api_endpoint": f"https://acct{i % 50}.openai.azure.com/",
                "model_version": version if not changed else f"{version}-changed",
                "cloud_provider": "azure",
                "cloud_region": "eastus",
            }
        elif kind == 1:
            values |= {
                "name": f"custom model {i}",
                "asset_type": "fine_tuned_model",
                "source_id": f"arn:aws:bedrock:us-east-1:111122223333:custom-model/m{i}",
                "model_provider": "aws_bedrock",
                "model_version": version if not changed else f"{version}-changed",
                "cloud_provider": "aws",
            }
        else:
            values |= {
                "name": f"dataset {i}",
                "asset_type": "training_dataset",
                "data_classification": "confidential",
                "regulatory_scope": ["gdpr"],
                "description": "changed" if changed else "",
            }
        if i % 10 == 0 and i >= 3:
            values["depends_on"] = [f"dataset {i - 1 - (i - 1) % 3 + 2}", f"endpoint {i - i % 3}"]
        items.append(
            (
                AssetSpec.model_validate(values),
                [Evidence(location=f"bench:call/{i}", detail="benchmark")],
            )
        )
    return items


def one_pass(store: Store, items: list[tuple[AssetSpec, list[Evidence]]]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one committed run."""
    started, cpu = time.perf_counter(), time.process_time()
    with store.session() as session:
        run = start_run(session, SOURCE, scope="bench", org="bench")
        register_many(session, items, source=SOURCE, run=run)
        finish_run(session, run)
    return time.perf_counter() - started, time.process_time() - cpu


def check(store: Store, count: int) -> None:
    with store.session() as session:
        assets = session.scalar(select(func.count()).select_from(AssetRow))
        updates = session.scalar(
            select(func.count())
            .select_from(AssetHistoryRow)
            .where(AssetHistoryRow.action == "updated")
        )
    assert assets == count, f"{assets} assets after two passes of {count}"
    expected = len(range(0, count, CHANGED_EVERY))
    assert updates == expected, f"{updates} updates, expected {expected}"


def run_backend(backend: str, count: int, repeats: int) -> dict[str, list[tuple[float, float]]]:
    first_items = specs(count)
    second_items = specs(count, changed_every=CHANGED_EVERY)
    times: dict[str, list[tuple[float, float]]] = {"first": [], "second": []}
    server = start_postgres() if backend == "postgresql" else None
    try:
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as folder:
                if server is None:
                    url = f"sqlite:///{Path(folder) / 'bench.db'}"
                    store = open_store(url)
                    times["first"].append(one_pass(store, first_items))
                    times["second"].append(one_pass(store, second_items))
                    check(store, count)
                    store.dispose()
                else:
                    with server.fresh_database() as url:
                        store = open_store(url)
                        times["first"].append(one_pass(store, first_items))
                        times["second"].append(one_pass(store, second_items))
                        check(store, count)
                        store.dispose()
    finally:
        if server is not None:
            server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    load = os.getloadavg()[0]
    print(
        f"{args.assets} assets, {args.repeats} repeats, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at start"
    )
    print(
        f"{'backend':<11} {'pass':<7} {'wall s':>7} {'cpu s':>6} {'assets/s':>9}   wall of each run"
    )
    for backend in backends:
        times = run_backend(backend, args.assets, args.repeats)
        for name, values in times.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            runs = ", ".join(f"{v[0]:.2f}" for v in values)
            rate = args.assets / wall
            print(f"{backend:<11} {name:<7} {wall:>7.2f} {cpu:>6.2f} {rate:>9.0f}   {runs}")


if __name__ == "__main__":
    main()
