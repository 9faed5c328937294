"""Code discovery: what AI a source repository uses, read from its code and configuration.

``discover_code(paths)`` walks each root (no symlinks followed, vendored and build folders
skipped) and reads:

* Python files by AST: LLM SDK calls and the models they name (string literals, module constants,
  ``os.getenv("X", "default")`` defaults), Hugging Face ``from_pretrained`` / ``pipeline`` with or
  without ``revision=``, agent frameworks and their tools, vector-store clients, the environment
  variables that hold API keys, and literal keys (recorded by fingerprint only).
* JavaScript / TypeScript by RE2 patterns (linear time on untrusted text): SDK imports, model
  strings, ``process.env`` key names, literal keys.
* Configuration (``.env*``, compose, Kubernetes, YAML / TOML / JSON / INI, Dockerfile): the names of
  variables and keys that hold AI API keys, and literal keys next to them.
* MCP client configurations (``mcp.json``, ``.cursor/mcp.json``, ``.vscode/mcp.json``, Claude
  Desktop's ``claude_desktop_config.json``): each server, local command or remote URL, and the names
  of the environment variables it is given.

Secrets are never stored: a key-shaped literal becomes an ``api_key`` asset whose reference is the
``file:line`` and whose only trace of the value is ``secrets.key_fingerprint``.

Assets and keys
---------------
* ``llm_application``: one per application root, the deepest folder holding a manifest
  (``pyproject.toml``, ``package.json``, …) above a finding, else the scanned root;
  ``source_id`` is ``code:<absolute folder>``.
* Models: ``foundation_model`` / ``embedding_model`` with ``model_provider`` and ``model_name``
  and no endpoint or environment, so their natural key is
  ``model:<provider>|<model>||unknown``. Provider names are the inventory's vocabulary
  (``openai``, ``anthropic``, ``aws_bedrock``, ``azure_openai``, ``google``, ``gcp_vertex``,
  ``mistral``, ``cohere``, ``ollama``, ``huggingface``, …). **Matching rule with cloud
  discovery**: a cloud source that registers a model it serves under the same provider and model
  name (Bedrock: the ``modelId``; Azure: the deployment's model name) without endpoint and
  environment lands on the same asset. A Bedrock ``modelId`` that is an ARN (custom model,
  provisioned throughput, inference profile) is not turned into a model asset: the application's
  edge targets the ARN itself, which resolves to the cloud source's asset by its ``source_id``. A
  geo-prefixed Bedrock ID (``us.anthropic…``) is an ``inference_profile``. An Azure deployment
  named in code (``azure_deployment=``, ``deployment_name=``, ``engine=``, or ``model=`` on an Azure
  client) is an ``api_endpoint`` with ``model_name`` = the deployment name and ``api_endpoint`` =
  the literal ``azure_endpoint`` when the code has one (tag ``azure-deployment:<name>``); when
  the code also names the underlying model, the model asset is linked to it with ``served_by``.
* Provider endpoints: ``api_endpoint`` keyed ``model:<provider>||<endpoint>|unknown`` (the SDK's
  default endpoint, ``inferred``, unless ``base_url`` is a literal), linked from the models it
  serves with ``served_by``.
* ``ai_agent`` / ``tool`` / ``vector_database`` / ``mcp_server`` / ``api_key``: ``source_id``
  ``code:<root>#<kind>:<name>``, so the same name in two repositories stays two assets.

Edges: application ``depends_on`` models, endpoints and agents; ``authenticates_with`` keys;
``retrieves_from`` vector stores; agent ``uses_tool`` tools and ``depends_on`` its model.

What it does not do: follow values across modules or through function arguments, evaluate
f-strings, read notebooks (``.ipynb``), or parse JS/TS (patterns only).
"""

from __future__ import annotations

import ast
import bisect
import json
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import re2

from garrison.inventory.discovery import code_patterns as pat
from garrison.inventory.discovery.base import (
    CallFailure,
    DiscoveredAsset,
    DiscoveredEdge,
    DiscoveryResult,
)
from garrison.inventory.identity import natural_key
from garrison.inventory.models import (
    AgentTool,
    ApiKeyRef,
    AssetSpec,
    AssetType,
    Confidence,
    Evidence,
    Exposure,
    KeyLocation,
    Relation,
    ToolPermission,
    VectorNamespace,
)
from garrison.inventory.secrets import key_fingerprint, looks_like_raw_key, looks_like_secret

SOURCE = "code"
MAX_FILE_BYTES = 1_000_000
"""Files above this are reported and skipped: generated bundles and data, not code to read."""
MAX_EVIDENCE_PER_ASSET = 200
_HEX40 = frozenset("0123456789abcdef")


# --- findings: what one file says, independent of the registry ----------------------------------


@dataclass(frozen=True)
class ModelUse:
    provider: str
    model: str | None
    line: int
    confidence: Confidence = Confidence.DECLARED
    embedding: bool = False
    endpoint: str | None = None
    endpoint_declared: bool = False
    deployment: str | None = None
    revision: str | None = None
    pinned: bool | None = None
    """Hugging Face references only: pinned to a commit (40 hex digits)."""
    via: str = ""


@dataclass(frozen=True)
class KeyName:
    name: str
    line: int
    detail: str = ""


@dataclass(frozen=True)
class LiteralSecret:
    fingerprint: str
    line: int
    context: str


