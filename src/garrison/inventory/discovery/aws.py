"""AWS discovery: the Bedrock and SageMaker resources an account *uses*, region by region.

Not the foundation-model catalogue (every account can list that): custom models and the base
models they were tuned from, provisioned throughput and what it serves, application inference
profiles and the models they route to, guardrails and their versions, the model invocation logging
setting, Bedrock agents with their foundation model, action groups (tools), knowledge bases, the
embedding models and vector stores behind them, and SageMaker endpoints → configs → models.

How it differs from the AI-BOM tools we measured (``shared/design/ANCHORS.md``):

* every list call is paged to the end (botocore's paginator, or ``nextToken`` by hand where the
  installed botocore has no paginator), with a guard against a token that repeats;
* every failed call becomes a ``CallFailure`` (denied vs throttled vs other) in the result, and one
  failure anywhere makes the run incomplete, so it marks nothing stale; throttling is first retried
  by botocore's ``standard`` retry mode;
* evidence per asset names the API call, the region and the ARN.

boto3 is an optional extra (``garrison[aws]``) imported only when a run starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import CallFailure, DiscoveryResult
from garrison.inventory.discovery.cloud import ResultBuilder, require_sdk, tag
from garrison.inventory.models import (
    AgentTool,
    ApiKeyRef,
    AssetType,
    KeyLocation,
    Relation,
    ToolPermission,
    VectorNamespace,
)
from garrison.inventory.secrets import prompt_fingerprint

SOURCE = "aws"
SERVICES = ("bedrock", "bedrock-agent", "sagemaker")
BEDROCK_PROVIDER = "aws_bedrock"
SAGEMAKER_PROVIDER = "aws_sagemaker"
DRAFT = "DRAFT"

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)
# Cross-region (system) inference profile IDs are a model ID behind a geography prefix.
_SYSTEM_PROFILE = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.[a-z0-9-]+\.")
# Container variables that name the model a SageMaker container serves (Hugging Face TGI, DJL,
# JumpStart). Only these are read: a container's environment often holds tokens.
_MODEL_ENV = ("HF_MODEL_ID", "MODEL_ID", "OPTION_MODEL_ID", "JUMPSTART_MODEL_ID")
_SECRET_ENV = re.compile(r"(?i)(token|secret|password|api[_-]?key|credential)")

# Built-in action groups whose power is known from their signature alone.
_SIGNATURE_PERMISSIONS: Mapping[str, tuple[ToolPermission, ...]] = {
    "AMAZON.CodeInterpreter": (ToolPermission.EXECUTE_CODE,),
    "ANTHROPIC.Bash": (ToolPermission.EXECUTE_CODE,),
    "ANTHROPIC.Computer": (ToolPermission.EXECUTE_CODE, ToolPermission.NETWORK),
    "ANTHROPIC.TextEditor": (ToolPermission.WRITE,),
}

ClientFactory = Callable[[str, str], Any]


def bedrock_regions(session: Any) -> list[str]:
    """Regions where Bedrock or SageMaker exist, from botocore's bundled endpoint data (offline)."""
    found: set[str] = set()
    for service in ("bedrock", "sagemaker"):
        found.update(session.get_available_regions(service))
    return sorted(found)


