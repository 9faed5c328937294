"""The inventory's domain objects: what an AI asset is, how it is known, and how it changed.

``AssetSpec`` is what a person or a discovery source *says* about an asset: every attribute of the
seed's ``AIAsset`` plus what a real inventory needs (agent tools and their permissions, the
fingerprint of an app's system prompt, vector-store namespaces, API keys by reference). Only the
attributes a caller sets explicitly (``model_fields_set``) are applied when an existing asset is
re-registered, so a cloud source that cannot see an asset's owner never blanks the owner a person
declared.

``AIAsset`` is the registered record: a spec plus identity (``id``, ``natural_key``) and state the
registry maintains (``last_seen``, ``stale``, ``provenance``). ``Evidence`` says where an attribute
was seen, when, and how sure the source is; ``HistoryEntry`` records each change.

Fixes against the seed's model: timestamps are timezone-aware UTC (the seed used naive
``utcnow``); an unclassified asset is ``data_classification=None`` instead of silently defaulting to
INTERNAL (which made the seed's "unclassified data" rule guess); network exposure, environment and
compliance status are enums rather than free text ("Public" no longer escapes a ``== "public"``
check); ``regulatory_scope`` cannot mix ``none`` with real scopes; ``parameter_count`` is a number
(``"7B"`` is accepted and converted); and the upstream/downstream lists, which the seed kept on both
ends and could disagree, are one set of dependency edges.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from garrison.core.timeutil import ensure_utc, utcnow
from garrison.inventory.secrets import looks_like_raw_key, looks_like_secret

DEFAULT_ORG = "default"
"""The organization key an asset carries when none is given."""

ORG_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
REVIEW_DATE_TOLERANCE = timedelta(days=1)
"""A review dated tomorrow (UTC) is a time zone, not an error; later than that is a typo."""


class AssetType(StrEnum):
    # The seed's ten
    FOUNDATION_MODEL = "foundation_model"
    FINE_TUNED_MODEL = "fine_tuned_model"
    EMBEDDING_MODEL = "embedding_model"
    VECTOR_DATABASE = "vector_database"
    TRAINING_DATASET = "training_dataset"
    EVALUATION_DATASET = "evaluation_dataset"
    AI_AGENT = "ai_agent"
    API_ENDPOINT = "api_endpoint"
    GUARDRAIL_CONFIG = "guardrail_config"
    PROMPT_TEMPLATE = "prompt_template"
    # What agents and managed AI services add
    LLM_APPLICATION = "llm_application"
    MCP_SERVER = "mcp_server"
    TOOL = "tool"
    KNOWLEDGE_BASE = "knowledge_base"
    INFERENCE_PROFILE = "inference_profile"
    API_KEY = "api_key"


MODEL_TYPES = frozenset(
    {AssetType.FOUNDATION_MODEL, AssetType.FINE_TUNED_MODEL, AssetType.EMBEDDING_MODEL}
)
DATA_TYPES = frozenset(
    {
        AssetType.VECTOR_DATABASE,
        AssetType.TRAINING_DATASET,
        AssetType.EVALUATION_DATASET,
        AssetType.KNOWLEDGE_BASE,
    }
)


class DataClassification(StrEnum):
    """Sensitivity of the data an asset holds or processes, least to most sensitive."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"
    REGULATED = "regulated"

    @property
    def rank(self) -> int:
        return _CLASSIFICATION_ORDER.index(self)


_CLASSIFICATION_ORDER = tuple(DataClassification)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    RESEARCH = "research"
    UNKNOWN = "unknown"


class RegulatoryScope(StrEnum):
    """Regimes that apply to an asset. No scope is an empty list (the seed's NONE member could sit
    next to GDPR in the same list)."""

    GDPR = "gdpr"
    HIPAA = "hipaa"
    SOX = "sox"
    EU_AI_ACT_HIGH_RISK = "eu_ai_act_high_risk"
    EU_AI_ACT_LIMITED_RISK = "eu_ai_act_limited_risk"
    PCI_DSS = "pci_dss"
    CCPA = "ccpa"