@dataclass(frozen=True)
class ToolDef:
    name: str
    function: str
    framework: str
    line: int
    permissions: tuple[ToolPermission, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AgentDef:
    name: str
    framework: str
    line: int
    tools: tuple[str, ...] = ()
    models: tuple[ModelUse, ...] = ()


@dataclass(frozen=True)
class VectorUse:
    kind: str
    line: int
    location: str | None = None
    namespaces: tuple[str, ...] = ()
    from_method: bool = False
    """Seen on a client method (``get_or_create_collection``): adds namespaces to the client."""


@dataclass(frozen=True)
class McpServerDef:
    name: str
    line: int
    config_kind: str
    command: str | None = None
    args: tuple[str, ...] = ()
    url: str | None = None
    env_names: tuple[str, ...] = ()


@dataclass
class FileFindings:
    path: str
    """As it will appear in evidence: the root as given, joined with the relative path."""
    language: str
    models: list[ModelUse] = field(default_factory=list)
    arn_targets: list[tuple[str, int]] = field(default_factory=list)
    keys: list[KeyName] = field(default_factory=list)
    secrets: list[LiteralSecret] = field(default_factory=list)
    tools: list[ToolDef] = field(default_factory=list)
    agents: list[AgentDef] = field(default_factory=list)
    vectors: list[VectorUse] = field(default_factory=list)
    mcp_servers: list[McpServerDef] = field(default_factory=list)
    system_prompts: list[tuple[str, int]] = field(default_factory=list)
    errors: list[CallFailure] = field(default_factory=list)

    @property
    def is_code_use(self) -> bool:
        """Findings that make the folder an LLM application (config alone does not)."""
        return bool(self.models or self.arn_targets or self.agents or self.tools or self.vectors)


@cache
def _key_name_regex() -> Any:
    return re2.compile("(?i)" + pat.AI_KEY_NAME_PATTERN)


def _is_key_name(name: str) -> bool:
    return _key_name_regex().search(name) is not None


def _secret_literal(value: str, *, key_context: bool) -> bool:
    """A string literal that is a credential. Outside a key-named context only strong,
    prefix-marked formats count, so hashes and test data do not become findings."""
    text = value.strip()
    if len(text) < 16 or " " in text or text.startswith(("${", "$(", "{{", "<")):
        return False
    if key_context:
        return looks_like_raw_key(text)
    return text.startswith(pat.STRONG_KEY_PREFIXES) and looks_like_secret(text)


def _pinned(revision: str | None) -> bool:
    return revision is not None and len(revision) == 40 and set(revision.lower()) <= _HEX40


def _clean(value: str) -> str:
    """What of a command-line argument may be recorded: secrets are replaced."""
    return "<redacted>" if looks_like_secret(value) else value


# --- Python -------------------------------------------------------------------------------------


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _PythonFile:
    """One module: import aliases, module constants and client variables, then every call."""

    def __init__(self, tree: ast.Module, findings: FileFindings) -> None:
        self.tree = tree
        self.out = findings
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, tuple[str, Confidence]] = {}
        self.instances: dict[str, tuple[str, ast.Call]] = {}
        self.assigned_to: dict[int, str] = {}
        self.tool_names: dict[str, str] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.agent_calls: set[int] = set()
        self.vector_instances: dict[str, str] = {}

    # pass 1: names
    def collect(self) -> None:  # noqa: PLR0912 - one pass per kind of statement it indexes
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, node)
        for stmt in self.tree.body:
            target, value = _simple_assignment(stmt)
            if target is not None and value is not None:
                resolved = self._literal(value, constants=False)
                if resolved is not None:
                    self.constants[target] = resolved
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target_node in targets:
                    name = _dotted(target_node)
                    if name is None:
                        continue
                    self.assigned_to[id(node.value)] = name
                    qualified = self.qualify(node.value.func, node.value)
                    if qualified is not None:
                        self.instances[name] = (qualified, node.value)

    def qualify(  # noqa: PLR0911 - one exit per shape of callee expression
        self, func: ast.expr, call: ast.Call | None = None
    ) -> str | None:
        """The qualified name of a callee: aliases expanded, client variables replaced by the
        constructor they were made with (``client.chat`` → ``openai.OpenAI().chat``)."""
        if isinstance(func, ast.Call):
            inner = self.qualify(func.func, func)
            return None if inner is None else inner + "()"
        dotted = _dotted(func)
        if dotted is None:
            attrs: list[str] = []
            root = func
            while isinstance(root, ast.Attribute):
                attrs.append(root.attr)
                root = root.value
            if not isinstance(root, ast.Call):
                return None
            inner = self.qualify(root.func, root)
            return None if inner is None else ".".join([inner + "()", *reversed(attrs)])
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            rest = parts[cut:]
            if head in self.instances:
                base, ctor = self.instances[head]
                if base in (
                    "boto3.client",
                    "boto3.Session().client",
                    "boto3.session.Session().client",
                ):
                    service = _first_str(ctor)
                    base = f"boto3.client:{service}" if service else base
                return ".".join([base + "()", *rest]) if rest else base + "()"
            if cut == 1 and head in self.aliases:
                qualified = ".".join([self.aliases[head], *rest])
                if call is not None and qualified in ("boto3.client", "boto3.Session().client"):
                    service = _first_str(call)
                    return f"boto3.client:{service}" if service else qualified
                return qualified
        return None

    def _literal(self, node: ast.expr, *, constants: bool = True) -> tuple[str, Confidence] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, Confidence.DECLARED
        if constants and isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        if isinstance(node, ast.Call):
            # os.getenv("OPENAI_MODEL", "gpt-4o-mini"): the default is a good guess, not a fact.
            name = self.qualify(node.func) or _dotted(node.func) or ""
            if (
                name in ("os.getenv", "os.environ.get", "getenv", "environ.get")
                and len(node.args) > 1
            ):
                default = self._literal(node.args[1], constants=constants)
                if default is not None:
                    return default[0], Confidence.INFERRED
        return None

    def env_name(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call):
            name = self.qualify(node.func) or _dotted(node.func) or ""
            if name.endswith(("os.getenv", "os.environ.get", "environ.get")) or name == "getenv":
                return _first_str(node)
        if isinstance(node, ast.Subscript):
            base = _dotted(node.value) or ""
            if base in ("os.environ", "environ") and isinstance(node.slice, ast.Constant):
                value = node.slice.value
                return value if isinstance(value, str) else None
        return None

    # pass 2: what the module does
    def scan(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._decorated_tool(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                self._assignment_secret(node)
            elif isinstance(node, ast.Dict):
                self._system_message(node)
            elif isinstance(node, ast.Subscript):
                name = self.env_name(node)
                if name and _is_key_name(name):
                    self.out.keys.append(KeyName(name, node.lineno))
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _secret_literal(node.value, key_context=False)
            ):
                self.out.secrets.append(
                    LiteralSecret(key_fingerprint(node.value), node.lineno, "string literal")
                )
        self._resolve_agent_tools()
        self._merge_vector_namespaces()
        # A keyword literal is also a plain string constant: keep the more specific sighting.
        unique: dict[tuple[str, int], LiteralSecret] = {}
        for secret in self.out.secrets:
            if (
                secret.fingerprint,
                secret.line,
            ) not in unique or secret.context != "string literal":
                unique[(secret.fingerprint, secret.line)] = secret
        self.out.secrets = list(unique.values())

    def _merge_vector_namespaces(self) -> None:
        clients = [v for v in self.out.vectors if not v.from_method]
        merged: list[VectorUse] = []
        extra: dict[str, set[str]] = {}
        for use in self.out.vectors:
            if use.from_method and any(c.kind == use.kind for c in clients):
                extra.setdefault(use.kind, set()).update(use.namespaces)
            else:
                merged.append(use)
        self.out.vectors = [
            VectorUse(
                v.kind,
                v.line,
                v.location,
                tuple(sorted(set(v.namespaces) | extra.pop(v.kind, set()))),
            )
            if not v.from_method
            else v
            for v in merged
        ]

    def _call(self, node: ast.Call) -> None:
        env = self.env_name(node)
        if env and _is_key_name(env):
            self.out.keys.append(KeyName(env, node.lineno))
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg.lower() not in pat.KEY_KEYWORDS:
                continue
            env = self.env_name(keyword.value)
            if env is not None:
                self.out.keys.append(KeyName(env, node.lineno, f"passed as {keyword.arg}="))
            elif (
                isinstance(keyword.value, ast.Constant)
                and isinstance(keyword.value.value, str)
                and _secret_literal(keyword.value.value, key_context=True)
            ):
                self.out.secrets.append(
                    LiteralSecret(
                        key_fingerprint(keyword.value.value), node.lineno, f"{keyword.arg}="
                    )
                )
        qualified = self.qualify(node.func, node)
        if qualified is None:
            return
        self._tool_call(node, qualified)
        self._agent_call(node, qualified)
        self._vector_call(node, qualified)
        self._model_call(node, qualified)
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("create", "generate"):
            for keyword in node.keywords:
                if keyword.arg == "system":
                    literal = self._literal(keyword.value)
                    if literal is not None:
                        self.out.system_prompts.append((literal[0], node.lineno))

    def _model_call(self, node: ast.Call, qualified: str) -> None:
        rule = pat.match_rule(qualified)
        if rule is None:
            return
        last = qualified.rsplit(".", 1)[-1].rstrip("()")
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        model = self._model_argument(node, last, kwargs)
        deployment: tuple[str, Confidence] | None = None
        for keyword in pat.DEPLOYMENT_KEYWORDS:
            if keyword in kwargs:
                deployment = self._literal(kwargs[keyword])
                break
        ctor = self._constructor_of(node)
        endpoint, endpoint_declared = self._endpoint(kwargs, ctor)
        provider = rule.provider
        embedding = rule.embedding or "embed" in qualified.lower()
        is_constructor = last[:1].isupper() and "()" not in qualified
        if provider == "google" and ctor is not None and _kw_true(ctor, "vertexai"):
            provider = "gcp_vertex"
        if (
            provider == "aws_bedrock"
            and qualified.startswith("boto3.client:")
            and last not in pat.BEDROCK_MODEL_CALLS
        ):
            return
        if model is None and deployment is None:
            if is_constructor and provider not in ("litellm", "langchain", "huggingface"):
                self.out.models.append(
                    ModelUse(
                        provider,
                        None,
                        node.lineno,
                        endpoint=endpoint,
                        endpoint_declared=endpoint_declared,
                        via=qualified,
                    )
                )
            return
        revision: str | None = None
        pinned: bool | None = None
        if provider == "huggingface":
            if "revision" in kwargs:
                rev = self._literal(kwargs["revision"])
                revision = rev[0] if rev else None
            pinned = _pinned(revision)
        name: str | None = model[0] if model is not None else None
        confidence = model[1] if model is not None else Confidence.DECLARED
        if name is not None:
            provider, name = _refine_provider(provider, name, kwargs, self)
            if name.startswith("arn:"):
                self.out.arn_targets.append((name, node.lineno))
                return
        if (
            provider == "azure_openai"
            and deployment is None
            and name is not None
            and not is_constructor
        ):
            # On an Azure client, ``model=`` names the deployment, not the model.
            deployment, name = (name, confidence), None
        self.out.models.append(
            ModelUse(
                provider=provider,
                model=name,
                line=node.lineno,
                confidence=confidence,
                embedding=embedding,
                endpoint=endpoint,
                endpoint_declared=endpoint_declared,
                deployment=deployment[0] if deployment else None,
                revision=revision,
                pinned=pinned,
                via=qualified,
            )
        )

    def _model_argument(
        self, node: ast.Call, last: str, kwargs: dict[str, ast.expr]
    ) -> tuple[str, Confidence] | None:
        for name in pat.MODEL_KEYWORDS:
            if name in kwargs:
                return self._literal(kwargs[name])
        if last == "pipeline" and len(node.args) > 1:
            return self._literal(node.args[1])
        if last in pat.POSITIONAL_MODEL_CALLS and node.args:
            return self._literal(node.args[0])
        return None

    def _constructor_of(self, node: ast.Call) -> ast.Call | None:
        func = node.func
        while isinstance(func, ast.Attribute):
            func = func.value
        if isinstance(func, ast.Call):
            return func
        root = _dotted(node.func) or ""
        parts = root.split(".")
        for cut in range(len(parts), 0, -1):
            hit = self.instances.get(".".join(parts[:cut]))
            if hit is not None:
                return hit[1]
        return node

    def _endpoint(
        self, kwargs: dict[str, ast.expr], ctor: ast.Call | None
    ) -> tuple[str | None, bool]:
        sources = [kwargs]
        if ctor is not None:
            sources.append({k.arg: k.value for k in ctor.keywords if k.arg})
        for source in sources:
            for name in pat.ENDPOINT_KEYWORDS:
                if name in source:
                    literal = self._literal(source[name])
                    if literal is not None and "://" in literal[0]:
                        return literal[0], True
        return None, False

    def _decorated_tool(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            qualified = self.qualify(target) or ""
            framework = pat.TOOL_DECORATORS.get(qualified)
            if framework is None:
                continue
            name = node.name
            if call is not None:
                explicit = (
                    _first_str(call) or _kw_str(call, "name_override") or _kw_str(call, "name")
                )
                name = explicit or name
            self.tool_names[node.name] = name
            self.out.tools.append(
                ToolDef(
                    name,
                    node.name,
                    framework,
                    node.lineno,
                    self._permissions(node),
                    (ast.get_docstring(node) or "").strip().split("\n")[0][:300],
                )
            )

    def _tool_call(self, node: ast.Call, qualified: str) -> None:
        framework = pat.TOOL_CONSTRUCTORS.get(qualified)
        if framework is None:
            return
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        func_node = kwargs.get("func") or kwargs.get("fn") or kwargs.get("f")
        if func_node is None and node.args and isinstance(node.args[0], ast.Name):
            func_node = node.args[0]
        function = _dotted(func_node) if func_node is not None else None
        name = _kw_str(node, "name") or _first_str(node) or function
        if not name:
            return
        body = self.functions.get(function or "")
        description = _kw_str(node, "description") or ""
        self.out.tools.append(
            ToolDef(
                name,
                function or "",
                framework,
                node.lineno,
                self._permissions(body) if body else (),
                description[:300],
            )
        )
        variable = self.assigned_to.get(id(node))
        if variable:
            self.tool_names[variable] = name
        if function:
            self.tool_names.setdefault(function, name)

    def _agent_call(self, node: ast.Call, qualified: str) -> None:  # noqa: PLR0912 - per framework
        framework = pat.AGENT_CONSTRUCTORS.get(qualified)
        if framework is None or id(node) in self.agent_calls:
            return
        # An agent built inside another's constructor (AgentExecutor(agent=create_…_agent(…)))
        # is the same agent: the walk is breadth-first, so the outer call is seen first.
        for inner in ast.walk(node):
            if inner is not node and isinstance(inner, ast.Call):
                self.agent_calls.add(id(inner))
        name = _kw_str(node, "name") or _kw_str(node, "role")
        if name is None and framework == "autogen":
            name = _first_str(node)
        name = name or self.assigned_to.get(id(node)) or f"{framework} agent"
        tools_node = next((k.value for k in node.keywords if k.arg == "tools"), None)
        if tools_node is None:
            tools_node = next((a for a in node.args if isinstance(a, ast.List)), None)
        tool_refs: list[str] = []
        if isinstance(tools_node, ast.List | ast.Tuple):
            for element in tools_node.elts:
                ref = _dotted(element) if not isinstance(element, ast.Call) else None
                if ref:
                    tool_refs.append(ref)
        models: list[ModelUse] = []
        for keyword in node.keywords:
            if keyword.arg not in ("model", "llm", "model_client"):
                continue
            literal = self._literal(keyword.value)
            if literal is not None:
                provider = pat.provider_from_model(literal[0]) or "openai"
                models.append(
                    ModelUse(provider, literal[0], node.lineno, literal[1], via=qualified)
                )
                continue
            variable = _dotted(keyword.value)
            if variable in self.instances:
                # llm=ChatOpenAI(...) made earlier: the agent uses that client's model.
                ctor_name, ctor = self.instances[variable]
                rule = pat.match_rule(ctor_name)
                ctor_kwargs = {k.arg: k.value for k in ctor.keywords if k.arg}
                chosen = self._model_argument(ctor, ctor_name.rsplit(".", 1)[-1], ctor_kwargs)
                if rule is not None and chosen is not None:
                    provider, name = _refine_provider(rule.provider, chosen[0], ctor_kwargs, self)
                    models.append(ModelUse(provider, name, ctor.lineno, chosen[1], via=ctor_name))
        self.out.agents.append(
            AgentDef(name, framework, node.lineno, tuple(tool_refs), tuple(models))
        )

    def _resolve_agent_tools(self) -> None:
        resolved = []
        for agent in self.out.agents:
            names = tuple(self.tool_names.get(ref, ref.rsplit(".", 1)[-1]) for ref in agent.tools)
            # A name not defined in this module stays a reference; the app resolves it by the
            # function name of tools found in its other files.
            resolved.append(AgentDef(agent.name, agent.framework, agent.line, names, agent.models))
        self.out.agents = resolved

    def _vector_call(self, node: ast.Call, qualified: str) -> None:
        kind = None
        for prefix, candidate in pat.VECTOR_CLIENTS.items():
            if qualified == prefix or qualified.startswith((prefix + ".", prefix + "(")):
                kind = candidate
                break
        if kind is None:
            return
        method = qualified.rsplit(".", 1)[-1]
        namespaces: list[str] = []
        if method in pat.VECTOR_NAMESPACE_METHODS:
            ns = _first_str(node) or _kw_str(node, "name")
            if ns:
                namespaces.append(ns)
            self.out.vectors.append(
                VectorUse(kind, node.lineno, None, tuple(namespaces), from_method=True)
            )
            return
        if "()" in qualified:
            return  # a method on a client already recorded at its constructor
        location = None
        for name in pat.VECTOR_LOCATION_KEYWORDS:
            value = _kw_str(node, name)
            if value:
                location = (
                    value if "://" not in value else value.split("@")[-1] if "@" in value else value
                )
                break
        if location is None and kind == "lancedb" and method == "connect":
            location = _first_str(node)
        for name in pat.VECTOR_NAMESPACE_KEYWORDS:
            value = _kw_str(node, name)
            if value and name != "name":
                namespaces.append(value)
        self.out.vectors.append(VectorUse(kind, node.lineno, location, tuple(namespaces)))

    def _permissions(
        self, func: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[ToolPermission, ...]:
        found: set[ToolPermission] = set()
        for node in ast.walk(func):
            if not isinstance(node, ast.Call):
                continue
            name = self.qualify(node.func) or _dotted(node.func) or ""
            for hint, permission in pat.PERMISSION_HINTS:
                if name == hint or (hint.endswith(".") and name.startswith(hint)):
                    found.add(ToolPermission(permission))
            if name == "open" and any(
                isinstance(a, ast.Constant)
                and isinstance(a.value, str)
                and set(a.value) & set("wax")
                for a in node.args[1:2]
            ):
                found.add(ToolPermission.WRITE)
        return tuple(sorted(found))

    def _assignment_secret(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return
        for target in targets:
            name = (_dotted(target) or "").rsplit(".", 1)[-1]
            if (
                name
                and re2.search(pat.GENERIC_SECRET_NAME, name)
                and _secret_literal(value.value, key_context=True)
            ):
                self.out.secrets.append(
                    LiteralSecret(key_fingerprint(value.value), node.lineno, f"{name} =")
                )

    def _system_message(self, node: ast.Dict) -> None:
        fields = {
            k.value: v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
        role = fields.get("role")
        content = fields.get("content")
        if isinstance(role, ast.Constant) and role.value == "system" and content is not None:
            literal = self._literal(content)
            if literal is not None:
                self.out.system_prompts.append((literal[0], node.lineno))


def _refine_provider(
    provider: str, model: str, kwargs: dict[str, ast.expr], module: _PythonFile
) -> tuple[str, str]:
    """Resolve routers (litellm, ``init_chat_model``) and Bedrock profile IDs to a provider."""
    if provider == "litellm":
        prefix, _, rest = model.partition("/")
        if rest and prefix in pat.LITELLM_PREFIXES:
            return pat.LITELLM_PREFIXES[prefix], rest
        return pat.provider_from_model(model) or "litellm", model
    if provider == "langchain":
        explicit = kwargs.get("model_provider")
        literal = module._literal(explicit) if explicit is not None else None
        if literal is not None:
            return pat.LITELLM_PREFIXES.get(literal[0], literal[0]), model
        prefix, _, rest = model.partition(":")
        if rest and prefix in pat.LITELLM_PREFIXES:
            return pat.LITELLM_PREFIXES[prefix], rest
        return pat.provider_from_model(model) or "langchain", model
    return provider, model


def _simple_assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return stmt.target.id, stmt.value
    return None, None


def _first_str(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _kw_str(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _kw_true(call: ast.Call, name: str) -> bool:
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )


def scan_python(text: str, path: str) -> FileFindings:
    findings = FileFindings(path, "python")
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 0
        findings.errors.append(
            CallFailure(
                operation="parse python",
                message=f"{type(exc).__name__}: {getattr(exc, 'msg', exc)} (line {line}); "
                "scanned by patterns instead",
                target=path,
                code="SyntaxError",
            )
        )
        fallback = scan_config(text, path)
        findings.keys, findings.secrets = fallback.keys, fallback.secrets
        return findings
    module = _PythonFile(tree, findings)
    module.collect()
    module.scan()
    return findings


# --- JavaScript / TypeScript ------------------------------------------------------------------


@cache
def _js_regexes() -> dict[str, Any]:
    quoted = r"""["'`]([^"'`\n$]{1,200})["'`]"""
    return {
        "import": re2.compile(
            r"""(?m)(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)["']([^"'\n]{1,200})["']"""
        ),
        "model": re2.compile(
            r"\b(model|modelId|modelName|deploymentName|azureOpenAIApiDeploymentName)\s*:\s*(?:"
            + quoted
            + r"|([A-Za-z_$][A-Za-z0-9_$]*))"
        ),
        "const": re2.compile(
            r"\b(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*(?::\s*string\s*)?=\s*" + quoted
        ),
        "factory": re2.compile(
            r"\b(openai|anthropic|bedrock|azure|google|vertex|mistral|cohere)\(\s*" + quoted
        ),
        "env": re2.compile(
            r"""process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[\s*["']([^"'\n]{1,128})["']\s*\]|import\.meta\.env\.([A-Za-z_][A-Za-z0-9_]*)|Deno\.env\.get\(\s*["']([^"'\n]{1,128})["']"""
        ),
        "apikey": re2.compile(
            r"\b(apiKey|api_key|accessKeyId|secretAccessKey|token|authToken)\s*:\s*" + quoted
        ),
        "azure": re2.compile(r"\bnew\s+AzureOpenAI\b"),
        "baseurl": re2.compile(r"\b(?:baseURL|baseUrl|endpoint)\s*:\s*" + quoted),
    }


class _Lines:
    """Offset → line number for pattern matches over a whole file."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        index = text.find("\n")
        while index != -1:
            self.starts.append(index + 1)
            index = text.find("\n", index + 1)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def scan_javascript(text: str, path: str) -> FileFindings:  # noqa: PLR0912 - one block per pattern
    findings = FileFindings(path, "javascript")
    rx = _js_regexes()
    lines = _Lines(text)
    modules = {m.group(1) for m in rx["import"].finditer(text)}
    providers = {pat.JS_MODULE_PROVIDERS[m] for m in modules if m in pat.JS_MODULE_PROVIDERS}
    if "openai" in providers and rx["azure"].search(text):
        providers = (providers - {"openai"}) | {"azure_openai"}
    for module in sorted(modules):
        kind = pat.JS_VECTOR_MODULES.get(module)
        if kind:
            offset = text.find(module)
            findings.vectors.append(VectorUse(kind, lines.line(offset)))
    for match in rx["env"].finditer(text):
        name = next(g for g in match.groups() if g)
        if _is_key_name(name):
            findings.keys.append(KeyName(name, lines.line(match.start())))
    for match in rx["apikey"].finditer(text):
        if _secret_literal(match.group(2), key_context=True):
            findings.secrets.append(
                LiteralSecret(
                    key_fingerprint(match.group(2)), lines.line(match.start()), f"{match.group(1)}:"
                )
            )
    if not providers:
        return findings
    endpoint = None
    for match in rx["baseurl"].finditer(text):
        if "://" in match.group(1):
            endpoint = match.group(1)
            break
    constants = {m.group(1): m.group(2) for m in rx["const"].finditer(text)}
    single = next(iter(providers)) if len(providers) == 1 else None
    seen_models = False
    for match in rx["model"].finditer(text):
        value = match.group(2)
        confidence = Confidence.DECLARED
        if value is None:
            value = constants.get(match.group(3) or "")
            if value is None:
                continue
        provider = single or pat.provider_from_model(value)
        if provider is None:
            continue
        seen_models = True
        findings.models.append(
            _js_model(
                provider, value, lines.line(match.start()), confidence, endpoint, match.group(1)
            )
        )
    for match in rx["factory"].finditer(text):
        provider = pat.AI_SDK_FACTORIES[match.group(1)]
        if provider in providers:
            seen_models = True
            findings.models.append(
                _js_model(
                    provider,
                    match.group(2),
                    lines.line(match.start()),
                    Confidence.DECLARED,
                    endpoint,
                    "factory",
                )
            )
    if not seen_models:
        for provider in sorted(providers):
            first = (
                min(text.find(m) for m in modules if pat.JS_MODULE_PROVIDERS.get(m) == provider)
                if provider != "azure_openai"
                else 0
            )
            findings.models.append(
                ModelUse(
                    provider,
                    None,
                    lines.line(max(first, 0)),
                    Confidence.INFERRED,
                    endpoint=endpoint,
                    endpoint_declared=endpoint is not None,
                    via="import",
                )
            )
    return findings


def _js_model(  # noqa: PLR0917 - private helper with one call site per pattern
    provider: str, value: str, line: int, confidence: Confidence, endpoint: str | None, key: str
) -> ModelUse:
    embedding = "embed" in value.lower()
    if provider == "azure_openai" or key in ("deploymentName", "azureOpenAIApiDeploymentName"):
        return ModelUse(
            "azure_openai",
            None,
            line,
            confidence,
            embedding,
            endpoint,
            endpoint is not None,
            deployment=value,
            via="js",
        )
    return ModelUse(
        provider, value, line, confidence, embedding, endpoint, endpoint is not None, via="js"
    )


# --- configuration ------------------------------------------------------------------------------


@cache
def _config_value_regex() -> Any:
    return re2.compile(r"""^\s*["']?\s*[:=]\s*["']?([^\s"'#,}]+)""")


def scan_config(text: str, path: str) -> FileFindings:
    """Key names (and literal keys next to them) in env, compose, Kubernetes and config files."""
    findings = FileFindings(path, "config")
    lines = _Lines(text)
    all_lines = text.split("\n")
    for match in _key_name_regex().finditer(text):
        line = lines.line(match.start())
        name = match.group(0)
        end = text.find("\n", match.end())
        rest = text[match.end() : end if end != -1 else len(text)]
        detail = ""
        window = "\n".join(all_lines[line : line + 4])
        if "secretKeyRef" in window:
            detail = "from a Kubernetes secretKeyRef"
        findings.keys.append(KeyName(name, line, detail))
        value = _config_value_regex().match(rest)
        if value is not None and _secret_literal(value.group(1), key_context=True):
            findings.secrets.append(
                LiteralSecret(key_fingerprint(value.group(1)), line, f"{name} value")
            )
    return findings


def scan_mcp(text: str, path: str) -> FileFindings:
    """Servers of an MCP client configuration (Cursor, VS Code, Claude Desktop, Claude Code)."""
    findings = FileFindings(path, "mcp")
    try:
        data = json.loads(text)
    except ValueError as exc:
        findings.errors.append(
            CallFailure(
                "parse mcp config", f"not valid JSON: {exc}", target=path, code="JSONDecodeError"
            )
        )
        return findings
    if not isinstance(data, dict):
        return findings
    servers = data.get("mcpServers") or data.get("servers") or {}
    if not isinstance(servers, dict):
        return findings
    config_kind = _mcp_kind(path)
    lines = _Lines(text)
    for name, spec in servers.items():
        if not isinstance(spec, dict):
            continue
        offset = text.find(json.dumps(name))
        line = lines.line(max(offset, 0))
        raw_env = spec.get("env")
        env: dict[str, Any] = raw_env if isinstance(raw_env, dict) else {}
        env_names = tuple(sorted(str(k) for k in env))
        for env_name, value in env.items():
            if isinstance(value, str) and _secret_literal(value, key_context=True):
                value_line = lines.line(max(text.find(json.dumps(value)), 0))
                findings.secrets.append(
                    LiteralSecret(
                        key_fingerprint(value), value_line, f"MCP server {name} env {env_name}"
                    )
                )
            elif re2.search(pat.GENERIC_SECRET_NAME, str(env_name)):
                key_line = lines.line(max(text.find(json.dumps(env_name), max(offset, 0)), 0))
                findings.keys.append(KeyName(str(env_name), key_line, f"MCP server {name}"))
        args = tuple(
            _clean(str(a)) for a in spec.get("args", []) if isinstance(a, str | int | float)
        )
        for arg in spec.get("args", []):
            if isinstance(arg, str) and _secret_literal(arg, key_context=False):
                findings.secrets.append(
                    LiteralSecret(key_fingerprint(arg), line, f"MCP server {name} argument")
                )
        url = spec.get("url") or spec.get("serverUrl")
        findings.mcp_servers.append(
            McpServerDef(
                name=str(name),
                line=line,
                config_kind=config_kind,
                command=_clean(str(spec["command"]))
                if isinstance(spec.get("command"), str)
                else None,
                args=args,
                url=str(url) if isinstance(url, str) else None,
                env_names=env_names,
            )
        )
    return findings


def _mcp_kind(path: str) -> str:
    parts = Path(path).parts
    if ".cursor" in parts:
        return "cursor"
    if ".vscode" in parts:
        return "vscode"
    if Path(path).name == "claude_desktop_config.json":
        return "claude-desktop"
    if Path(path).name == ".mcp.json":
        return "claude-code"
    return "mcp"


# --- walking ------------------------------------------------------------------------------------


def _kind_of(name: str, suffix: str, parent: str) -> str | None:  # noqa: PLR0911 - one per kind
    if name in pat.MCP_FILE_NAMES or (name == "mcp.json" and parent in (".cursor", ".vscode")):
        return "mcp"
    if suffix in pat.PYTHON_SUFFIXES:
        return "python"
    if suffix in pat.JS_SUFFIXES:
        return "javascript"
    if suffix == ".json":
        # Most JSON in a repository is data (fixtures, lock files); only config-named files are
        # read, which keeps a tree of thousands of JSON files cheap.
        lowered = name.lower()
        return "config" if any(word in lowered for word in pat.JSON_CONFIG_WORDS) else None
    if name.startswith(".env") or suffix in pat.CONFIG_SUFFIXES or name in pat.CONFIG_NAMES:
        return "config"
    if name.startswith(("docker-compose", "compose.")):
        return "config"
    return None


@dataclass
class _Walk:
    files: list[tuple[Path, str]] = field(default_factory=list)
    manifests: dict[Path, Path] = field(default_factory=dict)
    """Folder → its manifest file."""
    errors: list[CallFailure] = field(default_factory=list)
    complete: bool = True


def _walk(root: Path) -> _Walk:
    walk = _Walk()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            walk.errors.append(
                CallFailure(
                    "walk",
                    exc.strerror or str(exc),
                    target=str(folder),
                    code=_errno_name(exc),
                    denied=isinstance(exc, PermissionError),
                )
            )
            walk.complete = False
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in pat.SKIP_DIRS:
                        stack.append(Path(entry.path))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
            except OSError:
                continue
            name = entry.name
            if name in pat.APP_MANIFESTS:
                walk.manifests.setdefault(folder, Path(entry.path))
            kind = _kind_of(name, os.path.splitext(name)[1].lower(), folder.name)
            if kind is not None:
                walk.files.append((Path(entry.path), kind))
    walk.files.sort()
    return walk


def _errno_name(exc: OSError) -> str:
    import errno

    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def _read(path: Path, display: str, errors: list[CallFailure]) -> tuple[str | None, bool]:
    """The file's text, or None; the flag is False when the run must count as incomplete."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.append(
                CallFailure(
                    "read",
                    f"{size} bytes is over the {MAX_FILE_BYTES}-byte limit; skipped",
                    target=display,
                    code="EFBIG",
                )
            )
            return None, True
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        errors.append(
            CallFailure(
                "read",
                exc.strerror or str(exc),
                target=display,
                code=_errno_name(exc),
                denied=isinstance(exc, PermissionError),
            )
        )
        return None, False
    if b"\x00" in data[:4096]:
        return None, True
    return data.decode("utf-8", errors="replace"), True


def scan_file(text: str, path: str, kind: str) -> FileFindings:
    if kind == "python":
        return scan_python(text, path)
    if kind == "javascript":
        return scan_javascript(text, path)
    if kind == "mcp":
        return scan_mcp(text, path)
    return scan_config(text, path)


# --- building the result ------------------------------------------------------------------------


@dataclass
class _App:
    folder: Path
    name: str
    display: str
    manifest: str | None
    languages: set[str] = field(default_factory=set)
    findings: list[FileFindings] = field(default_factory=list)


class _Builder:
    def __init__(self, result: DiscoveryResult, org: str | None) -> None:
        self.result = result
        self.org = org
        self.assets: dict[str, tuple[AssetSpec, list[Evidence]]] = {}
        self.edges: dict[tuple[str, str, Relation], None] = {}

    def asset(self, spec: AssetSpec, evidence: Iterable[Evidence]) -> str:
        if self.org is not None:
            spec = spec.model_copy(update={"org": self.org})
        handle = natural_key(spec)
        if handle in self.assets:
            current, known = self.assets[handle]
            spec = _merge_specs(current, spec)
        else:
            known = []
        locations = {(e.location, e.confidence) for e in known}
        for item in evidence:
            if (item.location, item.confidence) not in locations and len(
                known
            ) < MAX_EVIDENCE_PER_ASSET:
                known.append(item)
                locations.add((item.location, item.confidence))
        self.assets[handle] = (spec, known)
        return handle

    def add_evidence(self, handle: str, item: Evidence) -> None:
        known = self.assets[handle][1]
        if len(known) < MAX_EVIDENCE_PER_ASSET and all(e.location != item.location for e in known):
            known.append(item)

    def edge(self, source: str, target: str, relation: Relation = Relation.DEPENDS_ON) -> None:
        if source != target:
            self.edges[(source, target, relation)] = None

    def finish(self) -> None:
        self.result.assets = [
            DiscoveredAsset(spec=spec, evidence=tuple(ev), key=handle)
            for handle, (spec, ev) in self.assets.items()
        ]
        self.result.edges = [DiscoveredEdge(a, t, r) for a, t, r in self.edges]


def _merge_specs(current: AssetSpec, new: AssetSpec) -> AssetSpec:
    """Two sightings of one asset in one run: keep what the first set, add what only the second
    has (tags, tools and namespaces are unioned)."""
    update: dict[str, Any] = {}
    for name in new.model_fields_set - current.model_fields_set:
        update[name] = getattr(new, name)
    if new.tags or current.tags:
        update["tags"] = tuple(sorted(set(current.tags) | set(new.tags)))
    if new.tools:
        merged = {t.name: t for t in new.tools} | {t.name: t for t in current.tools}
        update["tools"] = tuple(merged[n] for n in sorted(merged))
    if new.vector_namespaces:
        names = {n.name: n for n in (*current.vector_namespaces, *new.vector_namespaces)}
        update["vector_namespaces"] = tuple(names[n] for n in sorted(names))
    if not update:
        return current
    data = current.model_dump(include=current.model_fields_set | set(update), by_alias=False)
    data.update(update)
    return AssetSpec.model_validate(data)


def _evidence(
    path: str, line: int, confidence: Confidence = Confidence.DECLARED, detail: str = ""
) -> Evidence:
    return Evidence(location=f"{path}:{line}", confidence=confidence, detail=detail[:2000])


def discover_code(paths: Sequence[str | Path], *, org: str | None = None) -> DiscoveryResult:
    """Scan each path (a repository or any folder) and return what it uses; see the module doc."""
    roots = [Path(p) for p in paths]
    result = DiscoveryResult(
        source=SOURCE,
        scope=";".join(str(r.resolve()) for r in roots),
        org=org,
    )
    builder = _Builder(result, org)
    for root in roots:
        _scan_root(root, builder, result)
    builder.finish()
    from garrison.core.timeutil import utcnow

    result.finished_at = utcnow()
    return result


def _scan_root(root: Path, builder: _Builder, result: DiscoveryResult) -> None:
    try:
        mode = root.stat().st_mode
    except OSError as exc:
        result.errors.append(
            CallFailure(
                "walk",
                exc.strerror or str(exc),
                target=str(root),
                code=_errno_name(exc),
                denied=isinstance(exc, PermissionError),
            )
        )
        result.complete = False
        return
    if stat.S_ISREG(mode):
        walk = _Walk(
            files=[(root, _kind_of(root.name, root.suffix.lower(), root.parent.name) or "config")]
        )
        base = root.parent
    else:
        walk = _walk(root)
        base = root
    result.errors.extend(walk.errors)
    result.complete = result.complete and walk.complete
    absolute = base.resolve()
    root_id = f"code:{absolute}"
    apps: dict[Path, _App] = {}
    repo_level: list[FileFindings] = []
    memo: dict[Path, Path] = {}
    for file_path, kind in walk.files:
        # The walk joins entries onto the root as given, so the path reads as the user wrote it.
        display = str(file_path)
        text, ok = _read(file_path, display, result.errors)
        if not ok:
            result.complete = False
        if text is None:
            continue
        findings = scan_file(text, display, kind)
        result.errors.extend(findings.errors)
        folder = _app_folder(file_path.parent, base, walk.manifests, memo)
        if not findings.is_code_use and folder == base and kind not in {"python", "javascript"}:
            repo_level.append(findings)
            continue
        app = apps.get(folder)
        if app is None:
            manifest = walk.manifests.get(folder)
            display_folder = str(root / folder.relative_to(base)) if folder != base else str(root)
            app = _App(
                folder,
                _app_name(folder, manifest),
                display_folder,
                None if manifest is None else str(root / manifest.relative_to(base)),
            )
            apps[folder] = app
        app.findings.append(findings)
        if kind in ("python", "javascript"):
            app.languages.add(kind)
    key_assets = _shared_assets(
        repo_level + [f for a in apps.values() for f in a.findings], root_id, builder
    )
    for app in apps.values():
        if not any(f.is_code_use for f in app.findings):
            continue
        _build_app(app, root_id, builder, key_assets)


def _app_folder(
    folder: Path, base: Path, manifests: dict[Path, Path], memo: dict[Path, Path]
) -> Path:
    """The deepest folder with a manifest at or above ``folder`` (``base`` if none)."""
    known = memo.get(folder)
    if known is not None:
        return known
    if folder in manifests or folder in (base, folder.parent):
        found = folder if folder in manifests else base
    else:
        found = _app_folder(folder.parent, base, manifests, memo)
    memo[folder] = found
    return found


def _app_name(folder: Path, manifest: Path | None) -> str:
    if manifest is not None:
        try:
            if manifest.name == "package.json":
                name = json.loads(manifest.read_text(encoding="utf-8")).get("name")
                if isinstance(name, str) and name.strip():
                    return name.strip()
            elif manifest.name == "pyproject.toml":
                data = tomllib.loads(manifest.read_text(encoding="utf-8"))
                name = data.get("project", {}).get("name") or data.get("tool", {}).get(
                    "poetry", {}
                ).get("name")
                if isinstance(name, str) and name.strip():
                    return name.strip()
        except (OSError, ValueError, AttributeError):
            pass
    return folder.resolve().name or "repository"


def _shared_assets(
    all_findings: Iterable[FileFindings], root_id: str, builder: _Builder
) -> dict[str, str]:
    """Key references, literal secrets and MCP servers, keyed per repository. Returns the handle
    of each key asset by env var name and by fingerprint."""
    handles: dict[str, str] = {}
    for findings in all_findings:
        for key in findings.keys:
            spec = AssetSpec(
                name=key.name,
                asset_type=AssetType.API_KEY,
                description="API key referenced by name in code or configuration",
                api_key=ApiKeyRef(location=KeyLocation.ENV_VAR, reference=key.name),
                source_id=f"{root_id}#env:{key.name}",
            )
            handles[key.name] = builder.asset(
                spec, [_evidence(findings.path, key.line, detail=key.detail)]
            )
        for secret in findings.secrets:
            location = (
                KeyLocation.CODE
                if findings.language in ("python", "javascript")
                else KeyLocation.CONFIG_FILE
            )
            reference = f"{findings.path}:{secret.line}"
            spec = AssetSpec(
                name=f"hard-coded key {secret.fingerprint[7:19]}",
                asset_type=AssetType.API_KEY,
                description="A literal credential in the repository (only its fingerprint is kept)",
                api_key=ApiKeyRef(
                    location=location, reference=reference[:1000], fingerprint=secret.fingerprint
                ),
                source_id=f"{root_id}#secret:{secret.fingerprint}",
                tags=("finding:hard-coded-secret",),
            )
            handles[secret.fingerprint] = builder.asset(
                spec,
                [
                    _evidence(
                        findings.path, secret.line, detail=f"hard-coded secret ({secret.context})"
                    )
                ],
            )
        for server in findings.mcp_servers:
            _build_mcp(server, findings.path, root_id, builder, handles)
    return handles


def _build_mcp(
    server: McpServerDef, path: str, root_id: str, builder: _Builder, keys: dict[str, str]
) -> None:
    remote = server.url is not None
    description = (
        f"remote MCP server at {server.url}"
        if remote
        else f"local MCP server: {' '.join([server.command or '', *server.args]).strip()}"
    )
    if server.env_names:
        description += f"; environment: {', '.join(server.env_names)}"
    tags = [f"mcp:{'remote' if remote else 'local'}", f"mcp-config:{server.config_kind}"]
    spec = AssetSpec(
        name=server.name,
        asset_type=AssetType.MCP_SERVER,
        description=description[:4000],
        source_id=f"{root_id}#mcp:{server.name}",
        api_endpoint=server.url if remote else None,
        is_self_hosted=not remote,
        tags=tuple(tags),
    )
    handle = builder.asset(
        spec, [_evidence(path, server.line, detail=f"{server.config_kind} MCP configuration")]
    )
    for env_name in server.env_names:
        if env_name in keys:
            builder.edge(handle, keys[env_name], Relation.AUTHENTICATES_WITH)


def _build_app(  # noqa: PLR0912 - one block per kind of finding an app links to
    app: _App, root_id: str, builder: _Builder, keys: dict[str, str]
) -> None:
    first = next(f for f in app.findings if f.is_code_use)
    languages = ", ".join(
        sorted("Python" if lang == "python" else "JavaScript/TypeScript" for lang in app.languages)
    )
    prompts = [(text, f.path, line) for f in app.findings for text, line in f.system_prompts]
    spec_data: dict[str, Any] = {
        "name": app.name,
        "asset_type": AssetType.LLM_APPLICATION,
        "description": f"LLM application in {app.display} ({languages or 'configuration'})",
        "source_id": f"code:{app.folder.resolve()}",
    }
    if prompts:
        from garrison.inventory.secrets import prompt_fingerprint

        spec_data["system_prompt_sha256"] = prompt_fingerprint(prompts[0][0])
    evidence = [_evidence(app.manifest or first.path, 1)]
    if prompts:
        evidence.append(
            Evidence(
                location=f"{prompts[0][1]}:{prompts[0][2]}",
                attributes=("system_prompt_sha256",),
                detail="system prompt (fingerprint only)",
            )
        )
    all_tools: dict[str, ToolDef] = {}
    by_function: dict[str, str] = {}
    for findings in app.findings:
        for tool in findings.tools:
            all_tools.setdefault(tool.name, tool)
            if tool.function:
                by_function.setdefault(tool.function, tool.name)
    agent_tools: set[str] = set()
    for findings in app.findings:
        findings.agents = [
            AgentDef(
                a.name,
                a.framework,
                a.line,
                tuple(t if t in all_tools else by_function.get(t, t) for t in a.tools),
                a.models,
            )
            for a in findings.agents
        ]
        for agent in findings.agents:
            agent_tools.update(agent.tools)
    loose = [all_tools[n] for n in sorted(all_tools) if n not in agent_tools]
    if loose:
        spec_data["tools"] = tuple(_agent_tool(t) for t in loose)
    app_handle = builder.asset(AssetSpec.model_validate(spec_data), evidence)
    app_key = f"code:{app.folder.resolve()}"
    tool_handles: dict[str, str] = {}
    for findings in app.findings:
        for tool in findings.tools:
            tool_spec = AssetSpec(
                name=tool.name,
                asset_type=AssetType.TOOL,
                description=(
                    f"{tool.framework} tool backed by {tool.function or 'an inline function'}"
                    + (f": {tool.description}" if tool.description else "")
                )[:4000],
                source_id=f"{app_key}#tool:{tool.name}",
            )
            tool_handles[tool.name] = builder.asset(
                tool_spec, [_evidence(findings.path, tool.line, detail=f"function {tool.function}")]
            )
    for findings in app.findings:
        for model in findings.models:
            for handle, relation in _model_assets(model, findings.path, builder):
                builder.edge(app_handle, handle, relation)
        for arn, line in findings.arn_targets:
            builder.edge(app_handle, arn, Relation.DEPENDS_ON)
            # The ARN's own asset comes from cloud discovery; the evidence rides on the app.
            builder.add_evidence(
                app_handle, _evidence(findings.path, line, detail=f"modelId {arn}")
            )
        for name in {k.name for k in findings.keys}:
            if name in keys and findings.language in ("python", "javascript"):
                builder.edge(app_handle, keys[name], Relation.AUTHENTICATES_WITH)
        for secret in findings.secrets:
            if findings.language in ("python", "javascript"):
                builder.edge(app_handle, keys[secret.fingerprint], Relation.AUTHENTICATES_WITH)
        for vector in findings.vectors:
            handle = _vector_asset(vector, findings.path, app_key, builder)
            builder.edge(app_handle, handle, Relation.RETRIEVES_FROM)
        for agent in findings.agents:
            tools = tuple(
                _agent_tool(all_tools[t]) if t in all_tools else AgentTool(name=t)
                for t in agent.tools
            )
            agent_spec = AssetSpec(
                name=agent.name,
                asset_type=AssetType.AI_AGENT,
                description=f"{agent.framework} agent in {app.display}",
                source_id=f"{app_key}#agent:{agent.name}",
                tools=tools,
            )
            agent_handle = builder.asset(
                agent_spec,
                [_evidence(findings.path, agent.line, detail=f"{agent.framework} agent")],
            )
            builder.edge(app_handle, agent_handle, Relation.DEPENDS_ON)
            for tool_name in agent.tools:
                if tool_name in tool_handles:
                    builder.edge(agent_handle, tool_handles[tool_name], Relation.USES_TOOL)
            for model in agent.models:
                for handle, relation in _model_assets(model, findings.path, builder):
                    builder.edge(agent_handle, handle, relation)


def _agent_tool(tool: ToolDef) -> AgentTool:
    return AgentTool(
        name=tool.name,
        description=(
            f"{tool.framework}: {tool.function}"
            + (f" - {tool.description}" if tool.description else "")
        )[:2000],
        permissions=tool.permissions,
    )


def _model_assets(model: ModelUse, path: str, builder: _Builder) -> list[tuple[str, Relation]]:
    """The assets one model use stands for, and how the application relates to each."""
    out: list[tuple[str, Relation]] = []
    detail = f"via {model.via}" if model.via else ""
    if model.pinned is not None:
        detail += f"; pinned: {'true' if model.pinned else 'false'}"
        if model.revision:
            detail += f" (revision {model.revision})"
    endpoint_handle = None
    endpoint = model.endpoint or pat.PROVIDER_ENDPOINTS.get(model.provider)
    if model.deployment is not None:
        spec = AssetSpec(
            name=f"{model.provider} deployment {model.deployment}",
            asset_type=AssetType.API_ENDPOINT,
            model_provider=model.provider,
            model_name=model.deployment,
            api_endpoint=model.endpoint,
            cloud_provider="azure" if model.provider == "azure_openai" else None,
            tags=(f"azure-deployment:{model.deployment}",),
        )
        endpoint_handle = builder.asset(
            spec, [_evidence(path, model.line, model.confidence, detail)]
        )
        out.append((endpoint_handle, Relation.DEPENDS_ON))
    elif endpoint is not None and model.provider not in pat.SELF_HOSTED_PROVIDERS - {"ollama"}:
        confidence = Confidence.DECLARED if model.endpoint_declared else Confidence.INFERRED
        spec = AssetSpec(
            name=f"{model.provider} API ({endpoint})",
            asset_type=AssetType.API_ENDPOINT,
            model_provider=model.provider,
            api_endpoint=endpoint,
            exposure=Exposure.PUBLIC
            if endpoint in pat.PROVIDER_ENDPOINTS.values() and model.provider != "ollama"
            else Exposure.UNKNOWN,
            is_self_hosted=model.provider == "ollama",
        )
        endpoint_handle = builder.asset(spec, [_evidence(path, model.line, confidence, detail)])
        out.append((endpoint_handle, Relation.DEPENDS_ON))
    if model.model is None:
        return out
    asset_type = AssetType.EMBEDDING_MODEL if model.embedding else AssetType.FOUNDATION_MODEL
    if model.provider == "aws_bedrock" and model.model.startswith(pat.BEDROCK_GEO_PREFIXES):
        asset_type = AssetType.INFERENCE_PROFILE
    data: dict[str, Any] = {
        "name": f"{model.provider}/{model.model}",
        "asset_type": asset_type,
        "model_provider": model.provider,
        "model_name": model.model,
    }
    if model.provider in pat.SELF_HOSTED_PROVIDERS:
        data["is_self_hosted"] = True
    if model.provider == "huggingface":
        data["source_url"] = f"https://huggingface.co/{model.model}"
        if model.revision:
            data["model_version"] = model.revision
        data["tags"] = ("hf:pinned",) if model.pinned else ("hf:unpinned",)
    handle = builder.asset(
        AssetSpec.model_validate(data), [_evidence(path, model.line, model.confidence, detail)]
    )
    out.append((handle, Relation.DEPENDS_ON))
    if endpoint_handle is not None:
        builder.edge(handle, endpoint_handle, Relation.SERVED_BY)
    return out


def _vector_asset(vector: VectorUse, path: str, app_key: str, builder: _Builder) -> str:
    remote = vector.location is not None and "://" in vector.location
    data: dict[str, Any] = {
        "name": f"{vector.kind} ({vector.location})"
        if vector.location
        else f"{vector.kind} in {Path(app_key[5:]).name}",
        "asset_type": AssetType.VECTOR_DATABASE,
        "model_provider": vector.kind,
    }
    if remote:
        data["api_endpoint"] = vector.location
    else:
        data["source_id"] = f"{app_key}#vector:{vector.kind}" + (
            f":{vector.location}" if vector.location else ""
        )
        data["is_self_hosted"] = True
    if vector.namespaces:
        data["vector_namespaces"] = tuple(
            VectorNamespace(name=n) for n in sorted(set(vector.namespaces))
        )
    return builder.asset(
        AssetSpec.model_validate(data),
        [_evidence(path, vector.line, detail=f"{vector.kind} client")],
    )


def iter_findings(paths: Sequence[str | Path]) -> Iterator[FileFindings]:
    """Every file's findings, for callers that want the raw view (tests, other tools)."""
    for raw in paths:
        root = Path(raw)
        walk = _walk(root)
        for file_path, kind in walk.files:
            display = str(root / file_path.relative_to(root))
            text, _ = _read(file_path, display, [])
            if text is not None:
                yield scan_file(text, display, kind)
