"""Loopback load test of the ingest endpoint: a fixed event rate for a fixed time, and no loss.

A real ``garrison serve`` runs in its own process on a fresh store (SQLite by default, or
``--database-url``); an ingest-only token is made with ``garrison token create``. The client sends
NDJSON batches on an open-loop schedule (batch ``k`` is due at ``k * batch / rate`` seconds, so a
slow server cannot slow the offered load down), with the content of real prompts from
``../shared/datasets`` so the detectors do their real work. A 429 is honoured (Retry-After) and the
batch is sent again, and so is a batch whose connection dropped (event IDs make that safe);
anything else that is not a 202 is an error. The server's log goes to a file; its warnings and
errors are counted in the result.

Pass/fail (exit 1 on fail): every event sent is accepted, every accepted event is in the store
(counted with SQL after the server stops), the achieved rate is within 2% of the target, no
request failed, and the server logged no warning, error or traceback (a scan that fails keeps the
event but loses its findings, so it fails the run). The result also gives the server's CPU time
per accepted event, which says what a rate costs whether or not this machine reaches it.

Usage:
    .venv/bin/python benchmarks/ingest/load.py                       # 5,000 ev/s for 60 s
    .venv/bin/python benchmarks/ingest/load.py --rate 8000 --seconds 30 --json
    .venv/bin/python benchmarks/ingest/load.py --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"
GARRISON = Path(sys.executable).with_name("garrison")
TRANSPORT_RETRIES = 3


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    requests: int = 0
    throttled: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)


def prompts() -> list[str]:
    texts: list[str] = []
    for name in ("benign.jsonl", "injection.jsonl", "jailbreak.jsonl", "outputs.jsonl"):
        path = DATASETS / name
        if path.is_file():
            texts += [orjson.loads(line)["text"] for line in path.read_bytes().splitlines() if line]
    if not texts:
        raise SystemExit(f"no prompts found in {DATASETS}: the load test needs ../shared/datasets")
    return texts


def event_stream(texts: list[str] | None) -> Any:
    """An endless, realistic mix: a request, its response, and a usage event. With ``texts`` the
    request and response carry content from them (scanned by the detectors); without, they carry
    metadata only, as from an application that does not send prompts."""
    content = itertools.cycle(texts) if texts else None
    for n in itertools.count():
        correlation = f"load-{n}"
        base = {
            "service.name": "load-bot",
            "garrison.asset.id": "asset-load-bot",
            "user.id": f"u-{n % 5000}",
            "session.id": f"s-{n % 997}",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "garrison.correlation.id": correlation,
        }
        now = datetime.now(UTC).isoformat()
        request = {
            **base,
            "garrison.event.id": str(uuid.uuid4()),
            "timestamp": now,
            "garrison.event.type": "llm.request",
        }
        response = {
            **base,
            "garrison.event.id": str(uuid.uuid4()),
            "timestamp": now,
            "garrison.event.type": "llm.response",
        }
        if content is not None:
            request["garrison.content.text"] = next(content)
            response["garrison.content.text"] = next(content)
        yield request
        yield response
        yield {
            **base,
            "garrison.event.id": str(uuid.uuid4()),
            "timestamp": now,
            "garrison.event.type": "usage",
            "gen_ai.usage.input_tokens": 120 + n % 50,
            "gen_ai.usage.output_tokens": 80 + n % 70,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def garrison(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(GARRISON), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"garrison {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


async def send_batch(
    client: httpx.AsyncClient, body: bytes, tally: Tally, limit: asyncio.Semaphore
) -> None:
    async with limit:
        attempts = 0
        while True:
            started = time.perf_counter()
            try:
                answer = await client.post(
                    "/api/v1/events", content=body, headers={"content-type": "application/x-ndjson"}
                )
            except httpx.TransportError as exc:
                # A keep-alive connection the server closed as the request went out: sent again,
                # as an SDK does. Safe, because every event carries its ID (a re-sent one that
                # was stored after all comes back as a duplicate, and is counted as such).
                attempts += 1
                if attempts < TRANSPORT_RETRIES:
                    tally.retried += 1
                    continue
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                return
            except httpx.HTTPError as exc:
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                return
            tally.latencies.append(time.perf_counter() - started)
            tally.requests += 1
            if answer.status_code == 429:
                tally.throttled += 1
                await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                continue
            if answer.status_code != 202:
                tally.errors.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                return
            report = answer.json()
            tally.accepted += int(report["accepted"])
            tally.duplicates += int(report.get("duplicates", 0))
            return


async def offer_load(url: str, token: str, args: argparse.Namespace, tally: Tally) -> float:
    events = event_stream(prompts() if args.mix == "content" else None)
    batches = int(args.rate * args.seconds / args.batch)
    interval = args.batch / args.rate
    limit = asyncio.Semaphore(args.concurrency)
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(
        base_url=url,
        headers={"authorization": f"Bearer {token}"},
        timeout=30.0,
        limits=httpx.Limits(max_connections=args.concurrency),
    ) as client:
        start = time.perf_counter()
        for k in range(batches):
            due = start + k * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                tally.late.append(-delay)
            lines = [orjson.dumps(next(events)) for _ in range(args.batch)]
            tally.sent += args.batch
            task = asyncio.create_task(send_batch(client, b"\n".join(lines) + b"\n", tally, limit))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        return time.perf_counter() - start


def stored_events(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM monitoring_events")).scalar_one()
            )
    finally:
        engine.dispose()


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux ``/proc``), all of its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); the split starts at field 3 (state).
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_log_problems(lines: list[str]) -> list[str]:
    """Warnings and errors in the server's log, and the message line above any traceback: a scan
    that failed under load was once missed because its record carried no level."""
    problems = [line for line in lines if "WARNING" in line or "ERROR" in line]
    problems += [
        lines[i - 1] if i else line
        for i, line in enumerate(lines)
        if line.startswith("Traceback (most recent call last)")
    ]
    return problems


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="garrison-load-") as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'load.db'}"
        env = {**os.environ, "GARRISON_DATABASE_URL": database_url}
        # A deployment sets the digest key; without it the server warns, which fails the run.
        env.setdefault("GARRISON_CONTENT_HMAC_KEY", secrets.token_hex(32))
        garrison(env, "db", "upgrade")
        if stored_events(database_url):
            raise SystemExit("the store already holds events: give the load test an empty one")
        token = json.loads(garrison(env, "token", "create", "--name", "load", "--scope", "ingest",
                                    "--json"))["secret"]  # fmt: skip
        port = free_port()
        # The server's log goes to a file: an unread pipe fills up and then blocks the server
        # in the middle of logging, which would be measured as the server stalling.
        log_path = Path(folder) / "server.log"
        log_file = log_path.open("wb")
        server = subprocess.Popen(
            [str(GARRISON), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            tally = Tally()
            client_before = time.process_time()
            server_before = process_cpu_seconds(server.pid)
            elapsed = asyncio.run(offer_load(url, token, args, tally))
            server_cpu = process_cpu_seconds(server.pid) - server_before
            client_cpu = time.process_time() - client_before
        finally:
            server.terminate()
            server.wait(timeout=30)
            log_file.close()
        stored = stored_events(database_url)
        log_text = log_path.read_text(errors="replace")
        if args.server_log:
            Path(args.server_log).write_text(log_text)
        log_lines = log_text.splitlines()
        problems = server_log_problems(log_lines)
    achieved = tally.accepted / elapsed if elapsed else 0.0
    lost = tally.sent - stored
    ok = (
        not tally.errors
        and not problems
        and tally.accepted + tally.duplicates == tally.sent
        and stored == tally.accepted
        and achieved >= 0.98 * args.rate
    )
    return {
        "target_events_per_second": args.rate,
        "seconds": args.seconds,
        "batch": args.batch,
        "backend": database_url.split(":", 1)[0],
        "mix": args.mix,
        "sent": tally.sent,
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "stored": stored,
        "lost": lost,
        "elapsed_seconds": round(elapsed, 2),
        "achieved_events_per_second": round(achieved, 1),
        "requests": tally.requests,
        "throttled_429": tally.throttled,
        "retried_after_disconnect": tally.retried,
        "errors": tally.errors[:10],
        "error_count": len(tally.errors),
        "latency_ms": {
            "p50": round(1000 * statistics.median(tally.latencies), 2) if tally.latencies else 0,
            "p95": round(1000 * percentile(tally.latencies, 0.95), 2),
            "p99": round(1000 * percentile(tally.latencies, 0.99), 2),
            "max": round(1000 * max(tally.latencies, default=0.0), 2),
        },
        "batches_sent_late": len(tally.late),
        # CPU per accepted event says what a rate costs, whether or not the machine reached it.
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_us_per_event": round(1e6 * server_cpu / tally.accepted, 1)
        if tally.accepted
        else None,
        "server_cpu_utilisation": round(server_cpu / elapsed, 2) if elapsed else None,
        "client_cpu_seconds": round(client_cpu, 2),
        "server_log_problems": len(problems),
        "server_log_sample": problems[:5],
        "ok": ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=5000, help="events per second to offer")
    parser.add_argument("--seconds", type=float, default=60, help="how long to offer them")
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at most")
    parser.add_argument(
        "--mix",
        choices=("content", "metadata"),
        default="content",
        help="content: requests and responses carry dataset prompts, which the detectors scan\n"
        "metadata: the same events without content (nothing to scan)",
    )
    parser.add_argument("--database-url", help="an empty store (default: a fresh SQLite file)")
    parser.add_argument("--server-log", help="keep the server's log in this file")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    if not result["ok"]:
        print("FAIL: events were lost, refused, or the rate was not reached", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
