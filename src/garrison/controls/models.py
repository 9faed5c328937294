"""The control library's content model: what one control file may say, validated at load.

A control is data an engineer can act on: what to deploy, how to prove it runs, what evidence to
keep, how much it is worth, and which framework items it answers. Every framework reference is a
catalog ID checked at load, per field, so that an ATLAS technique cannot sit where a mitigation
belongs and a typo is an error with its file and line rather than a silent coverage gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from garrison.catalog import Catalog, FrameworkKey, get_catalog, refs_of
from garrison.core.content import ContentModel


class ControlType(StrEnum):
    """When a control acts: before harm, while it happens, or after."""

    PREVENTIVE = "preventive"
    DETECTIVE = "detective"
    CORRECTIVE = "corrective"


class ControlCategory(StrEnum):
    """What kind of safeguard a control is.

    The first ten are the control types the program's risk model has always counted (so a list
    written as ``{type: input_filtering, operational: true}`` can be translated to library
    controls); the rest cover what those ten leave out.
    """

    INPUT_FILTERING = "input_filtering"
    OUTPUT_FILTERING = "output_filtering"
    RATE_LIMITING = "rate_limiting"
    AUTHENTICATION = "authentication"
    ENCRYPTION_AT_REST = "encryption_at_rest"
    ENCRYPTION_IN_TRANSIT = "encryption_in_transit"
    MONITORING = "monitoring"
    GUARDRAILS = "guardrails"
    ACCESS_LOGGING = "access_logging"
    NETWORK_ISOLATION = "network_isolation"
    ACCESS_CONTROL = "access_control"
    SECRETS_MANAGEMENT = "secrets_management"
    SUPPLY_CHAIN = "supply_chain"
    DATA_GOVERNANCE = "data_governance"
    AGENT_PERMISSIONS = "agent_permissions"
    HUMAN_OVERSIGHT = "human_oversight"
    SANDBOXING = "sandboxing"
    TESTING = "testing"
    GOVERNANCE = "governance"
    RESILIENCE = "resilience"
    INCIDENT_RESPONSE = "incident_response"


BASELINE_CATEGORIES: tuple[ControlCategory, ...] = tuple(ControlCategory)[:10]
"""The ten baseline control types; the library must realise each of them."""


_FALLBACK_ASSET_TYPES: tuple[str, ...] = (
    "foundation_model",
    "fine_tuned_model",
    "embedding_model",
    "vector_database",
    "training_dataset",
    "evaluation_dataset",
    "ai_agent",
    "api_endpoint",
    "guardrail_config",
    "prompt_template",
    "llm_application",
    "mcp_server",
    "tool",
    "knowledge_base",
    "inference_profile",
    "api_key",
)


def _asset_types() -> tuple[str, ...]:
    """The inventory's asset types, so the two pillars cannot drift apart; the fallback keeps
    the library usable in a build without the inventory."""
    try:
        from garrison.inventory.models import AssetType
    except ImportError:  # pragma: no cover - the inventory ships with Garrison
        return _FALLBACK_ASSET_TYPES
    return tuple(t.value for t in AssetType)


ASSET_TYPES: tuple[str, ...] = _asset_types()
"""Asset types a control may apply to: the inventory's ``asset_type`` values."""


class ImplementerKind(StrEnum):
    DETECTOR = "detector"
    """A Garrison content detector (monitoring), by its detector ID."""
    RULE = "rule"
    """A Garrison detection rule (Sigma or rule plugin), by its rule ID."""


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CONTROL_ID_PATTERN = r"^CTRL-[A-Z0-9]+(?:-[A-Z0-9]+)*$"


def _catalog(info: ValidationInfo) -> Catalog:
    context = info.context if isinstance(info.context, Mapping) else {}
    chosen = context.get("catalog")
    return chosen if isinstance(chosen, Catalog) else get_catalog()


