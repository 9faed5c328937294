"""Cost of one alert flush with many open alerts: the work a server's 10 s alerting tick does.

The ingest load mix (``benchmarks/ingest/load.py``: 5,000 users, real prompts and outputs from
``../shared/datasets``) goes through the ingest pipeline and the live rules on a fresh SQLite
store until thousands of alerts are open in as many notification groups. Then
``AlertManager.flush`` runs at simulated times after the last event: at +31 s most groups are due
(group_wait has passed), later ticks find few due. The store is copied before the first flush,
and each repeat flushes its own copy, so every repeat does the same work.

Usage:
    .venv/bin/python benchmarks/alerting/flush.py --events 60000 --repeats 3 [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))
import load

from garrison.core.settings import load_settings
from garrison.core.timeutil import utcnow
from garrison.monitoring.alerting.config import load_alerting_config
from garrison.monitoring.alerting.service import AlertManager
from garrison.monitoring.content import content_policy_from_settings, scanner_for
from garrison.monitoring.events import IngestSource
from garrison.monitoring.ingest.pipeline import IngestPipeline, Submission
from garrison.monitoring.live import LiveDetection
from garrison.store.database import open_store

TICKS = (31, 41, 51, 61)
"""Seconds after the last event at which flushes run, 10 s apart as the server's tick."""


def fill(path: Path, events: int) -> None:
    settings = load_settings()
    store = open_store(f"sqlite:///{path}")
    live = LiveDetection.from_settings(store, settings)
    pipeline = IngestPipeline(
        store,
        policy=content_policy_from_settings(settings),
        scanner=scanner_for(settings.content_dir),
        observer=live.observe,
    )
    stream = load.event_stream(load.prompts())
    for _ in range(events // 100):
        batch = [Submission(i, next(stream)) for i in range(100)]
        pipeline.ingest(batch, source=IngestSource.HTTP)
    live.write_pending()
    store.dispose()


def counts(path: Path) -> dict[str, int]:
    store = open_store(f"sqlite:///{path}")
    try:
        with store.session() as session:
            return {
                table: int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("alerting_alerts", "alerting_groups", "alerting_outbox")
            }
    finally:
        store.dispose()


def flush_times(path: Path, start: datetime) -> list[dict[str, Any]]:
    store = open_store(f"sqlite:///{path}")
    manager = AlertManager(store, load_alerting_config(load_settings().content_dir))
    out = []
    for offset in TICKS:
        began = time.perf_counter()
        report = manager.flush(start + timedelta(seconds=offset))
        out.append(
            {
                "at_s": offset,
                "seconds": time.perf_counter() - began,
                "notifications": report.notifications,
                "resolved": report.resolved,
            }
        )
    store.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="garrison-flush-") as folder:
        filled = Path(folder) / "filled.db"
        fill(filled, args.events)
        before = counts(filled)
        # One clock for every repeat, so that each finds the same groups due.
        start = utcnow()
        runs = []
        for n in range(args.repeats):
            copy = Path(folder) / f"run{n}.db"
            shutil.copy(filled, copy)
            runs.append(flush_times(copy, start))
    result = {
        "events": args.events,
        "open_alerts_before": before["alerting_alerts"],
        "groups_before": before["alerting_groups"],
        "ticks": [
            {
                "at_s": offset,
                "median_seconds": round(statistics.median(r[i]["seconds"] for r in runs), 3),
                "runs_seconds": [round(r[i]["seconds"], 3) for r in runs],
                "notifications": runs[0][i]["notifications"],
                "resolved": runs[0][i]["resolved"],
            }
            for i, offset in enumerate(TICKS)
        ],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.events} events: {before['alerting_alerts']} alerts, "
            f"{before['alerting_groups']} groups"
        )
        for tick in result["ticks"]:
            print(
                f"  flush at +{tick['at_s']} s: median {tick['median_seconds']} s "
                f"(runs {tick['runs_seconds']}), {tick['notifications']} notifications"
            )


if __name__ == "__main__":
    main()
