"""The risk pillar: explainable inherent and residual risk for every AI asset.

Pure core (``scoring``, ``quant``: no database) and a store edge (``engine``, ``acceptance``).
Other pillars use the functions re-exported here:

``assess(session, asset)`` / ``assess_assets(session, assets=None)``
    score and store; every assessment keeps its inputs (``Assessment.inputs``).
``assess_bulk(session, assets=None)``
    the same for a whole estate, returning summaries (10,000 assets in about 3 s on SQLite).
``latest``, ``history``, ``top``, ``risk_levels`` (the inventory search hook), ``recompute``.
``accept``, ``acceptances``, ``open_risk_gaps``
    risk acceptance above appetite; expired acceptances reopen as gaps.
``risk_factor_providers``
    the extension point for factors from other pillars (see ``providers``).
"""

from garrison.risk.acceptance import (
    Acceptance,
    AcceptanceError,
    AcceptanceStatus,
    GapKind,
    RiskGap,
    accept,
    acceptances,
    open_risk_gaps,
)
from garrison.risk.config import Dimension, RiskConfig, load_risk_config
from garrison.risk.engine import (
    assess,
    assess_assets,
    assess_bulk,
    controls_for,
    history,
    latest,
    latest_all,
    recompute,
    risk_levels,
    score_inputs,
    top,
)
from garrison.risk.models import (
    Assessment,
    AssessmentInputs,
    ControlInput,
    Factor,
    ProviderOutput,
    Recommendation,
    RiskAdjustment,
    RiskExplanation,
)
from garrison.risk.providers import (
    ProviderContext,
    RiskFactorProvider,
    RiskProviderError,
    risk_factor_providers,
)
from garrison.risk.quant import QuantResult, quantify
from garrison.risk.scoring import explain

__all__ = [
    "Acceptance",
    "AcceptanceError",
    "AcceptanceStatus",
    "Assessment",
    "AssessmentInputs",
    "ControlInput",
    "Dimension",
    "Factor",
    "GapKind",
    "ProviderContext",
    "ProviderOutput",
    "QuantResult",
    "Recommendation",
    "RiskAdjustment",
    "RiskConfig",
    "RiskExplanation",
    "RiskFactorProvider",
    "RiskGap",
    "RiskProviderError",
    "accept",
    "acceptances",
    "assess",
    "assess_assets",
    "assess_bulk",
    "controls_for",
    "explain",
    "history",
    "latest",
    "latest_all",
    "load_risk_config",
    "open_risk_gaps",
    "quantify",
    "recompute",
    "risk_factor_providers",
    "risk_levels",
    "score_inputs",
    "top",
]