def make_session(profile: str | None = None, region: str | None = None) -> Any:
    """A ``boto3.Session``; a missing profile or no credentials is a clear error, not a run of
    failures."""
    boto3 = require_sdk("boto3", "aws")
    exceptions = require_sdk("botocore.exceptions", "aws")
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except exceptions.ProfileNotFound as exc:
        raise GarrisonError(
            str(exc), hint="list profiles with: aws configure list-profiles"
        ) from exc
    if session.get_credentials() is None:
        raise GarrisonError(
            "no AWS credentials found",
            hint="set AWS_PROFILE (or --profile), run 'aws sso login', or use an instance role",
        )
    return session


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def _arn_resource(arn: str) -> tuple[str, str]:
    """``("foundation-model", "anthropic.claude-…")`` for a Bedrock ARN."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    kind, _, name = resource.partition("/")
    return kind, name


_KIND_TYPES = {
    "foundation-model": AssetType.FOUNDATION_MODEL,
    "custom-model": AssetType.FINE_TUNED_MODEL,
    "imported-model": AssetType.FINE_TUNED_MODEL,
    "provisioned-model": AssetType.API_ENDPOINT,
    "inference-profile": AssetType.INFERENCE_PROFILE,
    "application-inference-profile": AssetType.INFERENCE_PROFILE,
}


class AwsDiscovery:
    """One discovery run over ``regions`` of one account. ``run()`` never raises for a failed
    call; it raises ``GarrisonError`` only when the account itself cannot be identified."""

    def __init__(
        self,
        session: Any,
        regions: Sequence[str],
        *,
        account_id: str | None = None,
        services: Sequence[str] = SERVICES,
        all_regions: bool = False,
        max_attempts: int = 5,
        page_size: int | None = None,
        org: str | None = None,
        client_factory: ClientFactory | None = None,
    ) -> None:
        unknown = sorted(set(services) - set(SERVICES))
        if unknown:
            raise GarrisonError(
                f"unknown AWS service(s) {', '.join(unknown)}",
                hint=f"choose from {', '.join(SERVICES)}",
            )
        if not regions:
            raise GarrisonError("no AWS region to discover", hint="pass --region or --all-regions")
        self.session = session
        self.regions = sorted(set(regions))
        self.account_id = account_id
        self.services = tuple(s for s in SERVICES if s in services)
        self.all_regions = all_regions
        self.max_attempts = max_attempts
        self.page_size = page_size
        self.org = org
        self._factory = client_factory
        self._clients: dict[tuple[str, str], Any] = {}
        self._exceptions = require_sdk("botocore.exceptions", "aws")
        self._xform = require_sdk("botocore", "aws").xform_name
        self.builder = ResultBuilder(SOURCE, "", org)

    # --- plumbing ---------------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            if self._factory is not None:
                self._clients[key] = self._factory(service, region)
            else:
                config = require_sdk("botocore.config", "aws").Config(
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    connect_timeout=10,
                    read_timeout=30,
                    user_agent_extra="garrison-discovery",
                )
                self._clients[key] = self.session.client(service, region_name=region, config=config)
        return self._clients[key]

    def _failure(self, exc: Exception, operation: str, region: str) -> CallFailure:
        if isinstance(exc, self._exceptions.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "")) or "ClientError"
            message = str(error.get("Message", "")) or str(exc)
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            if code in THROTTLING_CODES:
                message = f"throttled; gave up after {attempts + 1} attempt(s): {message}"
            return CallFailure(operation, message, region, code, code in DENIED_CODES)
        return CallFailure(operation, str(exc), region, type(exc).__name__)

    def _guarded(self) -> tuple[type[Exception], ...]:
        return (self._exceptions.ClientError, self._exceptions.BotoCoreError)

    def _label(self, client: Any, operation: str) -> str:
        return f"{client.meta.service_model.service_name}:{operation}"

    def call(
        self, client: Any, region: str, operation: str, **params: Any
    ) -> dict[str, Any] | None:
        """One non-paged call; a failure is recorded and gives None."""
        try:
            response: dict[str, Any] = getattr(client, self._xform(operation))(**params)
        except self._guarded() as exc:
            self.builder.fail(self._failure(exc, self._label(client, operation), region))
            return None
        return response

    def list_all(
        self, client: Any, region: str, operation: str, result_key: str, **params: Any
    ) -> list[dict[str, Any]]:
        """Every item of a paged list call. A failure part-way is recorded; the items already
        read are returned (they exist; the run is incomplete anyway)."""
        items: list[dict[str, Any]] = []
        method = self._xform(operation)
        try:
            if client.can_paginate(method):
                config = {"PageSize": self.page_size} if self.page_size else {}
                pages = client.get_paginator(method).paginate(**params, PaginationConfig=config)
                for page in pages:
                    items.extend(page.get(result_key, []))
            else:
                items.extend(self._follow_tokens(client, method, result_key, params))
        except self._guarded() as exc:
            self.builder.fail(self._failure(exc, self._label(client, operation), region))
        return items

    def _follow_tokens(
        self, client: Any, method: str, result_key: str, params: dict[str, Any]
    ) -> Iterable[dict[str, Any]]:
        shape = client.meta.service_model.operation_model(
            client.meta.method_to_api_mapping[method]
        ).input_shape
        members = shape.members if shape is not None else {}
        token_name = "nextToken" if "nextToken" in members else "NextToken"
        limit_name = "maxResults" if "maxResults" in members else "MaxResults"
        seen: set[str] = set()
        request = dict(params)
        if self.page_size and limit_name in members:
            request[limit_name] = self.page_size
        while True:
            page = getattr(client, method)(**request)
            yield from page.get(result_key, [])
            token = page.get(token_name)
            if not token:
                return
            if token in seen:
                raise self._exceptions.PaginationError(
                    message=f"the service repeated page token {token!r}"
                )
            seen.add(token)
            request[token_name] = token

    # --- the run ----------------------------------------------------------------------------------

    def _account(self) -> str:
        if self.account_id:
            return self.account_id
        sts = self.client("sts", self.regions[0])
        try:
            identity = sts.get_caller_identity()
        except self._guarded() as exc:
            # GetCallerIdentity needs no permission: failing it means the credentials are bad.
            raise GarrisonError(
                f"could not identify the AWS account: {exc}",
                hint="check the credentials (aws sts get-caller-identity)",
            ) from exc
        self.account_id = str(identity["Account"])
        return self.account_id

    def _plan(self) -> dict[str, tuple[str, ...]]:
        """Which services to ask in which region. With --all-regions, only where botocore's
        endpoint data says the service exists; a region named explicitly is always asked."""
        if not self.all_regions:
            return dict.fromkeys(self.regions, self.services)
        bedrock = set(self.session.get_available_regions("bedrock"))
        sagemaker = set(self.session.get_available_regions("sagemaker"))
        plan = {}
        for region in self.regions:
            wanted = tuple(
                s
                for s in self.services
                if (s == "sagemaker" and region in sagemaker)
                or (s != "sagemaker" and region in bedrock)
            )
            if wanted:
                plan[region] = wanted
        return plan

    def run(self) -> DiscoveryResult:
        account = self._account()
        scope = f"aws:{account}:{','.join(self.regions)}"
        if self.services != SERVICES:
            scope += f":{','.join(self.services)}"
        self.builder.scope = scope
        for region, services in self._plan().items():
            region_keys: list[str] = []
            if "bedrock" in services:
                region_keys += BedrockRegion(self, region, account).discover()
            if "bedrock-agent" in services:
                region_keys += AgentRegion(self, region, account).discover()
            if "bedrock" in services:
                self._invocation_logging(region, region_keys)
            if "sagemaker" in services:
                SageMakerRegion(self, region).discover()
        return self.builder.result()

    def _invocation_logging(self, region: str, keys: list[str]) -> None:
        """Bedrock's model invocation logging is a per-region setting; off means prompts and
        responses leave no audit trail. It is recorded as a tag on the region's Bedrock assets."""
        bedrock = self.client("bedrock", region)
        response = self.call(bedrock, region, "GetModelInvocationLoggingConfiguration")
        if response is None:
            return
        config = response.get("loggingConfig") or {}
        sinks = [s for s in ("cloudWatchConfig", "s3Config") if config.get(s)]
        state = "on" if sinks else "off"
        self.builder.tag_all(
            keys,
            tag("bedrock-invocation-logging", state),
            call=f"aws {region} bedrock:GetModelInvocationLoggingConfiguration",
        )


