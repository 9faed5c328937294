"""What the AWS, Azure and GCP sources share: optional SDKs, a result builder, and offline fakes.

* ``require_sdk``: the cloud SDKs are optional extras. Nothing here or in the sources imports them
  at module load, so ``import garrison`` never needs them; a missing one is a ``MissingExtraError``
  that names the extra to install.
* ``ResultBuilder``: several API calls describe one asset (a list call, then a get call; a base
  model is referenced by a custom model *and* by an agent). The builder merges what each call
  says, keeps one ``Evidence`` per call with the attributes it supports, and turns a cloud value
  the inventory refuses (a name too long, a value shaped like a key) into a reported failure.
* The fakes (``CannedAws``, ``CannedAzureTransport``, ``FakeVertexServer``) replay canned API
  responses at each SDK's lowest layer (botocore's ``before-send`` hook, azure-core's transport, a
  real HTTP server on loopback), so retries, paging and error parsing run as they would against the
  cloud. The tests use them, and ``load_sample_cloud_results`` uses them to "discover" the sample
  estate under ``examples/estate/cloud`` offline for the demo.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import ValidationError

from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import (
    CallFailure,
    DiscoveredAsset,
    DiscoveredEdge,
    DiscoveryResult,
)
from garrison.inventory.models import AssetSpec, Confidence, Evidence, Relation

EXTRAS = {"aws": "boto3", "azure": "azure-mgmt-cognitiveservices", "gcp": "google-auth"}
TAG_LIMIT = 100


class MissingExtraError(GarrisonError):
    """A cloud source needs an SDK that is an optional extra and is not installed."""


def require_sdk(module: str, extra: str) -> ModuleType:
    """Import ``module`` of the ``extra`` SDK, or say which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"the {extra} discovery source needs the {EXTRAS.get(extra, extra)} SDK "
            f"(could not import {module}: {exc})",
            hint=f"pip install 'garrison[{extra}]'",
        ) from exc


def tag(name: str, value: object) -> str:
    """A ``name:value`` tag, cut to the inventory's tag length."""
    text = f"{name}:{value}"
    return text if len(text) <= TAG_LIMIT else text[: TAG_LIMIT - 1] + "…"


# --- building a result ----------------------------------------------------------------------------


@dataclass
class _Draft:
    fields: dict[str, Any]
    evidence: dict[str, Evidence]
    tags: set[str]