class Exposure(StrEnum):
    """Who can reach the asset over the network."""

    INTERNAL = "internal"
    VPC = "vpc"
    PUBLIC = "public"
    UNKNOWN = "unknown"


class ComplianceStatus(StrEnum):
    UNREVIEWED = "unreviewed"
    IN_REVIEW = "in_review"
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    EXCEPTION = "exception"
    """A known gap accepted by the risk owner (governance records the exception)."""


class Confidence(StrEnum):
    """How an attribute value is known.

    ``declared``: stated by an authoritative source (a cloud API's response, a config file, a
    person). ``inferred``: derived by a heuristic (a model name guessed from a string in code).
    ``unresolved``: the source saw a reference but not the value (an environment variable it could
    not read); it is evidence, never a value.
    """

    DECLARED = "declared"
    INFERRED = "inferred"
    UNRESOLVED = "unresolved"

    @property
    def rank(self) -> int:
        return {"declared": 2, "inferred": 1, "unresolved": 0}[self.value]


class Relation(StrEnum):
    """What a dependency edge means. The edge points from the dependent asset to what it uses
    (its upstream)."""

    DEPENDS_ON = "depends_on"
    USES_MODEL = "uses_model"
    FINE_TUNED_FROM = "fine_tuned_from"
    EMBEDS_WITH = "embeds_with"
    RETRIEVES_FROM = "retrieves_from"
    STORES_IN = "stores_in"
    TRAINED_ON = "trained_on"
    EVALUATED_ON = "evaluated_on"
    GUARDED_BY = "guarded_by"
    USES_PROMPT = "uses_prompt"
    USES_TOOL = "uses_tool"
    CONNECTS_TO = "connects_to"
    AUTHENTICATES_WITH = "authenticates_with"
    SERVED_BY = "served_by"


class KeyLocation(StrEnum):
    """Where an API key is kept. ``code`` and ``config_file`` mean the key sits in plain text at
    ``reference`` (a file:line): the inventory records the place, not the key, and the gap is a
    finding of its own."""

    ENV_VAR = "env_var"
    AWS_SECRETS_MANAGER = "aws_secrets_manager"
    AWS_SSM_PARAMETER = "aws_ssm_parameter"
    AZURE_KEY_VAULT = "azure_key_vault"
    GCP_SECRET_MANAGER = "gcp_secret_manager"  # noqa: S105 - a place, not a password
    HASHICORP_VAULT = "hashicorp_vault"
    KUBERNETES_SECRET = "kubernetes_secret"  # noqa: S105 - a place, not a password
    CONFIG_FILE = "config_file"
    CODE = "code"
    UNKNOWN = "unknown"


# --- field types ----------------------------------------------------------------------------------


def _no_secret(value: str) -> str:
    if looks_like_secret(value):
        raise ValueError(
            "the value looks like a raw credential; the inventory stores where a key lives "
            "(api_key.location and api_key.reference) and its fingerprint, never the key"
        )
    return value


def _aware(value: datetime) -> datetime:
    return ensure_utc(value)