# --- Bedrock (control plane) ----------------------------------------------------------------------


class _Region:
    def __init__(self, run: AwsDiscovery, region: str, account: str = "") -> None:
        self.run = run
        self.region = region
        self.account = account
        self.b = run.builder
        self.keys: list[str] = []

    def where(self, call: str) -> str:
        return f"aws {self.region} {call}"

    def runtime(self) -> str:
        return f"https://bedrock-runtime.{self.region}.amazonaws.com"

    def model_ref(self, ref: str, *, via: str, arn: str, as_type: AssetType | None = None) -> str:
        """The asset key for a model that something references (by ARN or by ID)."""
        if ref.startswith("arn:"):
            target = ref
        elif _SYSTEM_PROFILE.match(ref):
            target = f"arn:aws:bedrock:{self.region}:{self.account}:inference-profile/{ref}"
        else:
            target = f"arn:aws:bedrock:{self.region}::foundation-model/{ref}"
        kind, name = _arn_resource(target)
        kind_type = _KIND_TYPES.get(kind, AssetType.FOUNDATION_MODEL)
        asset_type = as_type or kind_type
        vendor = name.split(".")[1] if kind_type is AssetType.INFERENCE_PROFILE else name
        vendor = vendor.split(".")[0] if "." in vendor else ""
        self.b.add(
            target,
            call=self.where(via),
            detail=f"{target} referenced by {arn}",
            reference=as_type is None,
            asset_type=asset_type,
            name=name or target,
            model_name=name or None,
            model_provider=BEDROCK_PROVIDER,
            cloud_provider="aws",
            cloud_region=_arn_region(target) or self.region,
            api_endpoint=self.runtime(),
            source_id=target,
            tags=[tag("vendor", vendor)] if vendor else [],
        )
        self.keys.append(target)
        return target