@dataclass
class ResultBuilder:
    """Collects the assets, edges and failures of one run, and makes its ``DiscoveryResult``."""

    source: str
    scope: str
    org: str | None = None
    _drafts: dict[str, _Draft] = field(default_factory=dict)
    _edges: dict[tuple[str, str, Relation], None] = field(default_factory=dict)
    errors: list[CallFailure] = field(default_factory=list)

    def add(
        self,
        key: str,
        *,
        call: str,
        detail: str = "",
        reference: bool = False,
        tags: Iterable[str] = (),
        **fields: Any,
    ) -> str:
        """Record what ``call`` said about asset ``key``; returns ``key`` for edges.

        A ``reference`` (an asset seen only as the target of another one, like the base model of a
        custom model) fills attributes that nothing better has set, and never overrides them.
        """
        values = {k: v for k, v in fields.items() if v is not None and v != ""}
        draft = self._drafts.get(key)
        if draft is None:
            draft = self._drafts[key] = _Draft({}, {}, set())
        for name, value in values.items():
            if reference:
                draft.fields.setdefault(name, value)
            else:
                draft.fields[name] = value
        draft.tags.update(t for t in tags if t)
        supported = tuple(sorted(set(values) | ({"tags"} if tags else set())))
        old = draft.evidence.get(call)
        if old is not None:
            supported = tuple(sorted(set(old.attributes) | set(supported)))
        draft.evidence[call] = Evidence(
            location=call,
            confidence=Confidence.DECLARED,
            attributes=supported,
            detail=detail[:2000],
        )
        return key

    def tag_all(self, keys: Iterable[str], *tags: str, call: str) -> None:
        """Tag assets ``keys`` with a setting that ``call`` read and that applies to all of them."""
        for key in dict.fromkeys(keys):
            if key in self._drafts:
                self.add(key, call=call, detail=key, tags=tags)

    def has(self, key: str) -> bool:
        return key in self._drafts

    def value(self, key: str, name: str) -> Any:
        """What has been recorded so far for attribute ``name`` of asset ``key`` (or None)."""
        draft = self._drafts.get(key)
        return None if draft is None else draft.fields.get(name)

    def edge(self, asset_key: str, target: str, relation: Relation) -> None:
        self._edges[(asset_key, target, relation)] = None

    def fail(self, failure: CallFailure) -> None:
        self.errors.append(failure)

    def result(self) -> DiscoveryResult:
        assets: list[DiscoveredAsset] = []
        for key, draft in self._drafts.items():
            values = dict(draft.fields)
            if draft.tags:
                values["tags"] = tuple(sorted(draft.tags))
            try:
                spec = AssetSpec.model_validate(values)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                self.fail(
                    CallFailure(
                        operation=f"record {values.get('asset_type', 'asset')}",
                        message=f"the inventory refused {where}: {first['msg']}",
                        target=key,
                        code="InvalidAttribute",
                    )
                )
                continue
            evidence = tuple(
                e.model_copy(update={"attributes": tuple(a for a in e.attributes if a in values)})
                for e in draft.evidence.values()
            )
            assets.append(DiscoveredAsset(spec=spec, evidence=evidence, key=key))
        known = {a.key for a in assets}
        edges = [
            DiscoveredEdge(asset_key=a, target=t, relation=r)
            for (a, t, r) in self._edges
            if a in known
        ]
        return DiscoveryResult(
            source=self.source,
            scope=self.scope,
            org=self.org,
            assets=assets,
            edges=edges,
            errors=list(self.errors),
            complete=not self.errors,
        )


# --- AWS: canned responses at botocore's HTTP layer -----------------------------------------------

_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d+)\.amazonaws\.com")


@dataclass
class CannedRoute:
    """One canned answer. ``match`` (if set) must occur in the decoded URL or body, which is how a
    page is chosen by its ``nextToken`` and a get call by its identifier. ``times`` limits how often
    the route answers (then the next matching route does), which is how a throttled call that
    succeeds on retry is modelled."""

    service: str
    operation: str
    body: Any
    region: str = "*"
    match: str | None = None
    status: int = 200
    times: int | None = None
    served: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CannedRoute:
        return cls(
            service=data["service"],
            operation=data["operation"],
            body=data.get("body", {}),
            region=data.get("region", "*"),
            match=data.get("match"),
            status=int(data.get("status", 200)),
            times=data.get("times"),
        )

    def answers(self, service: str, operation: str, region: str, text: str) -> bool:
        return (
            self.service == service
            and self.operation in (operation, "*")
            and self.region in (region, "*")
            and (self.match is None or self.match in text)
            and (self.times is None or self.served < self.times)
        )


def aws_error(service: str, operation: str, code: str, message: str, **kw: Any) -> CannedRoute:
    """A canned AWS error (``AccessDeniedException``, ``ThrottlingException``, …)."""
    status = 400 if "Throttl" in code else 403 if "AccessDenied" in code else 500
    return CannedRoute(
        service, operation, {"__type": code, "message": message}, status=status, **kw
    )


