"""Rule plugins: detections Sigma cannot express, with the same metadata as Sigma rules.

A plugin is a factory registered in :data:`rule_plugin_registry` (outside packages use the entry
point group ``garrison.rule_plugins``). The rule pack's ``plugins.yaml`` names the plugin, gives it
a ``RULE-*`` ID, severity, ATLAS/OWASP tags and its settings; the engine applies the rule's
suppression to what the plugin reports, exactly as for Sigma rules.

Plugins keep per-key state in :class:`KeyedState`, so they are bounded like correlations. They
take everything from outside (the authorized tools of each agent) through :class:`PluginContext`,
so they stay pure and testable without a store.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from garrison.core.plugins import PluginRegistry
from garrison.monitoring.events import EventCategory, EventType, SecurityEvent
from garrison.monitoring.rules.state import KeyedState

_BLOCKS = frozenset({EventCategory.GUARDRAIL_BLOCK, EventCategory.OUTPUT_FILTER_BLOCK})


@dataclass(frozen=True, slots=True)
class PluginMatch:
    group: dict[str, str]
    start: float
    end: float
    event_ids: tuple[str, ...]
    count: int
    summary: str
    labels: dict[str, str] = field(default_factory=dict)


class RulePlugin(Protocol):
    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        """Whether events of this type and category can matter; the engine indexes on it."""

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None: ...

    def expire(self, horizon: float) -> None: ...

    def key_count(self) -> int: ...

    def evictions(self) -> int: ...


@dataclass(frozen=True)
class PluginContext:
    max_keys: int = 100_000
    authorized_tools: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Agent or asset ID -> the tool names the inventory authorizes it to call."""


PluginFactory = Callable[[PluginContext, Mapping[str, Any]], RulePlugin]
rule_plugin_registry: PluginRegistry[PluginFactory] = PluginRegistry("rule_plugins")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _who(event: SecurityEvent) -> tuple[str, ...] | None:
    return None if event.user_id is None else (event.org, event.user_id)


# --- escalating attack complexity --------------------------------------------------------------


class EscalationSettings(_Settings):
    blocks: int = Field(default=5, ge=2, le=100)
    growth: float = Field(default=2.0, gt=1.0)
    window_seconds: float = Field(default=600, gt=0)


@dataclass(slots=True)
class _Series:
    items: deque[tuple[float, str, int]] = field(default_factory=deque)
    newest: float = float("-inf")


def _payload_length(event: SecurityEvent) -> int | None:
    if event.content_length is not None:
        return event.content_length
    text = event.content if event.content is not None else event.content_preview
    return None if text is None else len(text)


class EscalatingComplexity:
    """Blocked payloads from one user that grow at every attempt: an attacker refining a payload.

    Fires when the last ``blocks`` blocked payloads (within the window) never shrink and the last
    is at least ``growth`` times the first.
    """

    def __init__(self, context: PluginContext, settings: Mapping[str, Any]) -> None:
        self.s = EscalationSettings.model_validate(dict(settings))
        self.state: KeyedState[_Series] = KeyedState(context.max_keys)

    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        return category in _BLOCKS

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None:
        if event.category not in _BLOCKS:
            return None
        key = _who(event)
        length = _payload_length(event)
        if key is None or length is None:
            return None
        series = self.state.touch(key, _Series)
        items = series.items
        items.append((ts, event.event_id, length))
        series.newest = max(series.newest, ts)
        while items and (len(items) > self.s.blocks or items[0][0] < ts - self.s.window_seconds):
            items.popleft()
        if len(items) < self.s.blocks:
            return None
        lengths = [i[2] for i in items]
        rising = all(a <= b for a, b in itertools.pairwise(lengths))
        if not rising or lengths[0] <= 0 or lengths[-1] < lengths[0] * self.s.growth:
            return None
        return PluginMatch(
            group={"user.id": key[1]},
            start=items[0][0],
            end=items[-1][0],
            event_ids=tuple(i[1] for i in items),
            count=len(items),
            summary=(
                f"{len(items)} blocked payloads grew from {lengths[0]} to {lengths[-1]} "
                "characters: the user is refining an attack"
            ),
        )

    def expire(self, horizon: float) -> None:
        self.state.expire(horizon - self.s.window_seconds)

    def key_count(self) -> int:
        return len(self.state)

    def evictions(self) -> int:
        return self.state.evictions