class BedrockRegion(_Region):
    def discover(self) -> list[str]:
        self.client = self.run.client("bedrock", self.region)
        self.custom_models()
        self.provisioned_throughput()
        self.inference_profiles()
        self.guardrails()
        return self.keys

    def custom_models(self) -> None:
        listed = self.run.list_all(self.client, self.region, "ListCustomModels", "modelSummaries")
        for summary in listed:
            arn = summary["modelArn"]
            key = self.b.add(
                arn,
                call=self.where("bedrock:ListCustomModels"),
                detail=arn,
                asset_type=AssetType.FINE_TUNED_MODEL,
                name=summary.get("modelName"),
                model_name=summary.get("modelName"),
                model_provider=BEDROCK_PROVIDER,
                cloud_provider="aws",
                cloud_region=self.region,
                api_endpoint=self.runtime(),
                source_id=arn,
                tags=[tag("customization", summary["customizationType"])]
                if summary.get("customizationType")
                else [],
            )
            self.keys.append(key)
            detail = self.run.call(self.client, self.region, "GetCustomModel", modelIdentifier=arn)
            base = (detail or {}).get("baseModelArn") or summary.get("baseModelArn")
            if base:
                target = self.model_ref(base, via="bedrock:GetCustomModel", arn=arn)
                self.b.edge(key, target, Relation.FINE_TUNED_FROM)
            if detail is None:
                continue
            data = detail.get("trainingDataConfig", {}).get("s3Uri")
            tags = [tag("job", detail["jobName"])] if detail.get("jobName") else []
            if detail.get("modelKmsKeyArn"):
                tags.append("encryption:customer-managed-key")
            self.b.add(key, call=self.where("bedrock:GetCustomModel"), detail=arn, tags=tags)
            if data:
                dataset = self.b.add(
                    data,
                    call=self.where("bedrock:GetCustomModel"),
                    detail=f"training data of {arn}",
                    reference=True,
                    asset_type=AssetType.TRAINING_DATASET,
                    name=data,
                    cloud_provider="aws",
                    cloud_region=self.region,
                    source_id=data,
                )
                self.b.edge(key, dataset, Relation.TRAINED_ON)

    def provisioned_throughput(self) -> None:
        listed = self.run.list_all(
            self.client,
            self.region,
            "ListProvisionedModelThroughputs",
            "provisionedModelSummaries",
        )
        for item in listed:
            arn = item["provisionedModelArn"]
            tags = [
                tag("status", item.get("status", "")),
                tag("model-units", item.get("modelUnits")),
            ]
            if item.get("commitmentDuration"):
                tags.append(tag("commitment", item["commitmentDuration"]))
            key = self.b.add(
                arn,
                call=self.where("bedrock:ListProvisionedModelThroughputs"),
                detail=arn,
                asset_type=AssetType.API_ENDPOINT,
                name=item.get("provisionedModelName"),
                description="Bedrock provisioned throughput",
                model_provider=BEDROCK_PROVIDER,
                cloud_provider="aws",
                cloud_region=self.region,
                api_endpoint=self.runtime(),
                source_id=arn,
                tags=tags,
            )
            self.keys.append(key)
            served = item.get("modelArn") or item.get("foundationModelArn")
            if served:
                model = self.model_ref(
                    served, via="bedrock:ListProvisionedModelThroughputs", arn=arn
                )
                self.b.add(
                    key,
                    call=self.where("bedrock:ListProvisionedModelThroughputs"),
                    detail=arn,
                    model_name=self.b.value(model, "model_name") or served,
                )
                self.b.edge(key, model, Relation.USES_MODEL)

    def inference_profiles(self) -> None:
        # APPLICATION profiles are the ones an account creates (to track cost, route a model):
        # SYSTEM_DEFINED ones are catalogue, recorded only when an agent or app uses one.
        listed = self.run.list_all(
            self.client,
            self.region,
            "ListInferenceProfiles",
            "inferenceProfileSummaries",
            typeEquals="APPLICATION",
        )
        for item in listed:
            arn = item["inferenceProfileArn"]
            key = self.b.add(
                arn,
                call=self.where("bedrock:ListInferenceProfiles"),
                detail=arn,
                asset_type=AssetType.INFERENCE_PROFILE,
                name=item.get("inferenceProfileName"),
                description=item.get("description"),
                model_name=item.get("inferenceProfileId"),
                model_provider=BEDROCK_PROVIDER,
                cloud_provider="aws",
                cloud_region=self.region,
                api_endpoint=self.runtime(),
                source_id=arn,
                tags=[tag("profile-type", item.get("type", "")), tag("status", item.get("status"))],
            )
            self.keys.append(key)
            for routed in item.get("models", []):
                if routed.get("modelArn"):
                    model = self.model_ref(
                        routed["modelArn"], via="bedrock:ListInferenceProfiles", arn=arn
                    )
                    self.b.edge(key, model, Relation.USES_MODEL)

    def guardrails(self) -> None:
        # Without an identifier ListGuardrails gives each guardrail's DRAFT; with one, its versions.
        listed = self.run.list_all(self.client, self.region, "ListGuardrails", "guardrails")
        for item in listed:
            arn = item["arn"]
            versions = self.run.list_all(
                self.client,
                self.region,
                "ListGuardrails",
                "guardrails",
                guardrailIdentifier=arn,
            )
            numbered = sorted(
                (v["version"] for v in versions if str(v.get("version", "")).isdigit()), key=int
            )
            tags = [tag("status", item.get("status", ""))]
            if numbered:
                tags.append(tag("versions", ",".join(numbered)))
            key = self.b.add(
                arn,
                call=self.where("bedrock:ListGuardrails"),
                detail=arn,
                asset_type=AssetType.GUARDRAIL_CONFIG,
                name=item.get("name"),
                description=item.get("description"),
                model_version=numbered[-1] if numbered else item.get("version"),
                cloud_provider="aws",
                cloud_region=self.region,
                source_id=arn,
                tags=tags,
            )
            self.keys.append(key)