@dataclass
class CannedAws:
    """Answers botocore requests from ``routes``; records every request it saw in ``calls``.

    ``strict``: a request no route answers gets an error response instead of going on to the
    network. Not strict, only the operations some route names are answered (an unmatched page of
    one is an error); the rest go on to moto, which the tests put behind this for the calls it
    has. botocore offers every ``before-send`` handler the request, so moto must be told to let
    the canned operations pass (its ``core.passthrough.urls`` setting).
    """

    routes: list[CannedRoute]
    strict: bool = True
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def install(self, session: Any) -> Any:
        """Hook into a ``boto3.Session`` (before any client is made from it); returns it."""
        session.events.register_first("before-send", self._send)
        return session

    def _send(self, request: Any, event_name: str, **_: Any) -> Any:
        response_class: Any = require_sdk("botocore.awsrequest", "aws").AWSResponse
        service, operation = event_name.split(".", 2)[1:]
        found = _REGION_IN_HOST.search(urlsplit(request.url).netloc + ".amazonaws.com")
        region = found.group(1) if found else ""
        sent = request.body or b""
        text = unquote(request.url) + " " + (sent.decode() if isinstance(sent, bytes) else sent)
        self.calls.append((service, operation, region))
        # The most specific route wins: one for this page or resource, then one for this region.
        ordered = sorted(self.routes, key=lambda r: (r.match is None, r.region == "*"))
        route = next((r for r in ordered if r.answers(service, operation, region, text)), None)
        if route is None:
            owned = any(r.service == service and r.operation == operation for r in self.routes)
            if not (self.strict or owned):
                return None
            route = CannedRoute(
                service,
                operation,
                {"__type": "NotCanned", "message": f"no canned response for {operation}"},
                status=501,
            )
        route.served += 1
        payload = json.dumps(route.body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "canned"}
        if route.status >= 300 and isinstance(route.body, dict) and "__type" in route.body:
            headers["x-amzn-ErrorType"] = route.body["__type"]
        return response_class(request.url, route.status, headers, _Raw(payload))


class _Raw:
    """The smallest raw body botocore's ``AWSResponse`` reads from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


# --- Azure: a fake azure-core transport -----------------------------------------------------------


def _azure_route_key(method: str, url: str) -> str:
    parts = urlsplit(url)
    skip = parse_qs(parts.query).get("$skiptoken", [""])[0]
    key = f"{method.upper()} {unquote(parts.path).rstrip('/').lower()}"
    return f"{key}?$skiptoken={skip}" if skip else key


def make_azure_transport(responses: Mapping[str, Mapping[str, Any]]) -> Any:
    """An azure-core ``HttpTransport`` answering from ``responses``.

    Keys are ``"GET /subscriptions/…/accounts"`` (path without query, case-insensitive), plus
    ``?$skiptoken=T`` for a ``nextLink`` page; values are ``{"status": 200, "body": {...}}``.
    Everything else is a 404 in ARM's error shape. ``transport.calls`` lists what was asked.
    """
    require_sdk("azure.core", "azure")
    from azure.core.pipeline.transport import HttpTransport, RequestsTransportResponse
    from requests import Response

    table = {_azure_route_key(*k.split(" ", 1)): v for k, v in responses.items()}

    class CannedAzureTransport(HttpTransport):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.calls: list[str] = []

        def send(self, request: Any, **_: Any) -> Any:
            key = _azure_route_key(request.method, request.url)
            self.calls.append(key)
            answer = table.get(key) or {
                "status": 404,
                "body": {"error": {"code": "ResourceNotFound", "message": f"not canned: {key}"}},
            }
            response = Response()
            response.status_code = int(answer.get("status", 200))
            response._content = json.dumps(answer.get("body", {})).encode()
            response.headers["Content-Type"] = "application/json"
            response.url = request.url
            return RequestsTransportResponse(request, response)

        def open(self) -> None:
            return None

        def close(self) -> None:
            return None

        def __enter__(self) -> CannedAzureTransport:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    return CannedAzureTransport()


class FakeAzureCredential:
    """A token credential for tests and the sample: the fake transport never checks it."""

    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", 4_102_444_800)


# --- GCP: a fake Vertex AI REST server on loopback ------------------------------------------------


class FakeVertexServer:
    """A real HTTP server on 127.0.0.1 serving Vertex AI REST responses from ``routes``.

    Keys are request paths (``/v1/projects/p/locations/l/endpoints``) plus ``?pageToken=T`` for a
    later page; values are ``{"status": 200, "body": {...}}``. Unknown paths get a 404 in Google's
    error shape. ``requests`` lists the paths asked for. Use as a context manager.
    """

    def __init__(self, routes: Mapping[str, Mapping[str, Any]]) -> None:
        self.routes = dict(routes)
        self.requests: list[str] = []
        self.auth_headers: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                token = parse_qs(parts.query).get("pageToken", [""])[0]
                key = f"{parts.path}?pageToken={token}" if token else parts.path
                server.requests.append(key)
                server.auth_headers.append(self.headers.get("Authorization", ""))
                answer = server.routes.get(key) or {
                    "status": 404,
                    "body": {"error": {"code": 404, "message": key, "status": "NOT_FOUND"}},
                }
                data = json.dumps(answer.get("body", {})).encode()
                self.send_response(int(answer.get("status", 200)))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeVertexServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


# --- the sample estate ----------------------------------------------------------------------------

SAMPLE_DIR = Path(__file__).resolve().parents[4] / "examples" / "estate" / "cloud"


def _load(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GarrisonError(
            f"the sample cloud fixture {path} does not exist",
            hint="run from a checkout of Garrison, or pass the fixtures folder",
        ) from None
    except json.JSONDecodeError as exc:
        raise GarrisonError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise GarrisonError(f"{path}: expected a JSON object")
    return data


@contextmanager
def _no_aws_environment() -> Iterator[None]:
    """The sample must not pick up a developer's real AWS profile, region or credentials."""
    import os

    names = [n for n in os.environ if n.startswith("AWS_")]
    saved = {n: os.environ.pop(n) for n in names}
    try:
        yield
    finally:
        os.environ.update(saved)


