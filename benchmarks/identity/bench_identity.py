"""Cost of the identity layer per request: token check, argon2id sign-in, audit append, verify.

Run: .venv/bin/python benchmarks/identity/bench_identity.py   (a throwaway SQLite store)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from garrison import audit
from garrison.identity import Scope, add_user, authenticate_token, create_token, verify_login
from garrison.store import open_store

PASSWORD = "a long bench passphrase"


def per_call_ms(fn: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    store = open_store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    with store.session() as session:
        secret = create_token(session, "bench", [Scope.READ], actor="bench").secret
        add_user(session, "bench", role=Scope.READ, actor="bench", password=PASSWORD)

    def token() -> None:
        with store.session() as session:
            authenticate_token(session, secret)

    def login() -> None:
        with store.session() as session:
            verify_login(session, "bench", PASSWORD)

    def append() -> None:
        with store.session() as session:
            audit.record(session, "bench", "x", "t", "1", {"a": 1}, {"a": 2})

    results: dict[str, list[float]] = {
        "token check (ms)": [],
        "argon2id sign-in (ms)": [],
        "audit append, own transaction (ms)": [],
        "audit verify per 1,000 entries (ms)": [],
    }
    for _ in range(5):
        results["token check (ms)"].append(per_call_ms(token, 200))
        results["argon2id sign-in (ms)"].append(per_call_ms(login, 5))
        results["audit append, own transaction (ms)"].append(per_call_ms(append, 200))
        with store.session() as session:
            started = time.perf_counter()
            checked = audit.verify(session)
            elapsed = time.perf_counter() - started
        results["audit verify per 1,000 entries (ms)"].append(elapsed / checked.entries * 1e6)
    store.dispose()
    for name, runs in results.items():
        print(
            f"{name}: median {statistics.median(runs):.2f} ({', '.join(f'{r:.2f}' for r in runs)})"
        )


if __name__ == "__main__":
    main()