# --- Bedrock agents -------------------------------------------------------------------------------

# storageConfiguration.type → (its configuration key, the field that identifies the store,
# an endpoint field, the fields that name the index/namespace inside it, engine tag)
_VECTOR_STORES: Mapping[str, tuple[str, str, str, tuple[str, ...], str]] = {
    "OPENSEARCH_SERVERLESS": (
        "opensearchServerlessConfiguration",
        "collectionArn",
        "",
        ("vectorIndexName",),
        "opensearch-serverless",
    ),
    "OPENSEARCH_MANAGED_CLUSTER": (
        "opensearchManagedClusterConfiguration",
        "domainArn",
        "domainEndpoint",
        ("vectorIndexName",),
        "opensearch",
    ),
    "PINECONE": (
        "pineconeConfiguration",
        "connectionString",
        "connectionString",
        ("namespace",),
        "pinecone",
    ),
    "REDIS_ENTERPRISE_CLOUD": (
        "redisEnterpriseCloudConfiguration",
        "endpoint",
        "endpoint",
        ("vectorIndexName",),
        "redis-enterprise-cloud",
    ),
    "RDS": (
        "rdsConfiguration",
        "resourceArn",
        "",
        ("databaseName", "tableName"),
        "aurora-postgresql",
    ),
    "MONGO_DB_ATLAS": (
        "mongoDbAtlasConfiguration",
        "endpoint",
        "endpoint",
        ("databaseName", "collectionName", "vectorIndexName"),
        "mongodb-atlas",
    ),
    "NEPTUNE_ANALYTICS": ("neptuneAnalyticsConfiguration", "graphArn", "", (), "neptune-analytics"),
    "S3_VECTORS": ("s3VectorsConfiguration", "vectorBucketArn", "", ("indexName",), "s3-vectors"),
}


