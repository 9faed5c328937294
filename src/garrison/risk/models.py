"""The risk engine's value objects: what goes into a score and the explanation that comes out.

``RiskExplanation`` is the answer and its reasons in one object (after Presidio's
``AnalysisExplanation``): every factor with its value, score, weight and share, every control with
its state and effect, the cap, the providers' adjustments and the recommendations. The CLI renders
it and the API returns it; the numbers in it are enough to recompute the score by hand.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from garrison.controls.models import ControlCategory, ControlType
from garrison.risk.config import Dimension


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ControlInput(_Value):
    """A library control applicable to the asset, with its current state (None: never attested).
    Copied into the assessment's inputs so a later library change cannot alter a stored score."""

    id: str
    name: str
    type: ControlType
    category: ControlCategory
    weight: float
    state: str | None = None
    owasp: tuple[str, ...] = ()

    @property
    def operational(self) -> bool:
        return self.state == "operational"


class RiskAdjustment(_Value):
    """One bounded change to a dimension's score, contributed by another pillar, with its reason."""

    dimension: Dimension
    points: Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
    explanation: Annotated[str, Field(min_length=1, max_length=2000)]
    refs: tuple[str, ...] = ()
    """What the adjustment is about: incident IDs, finding IDs, rule IDs."""


class ProviderOutput(_Value):
    provider: str
    adjustments: tuple[RiskAdjustment, ...] = ()


class AppliedAdjustment(_Value):
    provider: str
    requested: float
    applied: float
    explanation: str
    refs: tuple[str, ...] = ()


class Factor(_Value):
    """One dimension: what was observed, how it scored, and its part of the whole."""

    dimension: Dimension
    value: str
    """The observed input, e.g. ``classification=confidential``."""
    basis: tuple[str, ...]
    """How the base score was built, one step per line (``self-hosted: 60``, ``no review: +20``)."""
    base_score: float
    adjustments: tuple[AppliedAdjustment, ...] = ()
    score: float
    weight: float
    weighted: float
    """``score x weight``: the factor's points of inherent risk."""
    share: float
    """Percentage of the inherent score; the shares of all factors sum to 100."""
    effectiveness: float
    """The combined, capped reduction by operational controls on this dimension (0..cap)."""
    capped: bool
    residual: float
    """``weighted x (1 - effectiveness)``."""


class CategoryEffect(_Value):
    category: ControlCategory
    maximum: float
    controls: tuple[str, ...]
    """The operational controls of this category."""
    combined: float
    """``1 - Π(1 - weight)`` over those controls."""
    effect: float
    """``maximum x combined``."""
    dimensions: tuple[Dimension, ...]


class ControlEffect(_Value):
    id: str
    name: str
    type: ControlType
    category: ControlCategory
    state: str
    """``operational``, ``implemented``, ``planned``, ``failed`` or ``missing``."""
    weight: float
    counts: bool
    """Only operational controls reduce risk."""
    dimensions: tuple[Dimension, ...]


class Recommendation(_Value):
    control_id: str
    name: str
    type: ControlType
    category: ControlCategory
    state: str
    dimensions: tuple[Dimension, ...]
    expected_reduction: float
    """Residual points removed if this control alone became operational."""
    expected_residual: float
    owasp: tuple[str, ...] = ()
    reason: str


class RiskExplanation(_Value):
    asset_id: str
    asset_name: str
    asset_type: str
    as_of: date
    """The day review ages are measured from: part of the inputs, so recomputing is stable."""
    inherent: float
    residual: float
    effectiveness: float
    """Overall reduction ``1 - residual / inherent`` (0 when inherent is 0)."""
    level: str
    within_appetite: bool
    cap: float
    factors: tuple[Factor, ...]
    categories: tuple[CategoryEffect, ...]
    controls: tuple[ControlEffect, ...]
    """Every applicable control with an attested state (operational, implemented, planned or
    failed) and whether it counts."""
    missing: tuple[str, ...] = ()
    """Applicable controls never attested on the asset (the best of them are recommended)."""
    recommendations: tuple[Recommendation, ...]
    providers: tuple[str, ...]
    config_digest: str
    precision: int

    @property
    def risk_reduction_percentage(self) -> float:
        return 0.0 if self.inherent == 0 else self.effectiveness * 100


CONTROL_ROW = ("id", "name", "type", "category", "weight", "state", "owasp")
"""The fields of a control stored as a row (a JSON array) rather than an object."""


class AssessmentInputs(_Value):
    """Everything a score was computed from, stored with it."""

    asset: dict[str, object]
    controls: tuple[ControlInput, ...]
    """Stored by a bulk run as rows in ``CONTROL_ROW`` order: a 10,000-asset run writes 50
    controls per asset, and the field names were half of those bytes."""
    providers: tuple[ProviderOutput, ...]
    as_of: date
    config_digest: str

    @field_validator("controls", mode="before")
    @classmethod
    def _rows(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [
                dict(zip(CONTROL_ROW, item, strict=True)) if isinstance(item, list) else item
                for item in value
            ]
        return value


class Assessment(_Value):
    """A stored assessment: when, from what, and the explanation."""

    id: int
    asset_id: str
    org: str
    assessed_at: datetime
    inputs: AssessmentInputs
    explanation: RiskExplanation

    @property
    def level(self) -> str:
        return self.explanation.level

    def summary(self) -> AssessmentSummary:
        e = self.explanation
        return AssessmentSummary(
            assessment_id=self.id,
            asset_id=self.asset_id,
            asset_name=e.asset_name,
            asset_type=e.asset_type,
            assessed_at=self.assessed_at,
            inherent=e.inherent,
            effectiveness=e.effectiveness,
            residual=e.residual,
            level=e.level,
            within_appetite=e.within_appetite,
            next_control=e.recommendations[0].control_id if e.recommendations else None,
        )

    @property
    def residual(self) -> float:
        return self.explanation.residual


class AssessmentSummary(_Value):
    assessment_id: int
    asset_id: str
    asset_name: str
    asset_type: str
    assessed_at: datetime
    inherent: float
    effectiveness: float
    residual: float
    level: str
    within_appetite: bool
    next_control: str | None
    """The top recommendation: the missing control that would reduce the residual most."""