def sample_aws_result(directory: Path = SAMPLE_DIR) -> DiscoveryResult:
    from garrison.inventory.discovery.aws import AwsDiscovery

    boto3 = require_sdk("boto3", "aws")
    data = _load(directory, "aws.json")
    with _no_aws_environment():
        session = boto3.Session(
            aws_access_key_id="sample",
            aws_secret_access_key="sample",  # noqa: S106 - the canned fake never checks it
            region_name=data["regions"][0],
        )
        CannedAws([CannedRoute.from_json(r) for r in data["routes"]]).install(session)
        return AwsDiscovery(session, data["regions"], account_id=data["account"]).run()


def sample_azure_result(directory: Path = SAMPLE_DIR) -> DiscoveryResult:
    from garrison.inventory.discovery.azure import AzureDiscovery

    data = _load(directory, "azure.json")
    transport = make_azure_transport(data["responses"])
    return AzureDiscovery(
        data["subscriptions"], credential=FakeAzureCredential(), transport=transport
    ).run()


def sample_gcp_result(directory: Path = SAMPLE_DIR) -> DiscoveryResult:
    from garrison.inventory.discovery.gcp import VertexDiscovery

    data = _load(directory, "gcp.json")
    with FakeVertexServer(data["routes"]) as server:
        return VertexDiscovery(
            data["project"], data["locations"], api_root=server.url, token=lambda: "sample"
        ).run()


SAMPLES: Mapping[str, Callable[[Path], DiscoveryResult]] = {
    "aws": sample_aws_result,
    "azure": sample_azure_result,
    "gcp": sample_gcp_result,
}


def load_sample_cloud_results(
    directory: Path | None = None, *, skip_missing_sdks: bool = True
) -> list[DiscoveryResult]:
    """Run the AWS, Azure and GCP sources against their fakes over the sample estate's fixtures.

    Offline and deterministic; for the demo. A cloud whose SDK extra is not installed is skipped
    (or, with ``skip_missing_sdks=False``, raises ``MissingExtraError`` naming the extra).
    """
    folder = SAMPLE_DIR if directory is None else directory
    results = []
    for run in SAMPLES.values():
        try:
            results.append(run(folder))
        except MissingExtraError:
            if not skip_missing_sdks:
                raise
    return results