class AgentRegion(_Region):
    def discover(self) -> list[str]:
        self.client = self.run.client("bedrock-agent", self.region)
        self.kb_keys: dict[str, str | None] = {}
        for summary in self.run.list_all(self.client, self.region, "ListAgents", "agentSummaries"):
            self.agent(summary)
        # Knowledge bases no agent uses are still in use (RetrieveAndGenerate from an app).
        for kb in self.run.list_all(
            self.client, self.region, "ListKnowledgeBases", "knowledgeBaseSummaries"
        ):
            self.knowledge_base(kb["knowledgeBaseId"])
        return self.keys

    def agent(self, summary: Mapping[str, Any]) -> None:
        agent_id = summary["agentId"]
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:agent/{agent_id}"
        listed = self.where("bedrock-agent:ListAgents")
        key = self.b.add(
            arn,
            call=listed,
            detail=arn,
            asset_type=AssetType.AI_AGENT,
            name=summary.get("agentName"),
            description=summary.get("description"),
            cloud_provider="aws",
            cloud_region=self.region,
            model_provider=BEDROCK_PROVIDER,
            api_endpoint=f"https://bedrock-agent-runtime.{self.region}.amazonaws.com",
            source_id=arn,
            tags=[tag("agent-id", agent_id), tag("status", summary.get("agentStatus", ""))],
        )
        self.keys.append(key)
        got = self.run.call(self.client, self.region, "GetAgent", agentId=agent_id)
        agent = (got or {}).get("agent") or {}
        via = "bedrock-agent:GetAgent"
        if agent:
            instruction = agent.get("instruction")
            self.b.add(
                key,
                call=self.where(via),
                detail=agent.get("agentArn", arn),
                model_name=agent.get("foundationModel"),
                system_prompt_sha256=prompt_fingerprint(instruction) if instruction else None,
                tags=[tag("role", agent["agentResourceRoleArn"])]
                if agent.get("agentResourceRoleArn")
                else [],
            )
            if agent.get("foundationModel"):
                model = self.model_ref(agent["foundationModel"], via=via, arn=arn)
                self.b.edge(key, model, Relation.USES_MODEL)
        guardrail = (agent or summary).get("guardrailConfiguration") or {}
        if guardrail.get("guardrailIdentifier"):
            ident = guardrail["guardrailIdentifier"]
            target = (
                ident
                if ident.startswith("arn:")
                else f"arn:aws:bedrock:{self.region}:{self.account}:guardrail/{ident}"
            )
            self.b.add(
                target,
                call=self.where(via),
                detail=f"used by {arn} (version {guardrail.get('guardrailVersion', '?')})",
                reference=True,
                asset_type=AssetType.GUARDRAIL_CONFIG,
                name=ident,
                cloud_provider="aws",
                cloud_region=self.region,
                source_id=target,
            )
            self.b.edge(key, target, Relation.GUARDED_BY)
        tools = self.action_groups(agent_id, arn, key)
        if tools:
            self.b.add(
                key,
                call=self.where("bedrock-agent:GetAgentActionGroup"),
                detail=arn,
                tools=tuple(tools),
            )
        for link in self.run.list_all(
            self.client,
            self.region,
            "ListAgentKnowledgeBases",
            "agentKnowledgeBaseSummaries",
            agentId=agent_id,
            agentVersion=DRAFT,
        ):
            kb_key = self.knowledge_base(link["knowledgeBaseId"])
            if kb_key:
                self.b.edge(key, kb_key, Relation.RETRIEVES_FROM)

    def action_groups(self, agent_id: str, agent_arn: str, agent_key: str) -> list[AgentTool]:
        tools: list[AgentTool] = []
        summaries = self.run.list_all(
            self.client,
            self.region,
            "ListAgentActionGroups",
            "actionGroupSummaries",
            agentId=agent_id,
            agentVersion=DRAFT,
        )
        for summary in summaries:
            group_id = summary["actionGroupId"]
            name = summary.get("actionGroupName") or group_id
            got = self.run.call(
                self.client,
                self.region,
                "GetAgentActionGroup",
                agentId=agent_id,
                agentVersion=DRAFT,
                actionGroupId=group_id,
            )
            group = (got or {}).get("agentActionGroup") or {}
            executor = group.get("actionGroupExecutor") or {}
            lambda_arn = executor.get("lambda")
            signature = group.get("parentActionSignature", "")
            functions = (group.get("functionSchema") or {}).get("functions") or []
            permissions = _SIGNATURE_PERMISSIONS.get(signature, ())
            tool = AgentTool(
                name=name[:200],
                description=(summary.get("description") or "")[:2000],
                permissions=permissions,
                scopes=tuple(f.get("name", "") for f in functions if f.get("name")),
                requires_approval=bool(functions)
                and all(f.get("requireConfirmation") == "ENABLED" for f in functions),
                server=lambda_arn,
            )
            tools.append(tool)
            tool_key = f"{agent_arn}/action-group/{group_id}"
            executor_kind = (
                "lambda" if lambda_arn else executor.get("customControl", signature or "unknown")
            )
            self.b.add(
                tool_key,
                call=self.where("bedrock-agent:ListAgentActionGroups"),
                detail=tool_key,
                asset_type=AssetType.TOOL,
                name=name,
                description=summary.get("description"),
                cloud_provider="aws",
                cloud_region=self.region,
                source_id=tool_key,
                tags=[
                    tag("state", summary.get("actionGroupState", "")),
                    tag("executor", executor_kind),
                    *([tag("lambda", lambda_arn)] if lambda_arn else []),
                ],
            )
            self.keys.append(tool_key)
            self.b.edge(agent_key, tool_key, Relation.USES_TOOL)
        return tools

    def knowledge_base(self, kb_id: str) -> str | None:
        if kb_id in self.kb_keys:
            return self.kb_keys[kb_id]
        got = self.run.call(self.client, self.region, "GetKnowledgeBase", knowledgeBaseId=kb_id)
        kb = (got or {}).get("knowledgeBase")
        arn = (kb or {}).get(
            "knowledgeBaseArn",
            f"arn:aws:bedrock:{self.region}:{self.account}:knowledge-base/{kb_id}",
        )
        via = self.where("bedrock-agent:GetKnowledgeBase")
        self.kb_keys[kb_id] = key = self.b.add(
            arn,
            call=via,
            detail=arn,
            reference=kb is None,
            asset_type=AssetType.KNOWLEDGE_BASE,
            name=(kb or {}).get("name") or kb_id,
            description=(kb or {}).get("description"),
            cloud_provider="aws",
            cloud_region=self.region,
            source_id=arn,
            tags=[tag("knowledge-base-id", kb_id)],
        )
        self.keys.append(key)
        if kb is None:
            return key
        config = kb.get("knowledgeBaseConfiguration") or {}
        embedding = (config.get("vectorKnowledgeBaseConfiguration") or {}).get("embeddingModelArn")
        if embedding:
            model = self.model_ref(
                embedding,
                via="bedrock-agent:GetKnowledgeBase",
                arn=arn,
                as_type=AssetType.EMBEDDING_MODEL,
            )
            self.b.edge(key, model, Relation.EMBEDS_WITH)
        storage = kb.get("storageConfiguration") or {}
        self.vector_store(key, arn, storage)
        return key

    def vector_store(self, kb_key: str, kb_arn: str, storage: Mapping[str, Any]) -> None:
        kind = storage.get("type", "")
        spec = _VECTOR_STORES.get(kind)
        if spec is None:
            if kind:
                self.b.add(
                    kb_key,
                    call=self.where("bedrock-agent:GetKnowledgeBase"),
                    tags=[tag("storage", kind)],
                )
            return
        config_key, id_field, endpoint_field, namespace_fields, engine = spec
        config = storage.get(config_key) or {}
        ident = config.get(id_field)
        if not ident:
            return
        namespace = "/".join(str(config[f]) for f in namespace_fields if config.get(f))
        via = self.where("bedrock-agent:GetKnowledgeBase")
        store = self.b.add(
            ident,
            call=via,
            detail=f"vector store of {kb_arn}",
            asset_type=AssetType.VECTOR_DATABASE,
            name=_arn_resource(ident)[1] if ident.startswith("arn:") else ident,
            cloud_provider="aws",
            cloud_region=_arn_region(ident) or self.region,
            api_endpoint=config.get(endpoint_field) if endpoint_field else None,
            source_id=ident,
            tags=[tag("engine", engine)],
        )
        if namespace:
            # Several KBs can share one store with different indexes: keep all of them.
            previous = self.b.value(store, "vector_namespaces") or ()
            names = {n.name for n in previous}
            if namespace not in names:
                self.b.add(
                    store,
                    call=via,
                    detail=f"vector store of {kb_arn}",
                    vector_namespaces=(*previous, VectorNamespace(name=namespace)),
                )
        self.keys.append(store)
        self.b.edge(kb_key, store, Relation.STORES_IN)
        secret = config.get("credentialsSecretArn")
        if secret:
            key_asset = self.b.add(
                secret,
                call=via,
                detail=f"credentials of the vector store of {kb_arn}",
                asset_type=AssetType.API_KEY,
                name=f"{engine} credentials",
                cloud_provider="aws",
                cloud_region=_arn_region(secret) or self.region,
                source_id=secret,
                api_key=ApiKeyRef(location=KeyLocation.AWS_SECRETS_MANAGER, reference=secret),
            )
            self.b.edge(store, key_asset, Relation.AUTHENTICATES_WITH)