# --- behavioral shift --------------------------------------------------------------------------


class ShiftSettings(_Settings):
    threshold: float = Field(default=2.0, gt=0)
    """Bits per character the output entropy must move from the session's mean."""
    baseline: int = Field(default=3, ge=1, le=1000)
    """Responses needed before the session's mean is trusted."""
    min_chars: int = Field(default=20, ge=1)


_NLOGN = tuple(n * math.log2(n) if n else 0.0 for n in range(4096))
"""n * log2(n) for the character counts of any text shorter than the table."""


def char_entropy(text: str) -> float:
    """Shannon entropy of the characters of ``text``, in bits per character."""
    if not text:
        return 0.0
    total = len(text)
    counts = Counter(text).values()
    # H = log2(N) - sum(n log2 n) / N; a response runs the sum in C, over a table of n log2 n.
    if total < len(_NLOGN):
        weighted = sum(map(_NLOGN.__getitem__, counts))
    else:
        weighted = sum(n * math.log2(n) for n in counts)
    return math.log2(total) - weighted / total


@dataclass(slots=True)
class _Mean:
    n: int = 0
    mean: float = 0.0
    newest: float = float("-inf")
    ids: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class BehavioralShift:
    """A response whose character entropy departs sharply from the session's earlier responses.

    Typical of a hijacked session: the model starts emitting encoded data, a leaked prompt or
    degenerate repetition instead of the application's usual prose.
    """

    def __init__(self, context: PluginContext, settings: Mapping[str, Any]) -> None:
        self.s = ShiftSettings.model_validate(dict(settings))
        self.state: KeyedState[_Mean] = KeyedState(context.max_keys)

    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        return event_type is EventType.LLM_RESPONSE

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None:
        if event.event_type is not EventType.LLM_RESPONSE or event.session_id is None:
            return None
        text = event.content if event.content is not None else event.content_preview
        if text is None or len(text) < self.s.min_chars:
            return None
        entropy = char_entropy(text)
        stats = self.state.touch((event.org, event.session_id), _Mean)
        stats.newest = max(stats.newest, ts)
        match = None
        if stats.n >= self.s.baseline and abs(entropy - stats.mean) >= self.s.threshold:
            match = PluginMatch(
                group={"session.id": event.session_id},
                start=ts,
                end=ts,
                event_ids=(*stats.ids, event.event_id),
                count=1,
                summary=(
                    f"output entropy {entropy:.2f} bits/char against a session mean of "
                    f"{stats.mean:.2f} over {stats.n} responses"
                ),
                labels={"entropy": f"{entropy:.2f}", "baseline": f"{stats.mean:.2f}"},
            )
        else:
            # A shifted response is not folded into the baseline, so the shift keeps showing.
            stats.n += 1
            stats.mean += (entropy - stats.mean) / stats.n
        stats.ids.append(event.event_id)
        return match

    def expire(self, horizon: float) -> None:
        # Sessions idle for a day are over; their baseline is of no further use.
        self.state.expire(horizon - 86_400)

    def key_count(self) -> int:
        return len(self.state)

    def evictions(self) -> int:
        return self.state.evictions


# --- per-user token and cost baselines -----------------------------------------------------------


class BaselineSettings(_Settings):
    alpha: float = Field(default=0.05, gt=0, lt=1)
    """EWMA weight of the newest request."""
    z: float = Field(default=4.0, gt=0)
    warmup: int = Field(default=20, ge=2)
    min_tokens: int = Field(default=2_000, ge=0)
    """Below this a request is never abuse, whatever the user's baseline."""
    min_cost: float = Field(default=0.5, ge=0)


