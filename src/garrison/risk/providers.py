"""Risk factors contributed by other pillars.

Incidents, open red-team findings and runtime detections raise an asset's risk once those
pillars exist. Each contributes through a ``RiskFactorProvider`` registered in
``risk_factor_providers`` (``PluginRegistry("risk_factors")``; outside packages use the entry-point
group ``garrison.risk_factors``)::

    from garrison.risk import RiskAdjustment, risk_factor_providers
    from garrison.risk.config import Dimension

    @risk_factor_providers.decorator("open-incidents")
    def open_incidents(context, asset):
        count = count_open_incidents(context.session, asset.id)   # the pillar's own function
        if count:
            yield RiskAdjustment(dimension=Dimension.DEPLOYMENT_EXPOSURE, points=5 * count,
                                 explanation=f"{count} open incident(s)", refs=(...))

A provider returns adjustments, never a score: each moves one dimension's score by a bounded
number of points (``providers.max_points`` and ``max_total`` in ``risk.yaml``) with an explanation,
and the engine records what it returned with the assessment, so a stored score is recomputed from
the stored outputs without calling the provider again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError
from garrison.core.plugins import PluginRegistry
from garrison.inventory.models import AIAsset
from garrison.risk.models import ProviderOutput, RiskAdjustment


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may use: the store session (to call its own pillar's functions) and the
    assessment time."""

    session: Session | None
    now: datetime


class RiskFactorProvider(Protocol):
    def __call__(self, context: ProviderContext, asset: AIAsset) -> Iterable[RiskAdjustment]: ...


risk_factor_providers: PluginRegistry[RiskFactorProvider] = PluginRegistry("risk_factors")


class RiskProviderError(GarrisonError):
    """A risk factor provider failed or returned something other than adjustments."""


def collect(
    context: ProviderContext,
    asset: AIAsset,
    providers: Sequence[tuple[str, RiskFactorProvider]] | None = None,
) -> tuple[ProviderOutput, ...]:
    """Every provider's adjustments for ``asset``, in provider-name order. A failing provider is
    an error that names it: a silently skipped provider would understate the risk."""
    chosen = risk_factor_providers.items() if providers is None else sorted(providers)
    outputs = []
    for name, provider in chosen:
        try:
            adjustments = tuple(provider(context, asset))
            outputs.append(ProviderOutput(provider=name, adjustments=adjustments))
        except (ValidationError, TypeError) as exc:
            raise RiskProviderError(
                f"risk factor provider {name!r} returned an invalid adjustment: {exc}"
            ) from exc
        except GarrisonError:
            raise
        except Exception as exc:
            raise RiskProviderError(f"risk factor provider {name!r} failed: {exc}") from exc
    return tuple(outputs)