# --- SageMaker ------------------------------------------------------------------------------------


class SageMakerRegion(_Region):
    def discover(self) -> None:
        self.client = self.run.client("sagemaker", self.region)
        self.models: dict[str, str | None] = {}
        for summary in self.run.list_all(self.client, self.region, "ListEndpoints", "Endpoints"):
            self.endpoint(summary)
        for summary in self.run.list_all(self.client, self.region, "ListModels", "Models"):
            self.model(summary["ModelName"])

    def endpoint(self, summary: Mapping[str, Any]) -> None:
        name = summary["EndpointName"]
        arn = summary["EndpointArn"]
        key = self.b.add(
            arn,
            call=self.where("sagemaker:ListEndpoints"),
            detail=arn,
            asset_type=AssetType.API_ENDPOINT,
            name=name,
            model_provider=SAGEMAKER_PROVIDER,
            is_self_hosted=True,
            cloud_provider="aws",
            cloud_region=self.region,
            api_endpoint=(
                f"https://runtime.sagemaker.{self.region}.amazonaws.com/endpoints/{name}/invocations"
            ),
            source_id=arn,
            tags=[tag("status", summary.get("EndpointStatus", "")), tag("endpoint", name)],
        )
        described = self.run.call(self.client, self.region, "DescribeEndpoint", EndpointName=name)
        if described is None or not described.get("EndpointConfigName"):
            return
        config_name = described["EndpointConfigName"]
        config = self.run.call(
            self.client, self.region, "DescribeEndpointConfig", EndpointConfigName=config_name
        )
        if config is None:
            return
        via = self.where("sagemaker:DescribeEndpointConfig")
        capture = (config.get("DataCaptureConfig") or {}).get("EnableCapture")
        tags = [
            tag("endpoint-config", config_name),
            tag("data-capture", "on" if capture else "off"),
        ]
        model_names = []
        for variant in config.get("ProductionVariants", []):
            tags.append(tag("variant", variant.get("VariantName", "")))
            if variant.get("InstanceType"):
                tags.append(tag("instance-type", variant["InstanceType"]))
            if variant.get("ServerlessConfig"):
                tags.append("serverless")
            model_name = variant.get("ModelName")
            if model_name:
                model_key = self.model(model_name)
                if model_key:
                    model_names.append(model_name)
                    self.b.edge(key, model_key, Relation.USES_MODEL)
        if config.get("KmsKeyId"):
            tags.append("encryption:customer-managed-key")
        self.b.add(
            key,
            call=via,
            detail=config.get("EndpointConfigArn", arn),
            model_name=next(
                (self.b.value(self.models[m] or "", "model_name") for m in model_names), None
            ),
            tags=tags,
        )

    def model(self, name: str) -> str | None:
        if name in self.models:
            return self.models[name]
        described = self.run.call(self.client, self.region, "DescribeModel", ModelName=name)
        if described is None:
            self.models[name] = None
            return None
        arn = described["ModelArn"]
        containers = [described["PrimaryContainer"]] if described.get("PrimaryContainer") else []
        containers += described.get("Containers", [])
        served = None
        secrets: list[str] = []
        images = []
        for container in containers:
            env = container.get("Environment") or {}
            served = served or next((env[v] for v in _MODEL_ENV if env.get(v)), None)
            secrets += [v for v in env if _SECRET_ENV.search(v)]
            if container.get("Image"):
                images.append(container["Image"])
            served = served or container.get("ModelPackageName")
        tags = [tag("image", i) for i in images[:3]]
        # The names only: a plaintext token in a container's environment is a finding, and
        # its value never leaves this function.
        tags += [tag("secret-in-container-env", v) for v in sorted(set(secrets))]
        if described.get("EnableNetworkIsolation"):
            tags.append("network-isolation:on")
        artifacts = next((c.get("ModelDataUrl") for c in containers if c.get("ModelDataUrl")), None)
        self.models[name] = key = self.b.add(
            arn,
            call=self.where("sagemaker:DescribeModel"),
            detail=arn,
            asset_type=AssetType.FOUNDATION_MODEL,
            name=name,
            model_name=served or name,
            model_provider=SAGEMAKER_PROVIDER,
            is_self_hosted=True,
            source_url=artifacts,
            cloud_provider="aws",
            cloud_region=self.region,
            source_id=arn,
            tags=tags,
        )
        return key
