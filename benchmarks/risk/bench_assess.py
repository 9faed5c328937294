"""Assessing 10,000 assets with 20 attested controls each, end to end, on SQLite (and PostgreSQL).

    .venv/bin/python benchmarks/risk/bench_assess.py [--assets 10000] [--controls 20]
        [--repeats 3] [--backend sqlite --backend postgresql] [--quant 10]
        [--template /tmp/risk-10000x20.db] [--profile 30]

Setup (not timed): a fresh, migrated database; ``register_many`` of the assets (a mix of agents,
LLM applications, endpoints, models and datasets with varied classification, exposure and scope);
``--controls`` applicable controls per asset attested (a third operational, the rest implemented,
planned or failed), written as the rows ``attest`` writes. On SQLite the populated database is
copied for every repeat; ``--template FILE`` keeps it between runs (populated when missing; it
must have been made with the same ``--assets`` and ``--controls``).

Timed, as one unit of work, what an estate-wide assessment does: load the risk model and the
control library, read every asset (``inventory.asset_documents``) and its control states
(``controls.state.current_state_values``), score each one (factors, controls, recommendations),
and store each assessment with its inputs and explanation (``risk.assess_bulk``). ``--profile N``
prints the N functions with the most cumulative CPU time (cProfile). The Monte Carlo (``--quant``
top assets, 20,000 simulated years each) is timed separately.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support, run as a script

from tests.support.postgres import PostgresServer, start_postgres

from garrison.controls import get_library
from garrison.controls.state import attest
from garrison.core.timeutil import utcnow
from garrison.inventory import AssetSpec, get_asset, register_many, search
from garrison.risk import assess_assets, load_risk_config, quantify, top
from garrison.risk.engine import assess_bulk, preview
from garrison.store import Store, open_store
from garrison.store.models.controls import ControlAttestationRow, ControlStateRow

TYPES = ("ai_agent", "llm_application", "api_endpoint", "foundation_model", "vector_database")
CLASSES = ("public", "internal", "confidential", "restricted", "regulated", None)
EXPOSURES = ("internal", "vpc", "public", "unknown")
ENVIRONMENTS = ("development", "staging", "production", "research")
STATES = ("operational", "implemented", "planned", "failed")


def spec(i: int) -> AssetSpec:
    values: dict[str, Any] = {
        "org": "bench",
        "name": f"asset {i}",
        "asset_type": TYPES[i % len(TYPES)],
        "data_classification": CLASSES[i % len(CLASSES)],
        "exposure": EXPOSURES[i % len(EXPOSURES)],
        "environment": ENVIRONMENTS[(i // 4) % len(ENVIRONMENTS)],
        "regulatory_scope": [["gdpr"], [], ["hipaa", "sox"], ["eu_ai_act_high_risk"]][i % 4],
        "model_provider": ("openai", "azure_openai", "acme", None)[i % 4],
        "is_self_hosted": i % 7 == 0,
        "sbom_available": i % 2 == 0,
        "source_id": f"bench:{i}",
    }
    if values["asset_type"] in ("ai_agent", "llm_application"):
        values["tools"] = [{"name": "crm", "permissions": ["read", "write"][: 1 + i % 2]}]
    return AssetSpec.model_validate(values)


def populate(store: Store, assets: int, controls: int, *, fast: bool = True) -> float:
    """Register the assets and attest ``controls`` applicable controls on each.

    ``fast`` writes the same attestation and current-state rows that ``attest`` would, with
    Core executemany inserts (``attest`` one call at a time took 484 s for 200,000 attestations;
    the setup is not what is measured). ``--slow-setup`` uses ``attest``.
    """
    started = time.perf_counter()
    library = get_library()
    at = utcnow() - timedelta(hours=1)
    with store.session() as session:
        register_many(session, [(spec(i), []) for i in range(assets)], source="bench")
    with store.session() as session:
        log: list[dict[str, Any]] = []
        for n, asset in enumerate(search(session)):
            applicable = library.applicable(asset.asset_type.value)[:controls]
            for k, control in enumerate(applicable):
                state = "operational" if k % 3 == 0 else STATES[(n + k) % 4]
                if not fast:
                    attest(
                        session,
                        asset.id,
                        control.id,
                        state,
                        "bench",
                        evidence=["https://ci.example.com/runs/1"],
                        at=at,
                        library=library,
                    )
                    continue
                log.append(
                    {
                        "id": len(log) + 1,
                        "asset_id": asset.id,
                        "control_id": control.id,
                        "asset_type": None,
                        "state": state,
                        "actor": "bench",
                        "evidence": ["https://ci.example.com/runs/1"],
                        "note": "",
                        "attested_at": at,
                        "recorded_at": at,
                    }
                )
        for start in range(0, len(log), 5000):
            chunk = log[start : start + 5000]
            session.execute(insert(ControlAttestationRow), chunk)
            session.execute(
                insert(ControlStateRow),
                [
                    {**{k: v for k, v in row.items() if k != "id"}, "attestation_id": row["id"]}
                    for row in chunk
                ],
            )
    return time.perf_counter() - started


def timed_assess(store: Store, profile: int = 0, objects: bool = False) -> tuple[float, float, int]:
    profiler = cProfile.Profile(time.process_time) if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    with store.session() as session:
        run = assess_assets if objects else assess_bulk
        done = run(session, config=load_risk_config(), library=get_library())
    if profiler is not None:
        profiler.disable()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    return wall, used, len(done)


def timed_quant(store: Store, count: int) -> float:
    config, library = load_risk_config(), get_library()
    started = time.perf_counter()
    with store.session() as session:
        for assessment in top(session, count):
            asset = get_asset(session, assessment.asset_id)
            inputs, explanation = preview(session, asset, config=config, library=library)
            quantify(asset, explanation, inputs.controls, config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--controls", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quant", type=int, default=10)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--slow-setup", action="store_true", help="attest one call at a time")
    parser.add_argument(
        "--objects",
        action="store_true",
        help="time assess_assets (returns validated Assessment objects) instead of assess_bulk",
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="print the N costliest functions (cProfile)"
    )
    parser.add_argument(
        "--template",
        type=Path,
        help="SQLite file kept between runs: populated when missing, copied for every repeat",
    )
    args = parser.parse_args()
    backends = args.backend or ["sqlite"]
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"{args.assets} assets x {args.controls} attested controls, {args.repeats} repeat(s)")
    server = start_postgres() if "postgresql" in backends else None
    try:
        for backend in backends:
            run_backend(backend, args, server)
    finally:
        if server is not None:
            server.stop()


def run_backend(backend: str, args: argparse.Namespace, server: PostgresServer | None) -> None:
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as template_dir:
        template = args.template or Path(template_dir) / "template.db"
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
                if backend == "sqlite":
                    # Populated once; every repeat assesses a fresh copy of the same database.
                    path = Path(tmp) / "bench.db"
                    if template.exists():
                        shutil.copyfile(template, path)
                    url = f"sqlite:///{path}"
                else:
                    assert server is not None
                    url = stack.enter_context(server.fresh_database())
                store = open_store(url)
                try:
                    if backend == "sqlite" and template.exists():
                        setup = 0.0
                    else:
                        setup = populate(
                            store, args.assets, args.controls, fast=not args.slow_setup
                        )
                        if backend == "sqlite":
                            store.dispose()
                            shutil.copyfile(path, template)
                            store = open_store(url)
                    wall, cpu, count = timed_assess(store, args.profile, args.objects)
                    assert count == args.assets
                    walls.append(wall)
                    cpus.append(cpu)
                    quant = timed_quant(store, args.quant) if args.quant else 0.0
                finally:
                    store.dispose()
            print(
                f"  {backend} #{repeat + 1}: setup {setup:.1f} s; assess all: wall {wall:.2f} s, "
                f"cpu {cpu:.2f} s; quant top {args.quant}: {quant:.2f} s",
                flush=True,
            )
    print(
        f"{backend}: median assess wall {statistics.median(walls):.2f} s, "
        f"cpu {statistics.median(cpus):.2f} s ({args.assets / statistics.median(walls):.0f} "
        "assets/s)"
    )


if __name__ == "__main__":
    main()