def _kinds(field: str, kinds: tuple[str, ...], example: str) -> AfterValidator:
    """Refuse items of the right framework but the wrong kind (a technique in a mitigation list)."""

    def check(values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        catalog = _catalog(info)
        for value in values:
            kind = catalog.get(value).kind
            if kind not in kinds:
                raise ValueError(
                    f"{value!r} is of kind {kind!r}; {field} holds {' or '.join(kinds)} items "
                    f"(e.g. {example})"
                )
        return values

    return AfterValidator(check)


# mypy cannot see through refs_of's runtime-built types; to it these are plain tuples of IDs.
if TYPE_CHECKING:
    OwaspLlmRefs = tuple[str, ...]
    OwaspAgenticRefs = tuple[str, ...]
    AtlasMitigationRefs = tuple[str, ...]
    AtlasTechniqueRefs = tuple[str, ...]
    NistRefs = tuple[str, ...]
    IsoRefs = tuple[str, ...]
    EuRefs = tuple[str, ...]
else:
    OwaspLlmRefs = refs_of(FrameworkKey.OWASP_LLM)
    OwaspAgenticRefs = refs_of(FrameworkKey.OWASP_AGENTIC)
    AtlasMitigationRefs = Annotated[
        refs_of(FrameworkKey.ATLAS), _kinds("atlas_mitigations", ("mitigation",), "AML.M0015")
    ]
    AtlasTechniqueRefs = Annotated[
        refs_of(FrameworkKey.ATLAS),
        _kinds("atlas_techniques", ("technique", "sub-technique"), "AML.T0051.000"),
    ]
    NistRefs = Annotated[
        refs_of(FrameworkKey.NIST_AI_RMF), _kinds("nist_ai_rmf", ("subcategory",), "MEASURE 2.7")
    ]
    IsoRefs = Annotated[
        refs_of(FrameworkKey.ISO_42001), _kinds("iso_42001", ("control",), "A.6.2.6")
    ]
    EuRefs = Annotated[
        refs_of(FrameworkKey.EU_AI_ACT), _kinds("eu_ai_act", ("article",), "Art. 15")
    ]


class Implementation(ContentModel):
    """What an engineer needs to put the control in place and to prove it works."""

    deploy: Text
    """What to deploy or configure, concretely."""
    verify: Text
    """How to check that it is operational (a test, a query, a setting to inspect)."""
    evidence: tuple[Text, ...] = Field(min_length=1)
    """The records to keep so an auditor (or the risk engine) can believe the attestation."""


class Effectiveness(ContentModel):
    weight: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    """Share of the mapped risks' likelihood or impact this control removes on its own when
    operational: 0 nothing, 1 everything. The risk engine combines and caps these."""
    rationale: Text

    @field_validator("weight", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        # "0.5" in quotes or `yes` must not pass as a weight through lax coercion.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("weight must be a number between 0 and 1, e.g. 0.4")
        return value


class Mappings(ContentModel):
    """Framework items the control answers, each field restricted to its framework and kind."""

    owasp_llm: OwaspLlmRefs = ()
    owasp_agentic: OwaspAgenticRefs = ()
    atlas_mitigations: AtlasMitigationRefs = ()
    atlas_techniques: AtlasTechniqueRefs = ()
    nist_ai_rmf: NistRefs = ()
    iso_42001: IsoRefs = ()
    eu_ai_act: EuRefs = ()

    def all_ids(self) -> tuple[str, ...]:
        return (
            *self.owasp_llm,
            *self.owasp_agentic,
            *self.atlas_mitigations,
            *self.atlas_techniques,
            *self.nist_ai_rmf,
            *self.iso_42001,
            *self.eu_ai_act,
        )

    def owasp(self) -> tuple[str, ...]:
        return (*self.owasp_llm, *self.owasp_agentic)


class Implementer(ContentModel):
    """A Garrison detector or rule that realises a detective control."""

    kind: ImplementerKind
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


def _known_asset_types(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value not in ASSET_TYPES:
            raise ValueError(f"unknown asset type {value!r}; known types: {', '.join(ASSET_TYPES)}")
    if len(set(values)) != len(values):
        raise ValueError("an asset type is listed twice")
    return values


class Control(ContentModel):
    """One control of the library."""

    id: Annotated[str, StringConstraints(pattern=CONTROL_ID_PATTERN, max_length=64)]
    name: ShortText
    type: ControlType
    category: ControlCategory
    family: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    """Defaults to the family of the file the control is in."""
    applies_to: Annotated[tuple[str, ...], Field(min_length=1), AfterValidator(_known_asset_types)]
    summary: Text
    implementation: Implementation
    effectiveness: Effectiveness
    mappings: Mappings
    implemented_by: tuple[Implementer, ...] = ()

    @model_validator(mode="after")
    def _implementers_detect(self) -> Control:
        # A detector or rule only ever observes; calling it preventive would overstate coverage.
        if self.implemented_by and self.type is not ControlType.DETECTIVE:
            raise ValueError("implemented_by is for detective controls (a detector or rule)")
        return self

    def applies(self, asset_type: str) -> bool:
        return asset_type in self.applies_to


class ControlFile(ContentModel):
    """One file of the library: a family of controls."""

    family: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    description: Text
    controls: tuple[Control, ...] = Field(min_length=1)