SafeText = Annotated[str, AfterValidator(_no_secret)]
"""Free text that is refused when it contains something shaped like a key."""
UTCTime = Annotated[datetime, AfterValidator(_aware)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

_PARAMETER_SUFFIX = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parse_parameter_count(value: Any) -> Any:
    """``"7B"`` → 7_000_000_000, ``"1.5m"`` → 1_500_000; numbers pass through."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower().replace(",", "").replace("_", "")
    if not text:
        return None
    factor = _PARAMETER_SUFFIX.get(text[-1], 1)
    digits = text[:-1] if text[-1] in _PARAMETER_SUFFIX else text
    try:
        return int(Decimal(digits) * factor)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a parameter count (e.g. 7000000000 or 7B)") from None


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,63}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolPermission(StrEnum):
    """What a tool may do, coarsely: enough to tell a read-only lookup from a payment."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    EXECUTE_CODE = "execute_code"
    NETWORK = "network"
    SEND_MESSAGE = "send_message"
    FINANCIAL_TRANSACTION = "financial_transaction"
    ADMIN = "admin"


class AgentTool(_Frozen):
    """A tool an agent can call, and what it is allowed to do."""

    name: Annotated[SafeText, Field(min_length=1, max_length=200)]
    description: Annotated[SafeText, Field(max_length=2000)] = ""
    permissions: tuple[ToolPermission, ...] = ()
    scopes: tuple[SafeText, ...] = ()
    """The concrete grants behind the permissions, e.g. ``crm:accounts:read`` or an IAM action."""
    requires_approval: bool = False
    """A human approves each call (human-in-the-loop)."""
    server: SafeText | None = None
    """The MCP server (or API) providing the tool, by asset name or source ID, when known."""

    @field_validator("permissions", "scopes")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))


class VectorNamespace(_Frozen):
    """A collection / index / namespace inside a vector store."""

    name: Annotated[SafeText, Field(min_length=1, max_length=300)]
    dimension: Annotated[int, Field(gt=0, le=65536)] | None = None
    documents: Annotated[int, Field(ge=0)] | None = None
    data_classification: DataClassification | None = None


class ApiKeyRef(_Frozen):
    """An API key by reference: where it lives and its fingerprint. Never the key itself."""

    location: KeyLocation
    reference: Annotated[str, Field(min_length=1, max_length=1000)]
    """The env var name, secret ARN, vault path, or file:line where the key is kept."""
    fingerprint: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = None
    """``secrets.key_fingerprint(key)``: matches sightings of one key without storing it."""
    last_rotated: date | None = None

    @field_validator("reference")
    @classmethod
    def _reference_not_key(cls, value: str) -> str:
        if looks_like_raw_key(value):
            raise ValueError(
                "this is a key, not a reference to one; give where it lives (e.g. "
                "OPENAI_API_KEY, or arn:aws:secretsmanager:…:secret:name) and, if you have "
                "the key, only its fingerprint (garrison.inventory.secrets.key_fingerprint)"
            )
        return value.strip()

    @model_validator(mode="after")
    def _reference_fits_location(self) -> ApiKeyRef:
        if self.location is KeyLocation.ENV_VAR and not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_]{0,127}", self.reference
        ):
            raise ValueError(
                f"reference {self.reference!r} is not an environment variable name "
                "(letters, digits and underscores)"
            )
        return self


def _dependency(value: Any) -> Any:
    if isinstance(value, str):
        return {"target": value}
    return value


class DependencyRef(_Frozen):
    """An edge as declared on an asset: the target is named by asset ID, source ID, natural key
    or name (resolved within the organization); a target not in the registry is kept and
    reported as a missing node."""

    target: Annotated[SafeText, Field(min_length=1, max_length=1000)]
    relation: Relation = Relation.DEPENDS_ON


Dependencies = tuple[Annotated[DependencyRef, BeforeValidator(_dependency)], ...]


# --- the asset ------------------------------------------------------------------------------------


