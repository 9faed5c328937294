"""Per-sender rate limits on ingest: a token bucket for each bearer token (or client address).

The bucket itself is pure (the clock is passed in) so its arithmetic is tested without sleeping.
Buckets live in a bounded LRU map: a flood of distinct senders evicts the least recently seen
one instead of growing memory without end; an evicted sender simply starts again with a full
bucket, which errs on the side of letting telemetry in.

A batch costs one unit per event, not per request, so 50 events in one request count as 50.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from garrison.core.settings import Settings

DEFAULT_MAX_KEYS = 10_000


@dataclass
class Bucket:
    """``tokens`` available at ``updated`` (seconds on the limiter's clock)."""

    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    """Seconds until ``cost`` units will be available (0 when allowed)."""
    rate: float = 0.0
    burst: float = 0.0

    @property
    def retry_after_header(self) -> str:
        # Retry-After is whole seconds; rounding up never invites a retry that is refused again.
        return str(max(1, math.ceil(self.retry_after)))


def refill(bucket: Bucket, now: float, *, rate: float, burst: float) -> Bucket:
    elapsed = max(0.0, now - bucket.updated)
    return Bucket(min(burst, bucket.tokens + elapsed * rate), max(now, bucket.updated))


def take(bucket: Bucket, cost: float, *, rate: float, burst: float) -> tuple[Bucket, Decision]:
    """Spend ``cost`` from an already refilled ``bucket`` if it holds enough."""
    if cost <= bucket.tokens:
        return Bucket(bucket.tokens - cost, bucket.updated), Decision(True)
    # A request larger than the whole bucket can never pass: say how long a full refill takes.
    missing = min(cost, burst) - bucket.tokens
    wait = missing / rate if cost <= burst else burst / rate
    return bucket, Decision(False, wait, rate, burst)


class RateLimiter:
    """Token buckets by key: ``rate`` units per second, at most ``burst`` at once."""

    def __init__(
        self,
        *,
        rate: float,
        burst: float,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst <= 0 or max_keys <= 0:
            raise ValueError("rate, burst and max_keys must be positive")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, key: str, cost: float = 1.0) -> Decision:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or Bucket(self.burst, now)
            bucket = refill(bucket, now, rate=self.rate, burst=self.burst)
            bucket, decision = take(bucket, cost, rate=self.rate, burst=self.burst)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return decision


def sender_key(request: Request) -> str:
    """Who is sending: a digest of the bearer token (never the token itself), else the address."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        digest = hashlib.sha256(credentials.strip().encode("utf-8")).hexdigest()[:32]
        return f"token:{digest}"
    client = request.client
    return f"addr:{client.host if client is not None else 'unknown'}"


def limiter_from_settings(settings: Settings) -> RateLimiter | None:
    """The ingest limiter ``settings`` describe; ``None`` when the limit is off (rate 0)."""
    if settings.ingest_rate_limit <= 0:
        return None
    return RateLimiter(rate=settings.ingest_rate_limit, burst=float(settings.ingest_rate_burst))


def check_ingest(request: Request, events: int) -> Decision:
    """Charge ``events`` to the sender of ``request`` (``install_hardening`` sets the limiter)."""
    limiter = getattr(request.app.state, "ingest_rate_limiter", None)
    if not isinstance(limiter, RateLimiter):
        return Decision(True)
    return limiter.check(sender_key(request), float(max(1, events)))


def limit_message(decision: Decision) -> tuple[str, str]:
    return (
        f"rate limit exceeded: at most {decision.rate:g} events/s "
        f"(bursts of {decision.burst:g}) per token",
        f"retry after {decision.retry_after_header} s (the Retry-After header); send smaller "
        "batches less often, or ask the operator to raise GARRISON_INGEST_RATE_LIMIT",
    )