@dataclass(slots=True)
class _Ewma:
    n: int = 0
    tokens_mean: float = 0.0
    tokens_var: float = 0.0
    cost_mean: float = 0.0
    cost_var: float = 0.0
    newest: float = float("-inf")


def _ewma_step(mean: float, var: float, x: float, alpha: float) -> tuple[float, float]:
    delta = x - mean
    mean += alpha * delta
    var = (1 - alpha) * (var + alpha * delta * delta)
    return mean, var


def _z(x: float, mean: float, var: float) -> float:
    # A floor on the spread keeps a perfectly regular user from alerting on a one-token change.
    spread = max(math.sqrt(var), 0.1 * abs(mean), 1e-9)
    return (x - mean) / spread


class TokenCostBaseline:
    """A request whose tokens or cost is far above the user's own EWMA baseline."""

    def __init__(self, context: PluginContext, settings: Mapping[str, Any]) -> None:
        self.s = BaselineSettings.model_validate(dict(settings))
        self.state: KeyedState[_Ewma] = KeyedState(context.max_keys)

    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        # Usage may ride on any event type (responses, usage reports, signals).
        return True

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None:
        if event.input_tokens is None and event.output_tokens is None and event.cost is None:
            return None
        key = _who(event)
        if key is None:
            return None
        tokens = float((event.input_tokens or 0) + (event.output_tokens or 0))
        cost = float(event.cost or 0)
        b = self.state.touch(key, _Ewma)
        b.newest = max(b.newest, ts)
        match = None
        if b.n >= self.s.warmup:
            zt = _z(tokens, b.tokens_mean, b.tokens_var)
            zc = _z(cost, b.cost_mean, b.cost_var) if cost else 0.0
            over_tokens = zt >= self.s.z and tokens >= self.s.min_tokens
            over_cost = zc >= self.s.z and cost >= self.s.min_cost
            if over_tokens or over_cost:
                what = (
                    f"{tokens:.0f} tokens (baseline {b.tokens_mean:.0f}, z={zt:.1f})"
                    if over_tokens
                    else f"cost {cost:.4f} (baseline {b.cost_mean:.4f}, z={zc:.1f})"
                )
                match = PluginMatch(
                    group={"user.id": key[1]},
                    start=ts,
                    end=ts,
                    event_ids=(event.event_id,),
                    count=1,
                    summary=f"request far above the user's baseline: {what}",
                    labels={"measure": "tokens" if over_tokens else "cost"},
                )
        b.n += 1
        b.tokens_mean, b.tokens_var = _ewma_step(b.tokens_mean, b.tokens_var, tokens, self.s.alpha)
        b.cost_mean, b.cost_var = _ewma_step(b.cost_mean, b.cost_var, cost, self.s.alpha)
        return match

    def expire(self, horizon: float) -> None:
        self.state.expire(horizon - 7 * 86_400)

    def key_count(self) -> int:
        return len(self.state)

    def evictions(self) -> int:
        return self.state.evictions


# --- coordinated attacks -------------------------------------------------------------------------


MAX_FAMILY_EVENTS = 10_000
MAX_REPORTED = 100


class CoordinatedSettings(_Settings):
    users: int = Field(default=5, ge=2)
    window_seconds: float = Field(default=600, gt=0)


@dataclass(slots=True)
class _Family:
    items: deque[tuple[float, str, str]] = field(default_factory=deque)
    users: Counter[str] = field(default_factory=Counter)
    """Events per user in ``items``, kept in step so a check is O(1), not a scan."""
    newest: float = float("-inf")

    def drop_oldest(self) -> None:
        _, user, _ = self.items.popleft()
        left = self.users[user] - 1
        if left:
            self.users[user] = left
        else:
            del self.users[user]