class AssetSpec(_Frozen):
    """What is said about one asset. See the module docstring for how updates use it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    org: Annotated[str, Field(pattern=ORG_KEY_PATTERN)] = DEFAULT_ORG
    name: Annotated[SafeText, Field(min_length=1, max_length=300)]
    asset_type: AssetType
    description: Annotated[SafeText, Field(max_length=4000)] = ""
    owner_team: Annotated[SafeText, Field(max_length=200)] = ""
    owner_email: Annotated[str, Field(max_length=320)] = ""
    data_classification: DataClassification | None = None
    """None means nobody has classified it: a compliance gap, not an implied INTERNAL."""
    environment: Environment = Field(
        default=Environment.UNKNOWN, validation_alias=AliasChoices("environment", "deployment_env")
    )
    regulatory_scope: tuple[RegulatoryScope, ...] = ()

    # model
    model_provider: Annotated[SafeText, Field(max_length=200)] | None = None
    model_name: Annotated[SafeText, Field(max_length=500)] | None = None
    model_version: Annotated[SafeText, Field(max_length=200)] | None = None
    is_self_hosted: bool = False
    parameter_count: Annotated[
        Annotated[int, Field(gt=0)] | None, BeforeValidator(parse_parameter_count)
    ] = None

    # supply chain
    source_url: Annotated[SafeText, Field(max_length=2000)] | None = None
    license_type: Annotated[SafeText, Field(max_length=200)] | None = None
    last_security_review: date | None = None
    review_due: date | None = None
    """When the next security review is due; overrides the review-age rule's default interval."""
    sbom_available: bool = False

    # deployment
    api_endpoint: Annotated[SafeText, Field(max_length=2000)] | None = None
    cloud_provider: Annotated[SafeText, Field(max_length=100)] | None = None
    cloud_region: Annotated[SafeText, Field(max_length=100)] | None = None
    exposure: Exposure = Field(
        default=Exposure.UNKNOWN, validation_alias=AliasChoices("exposure", "network_exposure")
    )
    source_id: Annotated[SafeText, Field(min_length=1, max_length=2000)] | None = None
    """The source's own identifier: a cloud ARN or resource ID, or ``sha256:<digest>@<path>`` for
    a file. When present it is the asset's natural key."""

    # agents, apps, retrieval, credentials
    tools: tuple[AgentTool, ...] = ()
    system_prompt_sha256: Sha256Hex | None = None
    """``secrets.prompt_fingerprint(prompt)``: detects prompt changes; the prompt is not stored."""
    vector_namespaces: tuple[VectorNamespace, ...] = ()
    api_key: ApiKeyRef | None = None
    tags: tuple[Annotated[SafeText, Field(min_length=1, max_length=100)], ...] = ()

    # governance
    compliance_status: ComplianceStatus = ComplianceStatus.UNREVIEWED
    risk_score: Annotated[float, Field(ge=0, le=100)] | None = None
    """0-100, written by the risk pillar; the registry only stores it."""

    depends_on: Dependencies = ()
    """Upstream assets. Kept as edges, not as an attribute: see ``registry.register``."""

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()

    @field_validator("owner_team", "name", "description", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        # Before the length limits: a name of only whitespace ("\x1e" is whitespace to Python)
        # was accepted, stored empty, and then failed to load (found by schemathesis).
        return value.strip() if isinstance(value, str) else value

    @field_validator("model_provider", "cloud_provider")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else (value.strip().lower() or None)

    @field_validator("regulatory_scope", mode="before")
    @classmethod
    def _scopes(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in re.split(r"[;,]", value) if part.strip()]
        if isinstance(value, list | tuple):
            items = [v.strip().lower() if isinstance(v, str) else v for v in value]
            if "none" in items:
                if len(items) > 1:
                    raise ValueError("'none' cannot be combined with other regulatory scopes")
                return ()
            return items
        return value

    @field_validator("regulatory_scope", "tags")
    @classmethod
    def _sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    @field_validator("last_security_review")
    @classmethod
    def _review_not_in_future(cls, value: date | None) -> date | None:
        # A future review date would never go stale (the seed's rule silently accepted it).
        if value is not None and value > (utcnow() + REVIEW_DATE_TOLERANCE).date():
            raise ValueError(f"{value.isoformat()} is in the future; give the date of the review")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> AssetSpec:
        if self.api_key is not None and self.asset_type is not AssetType.API_KEY:
            raise ValueError("api_key is only for assets of type api_key")
        if self.tools and self.asset_type not in (
            AssetType.AI_AGENT,
            AssetType.LLM_APPLICATION,
            AssetType.MCP_SERVER,
        ):
            raise ValueError("tools belong to an ai_agent, llm_application or mcp_server")
        return self

    def attributes(self) -> dict[str, Any]:
        """The attribute values as JSON-ready data (``depends_on`` excluded: edges are separate)."""
        return self.model_dump(mode="json", exclude={"depends_on"})


ATTRIBUTE_NAMES: frozenset[str] = frozenset(AssetSpec.model_fields) - {"depends_on"}
"""Names a change, an evidence record or ``edit_asset`` may refer to."""
IDENTITY_ATTRIBUTES = frozenset({"org"})
"""Attributes that never change on an existing asset: a different org is a different asset."""


class AttributeSource(_Frozen):
    """Who set an attribute's current value, how sure they were, and when."""

    source: str
    confidence: Confidence
    at: UTCTime


class AIAsset(AssetSpec):
    """A registered asset: the spec's attributes plus identity and registry-maintained state."""

    id: str
    natural_key: str
    registered_at: UTCTime
    last_updated: UTCTime
    last_seen: UTCTime
    stale: bool = False
    stale_since: UTCTime | None = None
    stale_sources: tuple[str, ...] = ()
    """The sources whose last complete run did not see the asset."""
    provenance: dict[str, AttributeSource] = Field(default_factory=dict)

    @field_validator("last_security_review")
    @classmethod
    def _review_not_in_future(cls, value: date | None) -> date | None:
        return value  # a stored record is read back as it is, whatever today's date

    def spec(self) -> AssetSpec:
        return AssetSpec.model_validate(
            self.model_dump(include=set(AssetSpec.model_fields) - {"depends_on"})
        )


def _check_attributes(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(value) - ATTRIBUTE_NAMES)
    if unknown:
        raise ValueError(f"unknown attribute(s) {', '.join(unknown)}")
    return tuple(sorted(set(value)))


class Evidence(_Frozen):
    """Where and when a source saw an asset's attributes, and how sure it is."""

    location: Annotated[SafeText, Field(min_length=1, max_length=2000)]
    """``path/file.py:42``, a cloud ARN, or an API call (``bedrock:ListCustomModels@us-east-1``)."""
    confidence: Confidence = Confidence.DECLARED
    observed_at: UTCTime = Field(default_factory=utcnow)
    attributes: Annotated[tuple[str, ...], AfterValidator(_check_attributes)] = ()
    """The attributes this evidence supports; empty means every attribute the spec sets."""
    detail: Annotated[SafeText, Field(max_length=2000)] = ""


class EvidenceRecord(Evidence):
    """Stored evidence: which source and run reported it, first and last time."""

    source: str
    run_id: str | None = None
    first_seen: UTCTime


class AttributeChange(_Frozen):
    attribute: str
    old: Any = None
    new: Any = None


HistoryAction = Literal["created", "updated", "edited", "staled", "unstaled"]


class HistoryEntry(_Frozen):
    at: UTCTime
    action: HistoryAction
    source: str
    actor: str | None = None
    run_id: str | None = None
    changes: tuple[AttributeChange, ...] = ()


class Dependency(_Frozen):
    """A stored edge: ``asset_id`` depends on ``target_id``; ``target_id`` is None while the
    target (``target_ref``) is not in the registry."""

    asset_id: str
    target_ref: str
    target_id: str | None
    relation: Relation
    declared_by: str


class Sighting(_Frozen):
    """The last time one source (within one scope) saw an asset."""

    source: str
    scope: str
    first_seen: UTCTime
    last_seen: UTCTime
    run_id: str | None = None
    missing: bool = False


class AssetDetail(_Frozen):
    """One asset with everything known about it, for ``show`` and the API."""

    asset: AIAsset
    upstream: tuple[Dependency, ...] = ()
    downstream: tuple[Dependency, ...] = ()
    evidence: tuple[EvidenceRecord, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    sightings: tuple[Sighting, ...] = ()

    def evidence_for(self, attribute: str) -> list[EvidenceRecord]:
        """The evidence that supports ``attribute``, newest first (per-attribute provenance)."""
        found = [e for e in self.evidence if not e.attributes or attribute in e.attributes]
        return sorted(found, key=lambda e: e.observed_at, reverse=True)


def as_utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()
