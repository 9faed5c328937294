"""What a discovery source hands to the registry: one ``DiscoveryResult`` per run.

A discovery plugin (AWS, Azure, GCP, files, code, …) looks, and returns data; it never touches the
store. ``garrison.inventory.registry.apply_discovery(session, result)`` registers the result:
upserts every asset by natural key, records the evidence and the edges, marks the assets the run
did not see as stale when the run is complete, and keeps the run (with its failures) for the
summary.

A plugin's contract:

* ``assets``: each ``DiscoveredAsset`` has a ``key`` unique within the result (the plugin's own
  handle; the default is the spec's natural key), an ``AssetSpec`` that sets only the attributes
  the source observed (leave the others unset: an unset owner does not erase a declared one), and
  the ``Evidence`` for them (file:line, ARN, API call; ``inferred`` for heuristics).
* ``edges``: ``DiscoveredEdge(asset_key, target, relation)``; ``target`` is another asset's
  ``key`` in this result, or anything the registry resolves (asset ID, source ID, natural key,
  name). Unresolvable targets are kept and reported as missing nodes, not dropped.
* ``errors``: every denied, throttled or failed call, as a ``CallFailure``. Never swallow one.
* ``complete``: True only when the source looked at everything in ``scope``. A denied region or
  an aborted walk makes the run incomplete, and an incomplete run marks nothing stale (absence of
  evidence is not evidence of absence). Narrow ``scope`` instead (one account, one region, one
  root folder) when part of a source can be listed completely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from garrison.core.timeutil import utcnow
from garrison.inventory.identity import natural_key
from garrison.inventory.models import AssetSpec, Evidence, Relation


@dataclass(frozen=True)
class CallFailure:
    """One call a source could not make, reported in the run's summary."""

    operation: str
    """What was asked, e.g. ``bedrock:ListCustomModels`` or ``walk /srv/models``."""
    message: str
    target: str = ""
    """Where: a region, account, subscription, file path."""
    code: str = ""
    """The provider's error code: ``AccessDeniedException``, ``ThrottlingException``, ``EACCES``."""
    denied: bool = False
    """A permission problem, as opposed to a fault: the fix is a grant, not a retry."""

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "operation": self.operation,
            "message": self.message,
            "target": self.target,
            "code": self.code,
            "denied": self.denied,
        }


@dataclass(frozen=True)
class DiscoveredAsset:
    spec: AssetSpec
    evidence: tuple[Evidence, ...] = ()
    key: str = ""
    """The plugin's handle for edges; defaults to the spec's natural key."""

    @property
    def handle(self) -> str:
        return self.key or natural_key(self.spec)


@dataclass(frozen=True)
class DiscoveredEdge:
    asset_key: str
    target: str
    relation: Relation = Relation.DEPENDS_ON


@dataclass
class DiscoveryResult:
    source: str
    """The plugin's registered name, e.g. ``aws``, ``files``, ``code``."""
    scope: str = ""
    """What the run covered (account/region, root path); staleness is judged within it."""
    org: str | None = None
    """The organization the assets belong to; None keeps each spec's own ``org``."""
    assets: list[DiscoveredAsset] = field(default_factory=list)
    edges: list[DiscoveredEdge] = field(default_factory=list)
    errors: list[CallFailure] = field(default_factory=list)
    complete: bool = True
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
