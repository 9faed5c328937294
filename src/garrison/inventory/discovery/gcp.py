"""GCP discovery: Vertex AI models and endpoints (public, private and Private Service Connect).

Per location of one project: every model in the Model Registry and every endpoint with the models
deployed on it, through Vertex AI's REST API (``{location}-aiplatform.googleapis.com/v1``), each
list paged through ``nextPageToken`` to the end. A denied location (403) or any failed call is a
``CallFailure`` and makes the run incomplete; the other locations are still recorded.

Why REST over httpx with google-auth rather than google-cloud-aiplatform: we make four read-only
list calls; the aiplatform package pulls in storage, BigQuery, resource manager and protobuf
clients for them, while httpx is already a Garrison dependency and google-auth is the small,
maintained library every Google client uses for Application Default Credentials. It also lets the
tests point the source at a real HTTP server on loopback (``api_root=``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import CallFailure, DiscoveryResult
from garrison.inventory.discovery.cloud import ResultBuilder, require_sdk, tag
from garrison.inventory.models import AssetType, Exposure, Relation

SOURCE = "gcp"
PROVIDER = "gcp_vertex"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DENIED_STATUS = frozenset({401, 403})
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
CUSTOM_SOURCES = frozenset({"CUSTOM", "AUTOML", "BQML", "GENIE"})


def adc_token() -> Callable[[], str]:
    """A token source from Application Default Credentials (refreshed when it expires)."""
    auth = require_sdk("google.auth", "gcp")
    transport = require_sdk("google.auth.transport.requests", "gcp")
    exceptions = require_sdk("google.auth.exceptions", "gcp")
    try:
        credentials, _ = auth.default(scopes=[SCOPE])
    except exceptions.DefaultCredentialsError as exc:
        raise GarrisonError(
            f"no Google Cloud credentials: {exc}",
            hint="run 'gcloud auth application-default login' or set "
            "GOOGLE_APPLICATION_CREDENTIALS",
        ) from exc

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(transport.Request())
        return str(credentials.token)

    return token


class _CallFailed(Exception):
    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class VertexDiscovery:
    """One discovery run over ``locations`` of ``project``."""

    def __init__(
        self,
        project: str,
        locations: Sequence[str],
        *,
        token: Callable[[], str] | None = None,
        api_root: str | None = None,
        org: str | None = None,
        max_attempts: int = 4,
        backoff: float = 1.0,
        page_size: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not locations:
            raise GarrisonError("no Vertex AI location to discover", hint="pass --location")
        self.project = project
        self.locations = sorted(set(locations))
        self.token = token if token is not None else adc_token()
        self.api_root = api_root.rstrip("/") if api_root else None
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.page_size = page_size
        self.http = httpx.Client(timeout=30, transport=transport)
        self.builder = ResultBuilder(SOURCE, f"gcp:{project}:{','.join(self.locations)}", org)

    def root(self, location: str) -> str:
        return self.api_root or f"https://{location}-aiplatform.googleapis.com"

    # --- HTTP -------------------------------------------------------------------------------------

    def _get(self, url: str, params: Mapping[str, str], operation: str, target: str) -> Any:
        """GET with bounded retries on throttling and server errors (Retry-After honoured)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.http.get(
                    url, params=params, headers={"Authorization": f"Bearer {self.token()}"}
                )
            except httpx.HTTPError as exc:
                if attempt == self.max_attempts:
                    raise _CallFailed(
                        CallFailure(operation, str(exc), target, type(exc).__name__)
                    ) from exc
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code in RETRY_STATUS and attempt < self.max_attempts:
                delay = response.headers.get("Retry-After", "")
                time.sleep(float(delay) if delay.isdigit() else self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code >= 400:
                raise _CallFailed(self._failure(response, operation, target, attempt))
            return response.json()
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _failure(
        response: httpx.Response, operation: str, target: str, attempts: int
    ) -> CallFailure:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = str(error.get("status") or f"HTTP {response.status_code}")
        message = str(error.get("message") or response.reason_phrase)
        if response.status_code == 429:
            message = f"throttled; gave up after {attempts} attempt(s): {message}"
        return CallFailure(operation, message, target, code, response.status_code in DENIED_STATUS)

    def list_all(self, location: str, collection: str, key: str) -> Iterator[dict[str, Any]]:
        """Every item of ``projects/P/locations/L/<collection>``, page by page. A failure is
        recorded and ends the listing."""
        parent = f"projects/{self.project}/locations/{location}"
        url = f"{self.root(location)}/v1/{parent}/{collection}"
        operation = f"aiplatform:{collection}.list"
        params: dict[str, str] = {}
        if self.page_size:
            params["pageSize"] = str(self.page_size)
        seen: set[str] = set()
        try:
            while True:
                page = self._get(url, params, operation, parent)
                yield from page.get(key, [])
                token = page.get("nextPageToken")
                if not token:
                    return
                if token in seen:
                    raise _CallFailed(
                        CallFailure(operation, f"page token {token!r} repeated", parent, "Loop")
                    )
                seen.add(token)
                params["pageToken"] = token
        except _CallFailed as failed:
            self.builder.fail(failed.failure)

    # --- the run ----------------------------------------------------------------------------------

    def run(self) -> DiscoveryResult:
        try:
            for location in self.locations:
                for model in self.list_all(location, "models", "models"):
                    self.model(location, model)
                for endpoint in self.list_all(location, "endpoints", "endpoints"):
                    self.endpoint(location, endpoint)
        finally:
            self.http.close()
        return self.builder.result()

    def _call(self, location: str, what: str) -> str:
        return f"gcp {self.project} {location} aiplatform:{what}.list"

    def model(self, location: str, model: Mapping[str, Any], *, reference: bool = False) -> str:
        name = model["name"]
        source_type = (model.get("modelSourceInfo") or {}).get("sourceType", "")
        garden = ((model.get("baseModelSource") or {}).get("modelGardenSource") or {}).get(
            "publicModelName"
        )
        container = model.get("containerSpec") or {}
        tags = [tag("model-id", name.rsplit("/", 1)[-1])]
        if source_type:
            tags.append(tag("source-type", source_type))
        if container.get("imageUri"):
            tags.append(tag("image", container["imageUri"]))
        tags += [tag("label", f"{k}={v}") for k, v in sorted((model.get("labels") or {}).items())]
        return self.builder.add(
            name,
            call=self._call(location, "models"),
            detail=name,
            reference=reference,
            asset_type=AssetType.FINE_TUNED_MODEL
            if source_type in CUSTOM_SOURCES
            else AssetType.FOUNDATION_MODEL,
            name=model.get("displayName") or name.rsplit("/", 1)[-1],
            description=model.get("description"),
            model_name=garden or model.get("displayName"),
            model_version=model.get("versionId"),
            model_provider=PROVIDER,
            is_self_hosted=True,
            source_url=model.get("artifactUri"),
            cloud_provider="gcp",
            cloud_region=location,
            source_id=name,
            tags=tags,
        )

    def endpoint(self, location: str, endpoint: Mapping[str, Any]) -> None:
        name = endpoint["name"]
        psc = (endpoint.get("privateServiceConnectConfig") or {}).get("enablePrivateServiceConnect")
        network = endpoint.get("network")
        logging = (endpoint.get("predictRequestResponseLoggingConfig") or {}).get("enabled")
        tags = [
            tag("endpoint-id", name.rsplit("/", 1)[-1]),
            tag("request-response-logging", "on" if logging else "off"),
        ]
        # The public address, not ``api_root``: a test server's port must not change the asset.
        api = f"https://{location}-aiplatform.googleapis.com/v1/{name}:predict"
        if psc:
            tags.append("private-service-connect")
            exposure = Exposure.VPC
        elif network:
            tags.append(tag("private-endpoint-network", network))
            exposure = Exposure.VPC
        else:
            exposure = Exposure.PUBLIC
        if endpoint.get("dedicatedEndpointEnabled") and endpoint.get("dedicatedEndpointDns"):
            api = f"https://{endpoint['dedicatedEndpointDns']}/v1/{name}:predict"
            tags.append("dedicated-endpoint")
        if (endpoint.get("encryptionSpec") or {}).get("kmsKeyName"):
            tags.append("encryption:customer-managed-key")
        deployed = endpoint.get("deployedModels") or []
        key = self.builder.add(
            name,
            call=self._call(location, "endpoints"),
            detail=name,
            asset_type=AssetType.API_ENDPOINT,
            name=endpoint.get("displayName") or name.rsplit("/", 1)[-1],
            description=endpoint.get("description"),
            model_provider=PROVIDER,
            cloud_provider="gcp",
            cloud_region=location,
            api_endpoint=api,
            exposure=exposure,
            source_id=name,
            tags=tags,
        )
        split = endpoint.get("trafficSplit") or {}
        for item in deployed:
            model_name = item.get("model")
            if not model_name:
                continue
            target = self.model(
                location,
                {"name": model_name, "versionId": item.get("modelVersionId")},
                reference=True,
            )
            resources = item.get("dedicatedResources") or {}
            machine = (resources.get("machineSpec") or {}).get("machineType")
            private = (item.get("privateEndpoints") or {}).get("predictHttpUri")
            extra = [tag("deployed-model", item.get("displayName") or item.get("id", ""))]
            if machine:
                extra.append(tag("machine-type", machine))
            if item.get("id") in split:
                extra.append(tag("traffic", f"{item['id']}={split[item['id']]}%"))
            self.builder.add(
                key,
                call=self._call(location, "endpoints"),
                detail=name,
                api_endpoint=private,
                model_name=self.builder.value(target, "model_name"),
                tags=extra,
            )
            self.builder.edge(key, target, Relation.USES_MODEL)
