"""Azure discovery: Azure OpenAI and AI Services accounts and the model deployments in them.

Per subscription: every Cognitive Services account of kind ``OpenAI`` or ``AIServices`` (paged
through ``nextLink`` by the SDK), and each account's deployments. What a security review needs is
recorded on the assets: the model, version, SKU and capacity of each deployment, the endpoint,
public network access and network ACLs, and whether key (local) authentication is enabled; keys are
a credential anyone can copy, so ``local-auth:enabled`` is a gap. Keys are never fetched.

Each deployment's content filter (``raiPolicyName``) becomes a guardrail asset upstream of it, so
the "public without guardrail" gap rule sees it. A denied or failed call (a 403 on one account) is a
``CallFailure`` and makes the run incomplete; the other accounts are still recorded.

The SDK (``garrison[azure]``: azure-mgmt-cognitiveservices, azure-identity) is imported only when a
run starts. Tests and the sample replace its HTTP transport with a fake (``transport=``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import CallFailure, DiscoveryResult
from garrison.inventory.discovery.cloud import ResultBuilder, require_sdk, tag
from garrison.inventory.models import AssetType, Exposure, Relation

SOURCE = "azure"
PROVIDER = "azure_openai"
KINDS = frozenset({"OpenAI", "AIServices"})
DENIED_STATUS = frozenset({401, 403})


def _resource_group(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def exposure_of(properties: Any) -> tuple[Exposure, list[str]]:
    """How reachable an account is, and the tags that say why."""
    access = getattr(properties, "public_network_access", None) or "Enabled"
    acls = getattr(properties, "network_acls", None)
    default = getattr(acls, "default_action", None) or "Allow"
    ip_rules = list(getattr(acls, "ip_rules", None) or [])
    vnet_rules = list(getattr(acls, "virtual_network_rules", None) or [])
    private = list(getattr(properties, "private_endpoint_connections", None) or [])
    tags = [
        tag("public-network-access", access.lower()),
        tag("network-acl-default", default.lower()),
    ]
    if ip_rules:
        tags.append(tag("ip-rules", len(ip_rules)))
    if vnet_rules:
        tags.append(tag("vnet-rules", len(vnet_rules)))
    if private:
        tags.append(tag("private-endpoints", len(private)))
    if access.lower() == "disabled":
        return Exposure.VPC, tags
    if default.lower() == "deny" and not ip_rules:
        return Exposure.VPC, tags
    # Open to the internet, or to the listed addresses of it: either way reachable from outside.
    return Exposure.PUBLIC, tags


class AzureDiscovery:
    """One discovery run over ``subscriptions``."""

    def __init__(
        self,
        subscriptions: Sequence[str],
        *,
        credential: Any = None,
        transport: Any = None,
        org: str | None = None,
        retry_total: int | None = None,
    ) -> None:
        if not subscriptions:
            raise GarrisonError("no Azure subscription to discover", hint="pass --subscription ID")
        self.subscriptions = sorted(set(subscriptions))
        self._sdk = require_sdk("azure.mgmt.cognitiveservices", "azure")
        self._errors = require_sdk("azure.core.exceptions", "azure")
        self.credential = credential if credential is not None else self._default_credential()
        self.transport = transport
        self.retry_total = retry_total
        self.builder = ResultBuilder(SOURCE, f"azure:{','.join(self.subscriptions)}", org)

    @staticmethod
    def _default_credential() -> Any:
        identity = require_sdk("azure.identity", "azure")
        return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)

    def _client(self, subscription: str) -> Any:
        kwargs: dict[str, Any] = {}
        if self.transport is not None:
            kwargs["transport"] = self.transport
        if self.retry_total is not None:
            kwargs["retry_total"] = self.retry_total
        return self._sdk.CognitiveServicesManagementClient(
            credential=self.credential, subscription_id=subscription, **kwargs
        )

    def _failure(self, exc: Exception, operation: str, target: str) -> CallFailure:
        unavailable = require_sdk("azure.identity", "azure").CredentialUnavailableError
        if isinstance(exc, unavailable):
            raise GarrisonError(
                f"no Azure credentials: {exc}",
                hint="run 'az login', or set AZURE_CLIENT_ID / AZURE_TENANT_ID / "
                "AZURE_CLIENT_SECRET, or use a managed identity",
            ) from exc
        status = getattr(exc, "status_code", None)
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or (f"HTTP {status}" if status else type(exc).__name__)
        message = getattr(error, "message", None) or str(exc).splitlines()[0]
        if status == 429:
            message = f"throttled; gave up after the SDK's retries: {message}"
        return CallFailure(operation, message, target, str(code), status in DENIED_STATUS)

    def _each(self, pages: Iterable[Any], operation: str, target: str) -> Iterator[Any]:
        """Iterate an SDK pager; a failure on any page is recorded and ends the iteration."""
        try:
            yield from pages
        except self._errors.AzureError as exc:
            self.builder.fail(self._failure(exc, operation, target))

    def run(self) -> DiscoveryResult:
        for subscription in self.subscriptions:
            client = self._client(subscription)
            try:
                where = f"/subscriptions/{subscription}"
                for account in self._each(client.accounts.list(), "accounts.list", where):
                    if account.kind in KINDS:
                        self.account(client, subscription, account)
            finally:
                client.close()
        return self.builder.result()

    def account(self, client: Any, subscription: str, account: Any) -> None:
        props = account.properties
        resource_group = _resource_group(account.id)
        exposure, network_tags = exposure_of(props)
        local_auth = "disabled" if getattr(props, "disable_local_auth", False) else "enabled"
        endpoint = getattr(props, "endpoint", None)
        shared_tags = [
            tag("local-auth", local_auth),
            tag("resource-group", resource_group),
            tag("subscription", subscription),
            *network_tags,
        ]
        call = f"azure {subscription} accounts.list"
        key = self.builder.add(
            account.id,
            call=call,
            detail=account.id,
            asset_type=AssetType.API_ENDPOINT,
            name=account.name,
            description=f"Azure {account.kind} account",
            model_provider=PROVIDER,
            cloud_provider="azure",
            cloud_region=account.location,
            api_endpoint=endpoint,
            exposure=exposure,
            source_id=account.id,
            tags=[
                tag("kind", account.kind),
                *([tag("sku", account.sku.name)] if account.sku else []),
                *(
                    [tag("custom-subdomain", props.custom_sub_domain_name)]
                    if props.custom_sub_domain_name
                    else []
                ),
                *shared_tags,
            ],
        )
        listed = client.deployments.list(
            resource_group_name=resource_group, account_name=account.name
        )
        for deployment in self._each(listed, "deployments.list", account.id):
            self.deployment(subscription, account, key, deployment, endpoint, exposure, shared_tags)

    def deployment(  # noqa: PLR0917 - one call site, every argument is needed
        self,
        subscription: str,
        account: Any,
        account_key: str,
        deployment: Any,
        endpoint: str | None,
        exposure: Exposure,
        shared_tags: list[str],
    ) -> None:
        props = deployment.properties
        model = getattr(props, "model", None)
        model_name = getattr(model, "name", None)
        sku = deployment.sku
        tags = [tag("deployment", deployment.name), tag("account", account.name), *shared_tags]
        if sku is not None:
            tags.append(tag("sku", sku.name))
            if sku.capacity is not None:
                tags.append(tag("capacity", sku.capacity))
        if model is not None and model.format:
            tags.append(tag("format", model.format))
        if props.version_upgrade_option:
            tags.append(tag("version-upgrade", props.version_upgrade_option))
        kind = AssetType.FOUNDATION_MODEL
        if model_name and ".ft-" in model_name:
            kind = AssetType.FINE_TUNED_MODEL
        elif model_name and "embedding" in model_name:
            kind = AssetType.EMBEDDING_MODEL
        key = self.builder.add(
            deployment.id,
            call=f"azure {subscription} deployments.list",
            detail=deployment.id,
            asset_type=kind,
            name=deployment.name,
            model_name=model_name,
            model_version=getattr(model, "version", None),
            model_provider=PROVIDER,
            cloud_provider="azure",
            cloud_region=account.location,
            api_endpoint=f"{endpoint.rstrip('/')}/openai/deployments/{deployment.name}"
            if endpoint
            else None,
            exposure=exposure,
            source_id=deployment.id,
            tags=tags,
        )
        self.builder.edge(key, account_key, Relation.SERVED_BY)
        policy = props.rai_policy_name
        if policy:
            policy_id = f"{account.id}/raiPolicies/{policy}"
            self.builder.add(
                policy_id,
                call=f"azure {subscription} deployments.list",
                detail=f"content filter of {deployment.id}",
                asset_type=AssetType.GUARDRAIL_CONFIG,
                name=f"{account.name}/{policy}",
                description="Azure OpenAI content filter (RAI policy)",
                cloud_provider="azure",
                cloud_region=account.location,
                source_id=policy_id,
                tags=[tag("account", account.name)],
            )
            self.builder.edge(key, policy_id, Relation.GUARDED_BY)