def payload_family(event: SecurityEvent) -> str | None:
    """A key shared by variants of one payload: the content digest, else the normalised preview.

    Normalising (case, digits, whitespace) makes ``ignore rules 1`` and ``IGNORE  rules 2`` one
    family, which is how one script sent from many accounts usually differs.
    """
    if event.content_digest is not None:
        return event.content_digest[:16]
    text = event.content if event.content is not None else event.content_preview
    if not text:
        return None
    folded = " ".join("".join("#" if c.isdigit() else c for c in text.casefold()).split())
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class CoordinatedAttack:
    """The same blocked payload family from many distinct users within a window."""

    def __init__(self, context: PluginContext, settings: Mapping[str, Any]) -> None:
        self.s = CoordinatedSettings.model_validate(dict(settings))
        self.state: KeyedState[_Family] = KeyedState(context.max_keys)

    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        return category in _BLOCKS

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None:
        if event.category not in _BLOCKS or event.user_id is None:
            return None
        family = payload_family(event)
        if family is None:
            return None
        fam = self.state.touch((event.org, family), _Family)
        fam.items.append((ts, event.user_id, event.event_id))
        fam.users[event.user_id] += 1
        fam.newest = max(fam.newest, ts)
        while fam.items and fam.items[0][0] < fam.newest - self.s.window_seconds:
            fam.drop_oldest()
        while len(fam.items) > MAX_FAMILY_EVENTS:
            fam.drop_oldest()
        users = fam.users
        if len(users) < self.s.users:
            return None
        return PluginMatch(
            group={"garrison.payload.family": family},
            start=fam.items[0][0],
            end=fam.items[-1][0],
            event_ids=tuple(i[2] for i in list(fam.items)[-MAX_REPORTED:]),
            count=len(fam.items),
            summary=f"the same blocked payload came from {len(users)} users",
            labels={"users": str(len(users))},
        )

    def expire(self, horizon: float) -> None:
        self.state.expire(horizon - self.s.window_seconds)

    def key_count(self) -> int:
        return len(self.state)

    def evictions(self) -> int:
        return self.state.evictions


# --- agent policy ------------------------------------------------------------------------------


class ToolPolicySettings(_Settings):
    unknown_agent: bool = False
    """Also fire when the agent has no inventory entry (strict deployments)."""


class UnauthorizedToolCall:
    """A tool call by an agent whose inventory entry does not list that tool."""

    def __init__(self, context: PluginContext, settings: Mapping[str, Any]) -> None:
        self.s = ToolPolicySettings.model_validate(dict(settings))
        self.authorized = context.authorized_tools

    def accepts(self, event_type: EventType, category: EventCategory | None) -> bool:
        return event_type is EventType.TOOL_CALL

    def observe(self, event: SecurityEvent, ts: float) -> PluginMatch | None:
        if event.event_type is not EventType.TOOL_CALL or event.tool_name is None:
            return None
        agent = event.agent_id or event.asset_id
        if agent is None:
            return None
        allowed = self.authorized.get(agent)
        if allowed is None and event.asset_id is not None:
            allowed = self.authorized.get(event.asset_id)
        if allowed is None:
            if not self.s.unknown_agent:
                return None
            reason = "an agent the inventory does not know"
        elif event.tool_name in allowed:
            return None
        else:
            reason = f"authorized tools: {', '.join(sorted(allowed)) or 'none'}"
        return PluginMatch(
            group={"gen_ai.agent.id": agent, "gen_ai.tool.name": event.tool_name},
            start=ts,
            end=ts,
            event_ids=(event.event_id,),
            count=1,
            summary=f"agent {agent} called tool {event.tool_name!r} ({reason})",
            labels={"tool": event.tool_name},
        )

    def expire(self, horizon: float) -> None:
        return None

    def key_count(self) -> int:
        return 0

    def evictions(self) -> int:
        return 0


rule_plugin_registry.register("escalating_complexity", EscalatingComplexity)
rule_plugin_registry.register("behavioral_shift", BehavioralShift)
rule_plugin_registry.register("token_cost_baseline", TokenCostBaseline)
rule_plugin_registry.register("coordinated_attack", CoordinatedAttack)
rule_plugin_registry.register("unauthorized_tool_call", UnauthorizedToolCall)
