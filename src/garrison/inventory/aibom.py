"""The AI-BOM: the inventory as a CycloneDX 1.6 JSON document, and back.

``export_bom(session, org=None) -> str`` builds the BOM with cyclonedx-python-lib, adds what the
library cannot build (``modelCard``, component ``data``, ``cryptoProperties``), validates the result
against the 1.6 JSON schema and returns it; a validation failure raises ``AibomError`` naming the
JSON path. ``import_bom(session, path, org=None)`` reads a CycloneDX JSON BOM (ours or another
tool's) into the registry as a discovery run of source ``aibom``.

How assets map
--------------
=============================================  ================================================
``foundation/fine_tuned/embedding_model``       component ``machine-learning-model`` + modelCard
``training/evaluation_dataset``,               component ``data`` (``data[].type`` dataset;
``knowledge_base``, ``vector_database``,        guardrail: configuration; prompt: definition)
``guardrail_config``, ``prompt_template``
``llm_application``, ``ai_agent``, ``tool``     component ``application``
``api_key``                                     component ``cryptographic-asset`` (a credential;
                                                reference and fingerprint only)
``api_endpoint``, ``inference_profile``,        ``services`` (endpoints, provider,
``mcp_server``                                  authenticated, x-trust-boundary, data)
=============================================  ================================================

``bom-ref`` is ``<org>/<natural key>``, so two exports of the same registry name things alike.
SHA-256 hashes come from ``sha256:<digest>@…`` source IDs; licences are SPDX IDs where the value is
one, else a name. Every attribute the registry holds that differs from its default is also kept as a
``garrison:<attribute>`` property (strings as they are; lists and objects as JSON), with the
evidence (``garrison:evidence``) and the typed edges (``garrison:depends_on``), so an export
imported into an empty store exports again to the same document. What does not survive: asset
IDs (a store makes its own), history, sightings and which source set each attribute (the importer
becomes the source).

A BOM from another tool is read by its CycloneDX fields: model, data and service entries become
assets, ``dependencies`` and modelCard dataset references become edges; other component types
(libraries, containers, …) are software, not AI assets, and are counted as skipped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from garrison import __version__
from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import DiscoveredAsset, DiscoveredEdge, DiscoveryResult
from garrison.inventory.models import (
    DATA_TYPES,
    MODEL_TYPES,
    AIAsset,
    AssetSpec,
    AssetType,
    Confidence,
    DataClassification,
    Dependency,
    Evidence,
    Exposure,
    Relation,
)
from garrison.inventory.query import AssetFilter
from garrison.inventory.registry import (
    DiscoveryRun,
    apply_discovery,
    get_asset_detail,
    list_dependencies,
    search,
)

SOURCE = "aibom"
SPEC_VERSION = "1.6"
PREFIX = "garrison:"
MAX_BOM_BYTES = 100_000_000
SUPPORTED_VERSIONS = ("1.5", "1.6")
"""CycloneDX versions with ``machine-learning-model`` and ``data`` component types."""

SERVICE_TYPES = frozenset(
    {AssetType.API_ENDPOINT, AssetType.INFERENCE_PROFILE, AssetType.MCP_SERVER}
)
APPLICATION_TYPES = frozenset({AssetType.LLM_APPLICATION, AssetType.AI_AGENT, AssetType.TOOL})
_DATA_KIND = {
    AssetType.GUARDRAIL_CONFIG: "configuration",
    AssetType.PROMPT_TEMPLATE: "definition",
}
_JSON_ATTRIBUTES = frozenset({"regulatory_scope", "tools", "vector_namespaces", "api_key", "tags"})
_NATIVE_ATTRIBUTES = frozenset({"name", "description"})
_ARCHITECTURE_FAMILIES = (
    ("gpt", "transformer"),
    ("claude", "transformer"),
    ("llama", "transformer"),
    ("mistral", "transformer"),
    ("mixtral", "transformer (mixture of experts)"),
    ("gemini", "transformer"),
    ("command", "transformer"),
    ("text-embedding", "transformer"),
    ("bert", "transformer"),
    ("minilm", "transformer"),
    ("t5", "transformer"),
    ("resnet", "convolutional neural network"),
)


class AibomError(GarrisonError):
    """A BOM that cannot be written or read as asked."""


# --- export ---------------------------------------------------------------------------------------


def bom_ref(asset: AIAsset) -> str:
    return f"{asset.org}/{asset.natural_key}"


def _property_value(name: str, value: Any) -> str:
    if name in _JSON_ATTRIBUTES or not isinstance(value, str):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _garrison_properties(asset: AIAsset) -> list[tuple[str, str]]:
    data = asset.spec().attributes()
    out = [(f"{PREFIX}asset_id", asset.id)]
    for name in sorted(data):
        if name in _NATIVE_ATTRIBUTES:
            continue
        default = AssetSpec.model_fields[name].get_default(call_default_factory=True)
        value = data[name]
        if value == _json_default(default):
            continue
        out.append((f"{PREFIX}{name}", _property_value(name, value)))
    return out


def _json_default(default: Any) -> Any:
    if isinstance(default, StrEnum):
        return default.value
    if isinstance(default, tuple):
        return list(default)
    return default


def _sha256(asset: AIAsset) -> str | None:
    source_id = asset.source_id or ""
    if source_id.startswith("sha256:"):
        digest = source_id[7:].split("@", 1)[0].lower()
        if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            return digest
    return None


def _architecture_family(model_name: str | None) -> str | None:
    lowered = (model_name or "").lower().rsplit("/", 1)[-1]
    for prefix, family in _ARCHITECTURE_FAMILIES:
        if prefix in lowered:
            return family
    return None


@dataclass
class _Export:
    assets: list[AIAsset]
    edges: list[Dependency]
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def refs(self) -> dict[str, str]:
        return {a.id: bom_ref(a) for a in self.assets}


def _collect(session: Session, org: str | None) -> _Export:
    assets = sorted(search(session, AssetFilter(org=org)), key=lambda a: (a.org, a.natural_key))
    edges = list_dependencies(session, org=org)
    export = _Export(assets, edges)
    for asset in assets:
        detail = get_asset_detail(session, asset.id)
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for record in sorted(detail.evidence, key=lambda e: e.observed_at):
            newest[(record.location, record.confidence.value)] = {
                "location": record.location,
                "confidence": record.confidence.value,
                "observed_at": record.observed_at.isoformat(),
                "attributes": list(record.attributes),
                "detail": record.detail,
            }
        export.evidence[asset.id] = [newest[k] for k in sorted(newest)]
    return export


def export_bom(  # noqa: PLR0915 - the mapping table, in one readable place
    session: Session, *, org: str | None = None
) -> str:
    """The registry (or one organization of it) as validated CycloneDX 1.6 JSON."""
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import DataClassification as CdxDataClassification
    from cyclonedx.model import DataFlow, HashAlgorithm, HashType, Property, XsUri
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalEntity
    from cyclonedx.model.service import Service
    from cyclonedx.output.json import JsonV1Dot6

    export = _collect(session, org)
    refs = export.refs()
    licenses = LicenseFactory()
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION, name="garrison", version=__version__, group="garrison"
        )
    )
    bom.metadata.properties.add(Property(name=f"{PREFIX}org", value=org or "*"))
    by_id: dict[str, Any] = {}
    upstream: dict[str, list[Dependency]] = defaultdict(list)
    for edge in export.edges:
        upstream[edge.asset_id].append(edge)
    authenticated = {e.asset_id for e in export.edges if e.relation is Relation.AUTHENTICATES_WITH}
    for asset in export.assets:
        properties = [Property(name=n, value=v) for n, v in _garrison_properties(asset)]
        properties.append(
            Property(
                name=f"{PREFIX}evidence",
                value=json.dumps(
                    export.evidence.get(asset.id, []), sort_keys=True, separators=(",", ":")
                ),
            )
        )
        depends = [
            {"target": refs.get(e.target_id or "", e.target_ref), "relation": e.relation.value}
            for e in upstream.get(asset.id, [])
        ]
        if depends:
            properties.append(
                Property(
                    name=f"{PREFIX}depends_on",
                    value=json.dumps(
                        sorted(depends, key=lambda d: (d["target"], d["relation"])),
                        separators=(",", ":"),
                    ),
                )
            )
        license_list = [licenses.make_from_string(asset.license_type)] if asset.license_type else []
        if asset.asset_type in SERVICE_TYPES:
            flows = []
            if asset.data_classification is not None:
                flows.append(
                    CdxDataClassification(
                        flow=DataFlow.BI_DIRECTIONAL, classification=asset.data_classification.value
                    )
                )
            crosses = (
                True
                if (
                    asset.exposure is Exposure.PUBLIC
                    or (asset.model_provider and not asset.is_self_hosted)
                )
                else None
            )
            item: Any = Service(
                name=asset.name,
                bom_ref=refs[asset.id],
                provider=OrganizationalEntity(name=asset.model_provider)
                if asset.model_provider
                else None,
                version=asset.model_version,
                description=asset.description or None,
                endpoints=[XsUri(asset.api_endpoint)] if asset.api_endpoint else None,
                authenticated=True if asset.id in authenticated else None,
                x_trust_boundary=crosses,
                data=flows or None,
                licenses=license_list or None,
                properties=properties,
            )
            bom.services.add(item)
        else:
            if asset.asset_type in MODEL_TYPES:
                kind = ComponentType.MACHINE_LEARNING_MODEL
            elif asset.asset_type in DATA_TYPES or asset.asset_type in _DATA_KIND:
                kind = ComponentType.DATA
            elif asset.asset_type is AssetType.API_KEY:
                kind = ComponentType.CRYPTOGRAPHIC_ASSET
            else:
                kind = ComponentType.APPLICATION
            digest = _sha256(asset)
            item = Component(
                type=kind,
                name=asset.name,
                bom_ref=refs[asset.id],
                version=asset.model_version,
                description=asset.description or None,
                supplier=OrganizationalEntity(name=asset.model_provider)
                if asset.model_provider
                else None,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)] if digest else None,
                licenses=license_list or None,
                properties=properties,
            )
            bom.components.add(item)
        by_id[asset.id] = item
    for asset in export.assets:
        targets = [by_id[e.target_id] for e in upstream.get(asset.id, []) if e.target_id in by_id]
        bom.register_dependency(by_id[asset.id], targets)
    text = JsonV1Dot6(bom).output_as_string()
    document = json.loads(text)
    _add_model_cards(document, export)
    _strip_volatile(document)
    out = json.dumps(document, indent=2, sort_keys=False)
    validate_bom(out, SPEC_VERSION)
    return out


def _strip_volatile(document: dict[str, Any]) -> None:
    """Drop what changes on every run (serial number aside) so exports are comparable."""
    metadata = document.get("metadata", {})
    for tool in metadata.get("tools", {}).get("components", []):
        tool.pop("bom-ref", None)


def _add_model_cards(document: dict[str, Any], export: _Export) -> None:
    """What the library does not build: modelCard for models, ``data`` for data components,
    ``cryptoProperties`` for key references."""
    refs = export.refs()
    assets = {refs[a.id]: a for a in export.assets}
    by_ref = {refs[a.id]: a for a in export.assets}
    datasets: dict[str, list[str]] = defaultdict(list)
    users: dict[str, list[str]] = defaultdict(list)
    for edge in export.edges:
        source = refs.get(edge.asset_id)
        target = refs.get(edge.target_id or "")
        if source is None or target is None:
            continue
        if edge.relation in (Relation.TRAINED_ON, Relation.EVALUATED_ON):
            datasets[source].append(target)
        if by_ref[target].asset_type in MODEL_TYPES and by_ref[source].asset_type in (
            AssetType.LLM_APPLICATION,
            AssetType.AI_AGENT,
        ):
            users[target].append(by_ref[source].name)
    for component in document.get("components", []):
        asset = assets.get(component.get("bom-ref", ""))
        if asset is None:
            continue
        kind = component.get("type")
        if kind == "machine-learning-model":
            component["modelCard"] = _model_card(
                asset, datasets.get(component["bom-ref"], []), users.get(component["bom-ref"], [])
            )
        elif kind == "data":
            entry: dict[str, Any] = {
                "type": _DATA_KIND.get(asset.asset_type, "dataset"),
                "name": asset.name,
            }
            if asset.data_classification is not None:
                entry["classification"] = asset.data_classification.value
            if asset.description:
                entry["description"] = asset.description
            component["data"] = [entry]
        elif kind == "cryptographic-asset":
            component["cryptoProperties"] = {
                "assetType": "related-crypto-material",
                "relatedCryptoMaterialProperties": {"type": "credential"},
            }


def _model_card(asset: AIAsset, datasets: Sequence[str], users: Sequence[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    if asset.asset_type is AssetType.EMBEDDING_MODEL:
        parameters["task"] = "embedding"
    family = _architecture_family(asset.model_name or asset.name)
    if family:
        parameters["architectureFamily"] = family
    if asset.model_name:
        parameters["modelArchitecture"] = asset.model_name
    if datasets:
        parameters["datasets"] = [{"ref": ref} for ref in sorted(set(datasets))]
    card: dict[str, Any] = {"bom-ref": f"{bom_ref(asset)}#model-card"}
    if parameters:
        card["modelParameters"] = parameters
    considerations: dict[str, Any] = {}
    if users:
        considerations["useCases"] = [f"used by {name}" for name in sorted(set(users))]
    if asset.regulatory_scope:
        considerations["technicalLimitations"] = [
            f"subject to {', '.join(s.value for s in asset.regulatory_scope)}"
        ]
    if considerations:
        card["considerations"] = considerations
    card_properties = []
    if asset.parameter_count:
        card_properties.append(
            {"name": f"{PREFIX}parameter_count", "value": str(asset.parameter_count)}
        )
    if card_properties:
        card["properties"] = card_properties
    return card


def validate_bom(text: str, version: str = SPEC_VERSION) -> None:
    """Raise ``AibomError`` (with the JSON path of the first problem) unless ``text`` is valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    schema = SchemaVersion.from_version(version)
    error = JsonStrictValidator(schema).validate_str(text)
    if error is None:
        return
    detail = getattr(error, "data", None)
    path = "$" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in getattr(detail, "absolute_path", [])
    )
    message = getattr(detail, "message", str(error))
    raise AibomError(
        f"the BOM is not valid CycloneDX {version} at {path}: {message}",
        hint="this is a bug in the exporter if Garrison wrote it; otherwise fix the file",
    )


# --- import ---------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    runs: list[DiscoveryRun] = field(default_factory=list)
    imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    spec_version: str = ""
    garrison: bool = False


def read_bom(path: Path) -> dict[str, Any]:
    """The BOM at ``path`` as JSON data, refused with a clear message when it is not a
    CycloneDX JSON BOM of a supported version, or not valid against its schema."""
    try:
        size = path.stat().st_size
        if size > MAX_BOM_BYTES:
            raise AibomError(f"{path} is {size} bytes, over the {MAX_BOM_BYTES}-byte limit")
        raw = path.read_bytes()
    except OSError as exc:
        raise AibomError(f"cannot read {path}: {exc.strerror or exc}") from None
    head = raw.lstrip()[:200]
    if head.startswith(b"<"):
        raise AibomError(
            f"{path} is XML; Garrison reads CycloneDX JSON only",
            hint="convert it with `cyclonedx convert --output-format json` and import the JSON",
        )
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        kind = "SPDX tag-value" if head.startswith(b"SPDXVersion") else "JSON"
        raise AibomError(
            f"{path} is not {'JSON' if kind == 'JSON' else 'JSON but ' + kind}: {exc}",
            hint="give a CycloneDX JSON BOM",
        ) from None
    if not isinstance(data, dict):
        raise AibomError(f"{path} is JSON but not a CycloneDX BOM (the top level is not an object)")
    if "spdxVersion" in data or "SPDXID" in data:
        raise AibomError(
            f"{path} is an SPDX document ({data.get('spdxVersion', 'SPDX')}), not CycloneDX",
            hint="export the BOM as CycloneDX 1.5 or 1.6 JSON",
        )
    if data.get("bomFormat") != "CycloneDX":
        found = ", ".join(sorted(list(data)[:6]))
        raise AibomError(
            f'{path} is not a CycloneDX BOM: no "bomFormat": "CycloneDX" (top-level keys: {found})',
            hint="scanner reports and other formats are not AI-BOMs; give a CycloneDX JSON BOM",
        )
    version = str(data.get("specVersion", ""))
    if version not in SUPPORTED_VERSIONS:
        raise AibomError(
            f"{path} is CycloneDX {version or '(no specVersion)'}; Garrison reads "
            f"{' and '.join(SUPPORTED_VERSIONS)} (the versions with model and data components)",
        )
    validate_bom(json.dumps(data), version)
    return data


def _props(item: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(p.get("name")): str(p.get("value", ""))
        for p in item.get("properties", []) or []
        if isinstance(p, dict) and str(p.get("name", "")).startswith(PREFIX)
    }


def _flatten(components: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for component in components:
        if isinstance(component, dict):
            yield component
            yield from _flatten(component.get("components", []) or [])


def _garrison_spec(item: Mapping[str, Any], props: Mapping[str, str], org: str | None) -> AssetSpec:
    data: dict[str, Any] = {
        "name": item.get("name", ""),
        "description": item.get("description", ""),
    }
    for name, value in props.items():
        attribute = name[len(PREFIX) :]
        if attribute not in AssetSpec.model_fields or attribute == "depends_on":
            continue
        data[attribute] = json.loads(value) if attribute in _JSON_ATTRIBUTES else value
    if org is not None:
        data["org"] = org
    return AssetSpec.model_validate(data)


def _license(item: Mapping[str, Any]) -> str | None:
    for entry in item.get("licenses", []) or []:
        if not isinstance(entry, dict):
            continue
        if "expression" in entry:
            return str(entry["expression"])
        lic = entry.get("license", {})
        value = lic.get("id") or lic.get("name")
        if value:
            return str(value)
    return None


def _foreign_spec(  # noqa: PLR0912 - one branch per optional CycloneDX field
    item: Mapping[str, Any], asset_type: AssetType, org: str | None, dataset_refs: set[str]
) -> AssetSpec:
    data: dict[str, Any] = {
        "name": (f"{item['group']}/{item['name']}" if item.get("group") else item.get("name", "")),
        "asset_type": asset_type,
        "description": item.get("description", "") or "",
    }
    if org is not None:
        data["org"] = org
    provider = None
    for key in ("supplier", "manufacturer", "provider", "publisher"):
        value = item.get(key)
        provider = value.get("name") if isinstance(value, dict) else value
        if provider:
            break
    if asset_type in MODEL_TYPES:
        data["model_name"] = data["name"]
        data["model_provider"] = provider
    elif provider:
        data["model_provider"] = provider
    if item.get("version"):
        data["model_version"] = str(item["version"])
    if item.get("purl"):
        data["source_id"] = str(item["purl"])
    license_value = _license(item)
    if license_value:
        data["license_type"] = license_value
    tags = []
    for digest in item.get("hashes", []) or []:
        if isinstance(digest, dict) and digest.get("alg") == "SHA-256":
            tags.append(f"sha256:{str(digest.get('content', '')).lower()}")
    for ref in item.get("externalReferences", []) or []:
        if isinstance(ref, dict) and ref.get("type") in (
            "website",
            "vcs",
            "distribution",
            "model-card",
        ):
            data.setdefault("source_url", ref.get("url"))
    endpoints = item.get("endpoints") or []
    if endpoints:
        data["api_endpoint"] = str(endpoints[0])
    if item.get("x-trust-boundary") is True:
        tags.append("trust-boundary")
    if item.get("authenticated") is True:
        tags.append("authenticated")
    flows = item.get("data") or []
    for flow in flows:
        if not isinstance(flow, dict):
            continue
        classification = str(flow.get("classification", "")).lower()
        if classification in {c.value for c in DataClassification}:
            data["data_classification"] = classification
            break
    if tags:
        data["tags"] = tuple(tags)
    return AssetSpec.model_validate(data)


def bom_to_results(  # noqa: PLR0912 - ours vs foreign, component vs service
    data: Mapping[str, Any], *, origin: str, org: str | None = None
) -> tuple[list[DiscoveryResult], ImportSummary]:
    """A parsed BOM as one discovery result per organization (pure: no store)."""
    summary = ImportSummary(spec_version=str(data.get("specVersion", "")))
    components = list(_flatten(data.get("components", []) or []))
    services = list(_flatten(data.get("services", []) or []))
    dataset_refs: set[str] = set()
    for component in components:
        card = component.get("modelCard") or {}
        for ref in (card.get("modelParameters") or {}).get("datasets", []) or []:
            if isinstance(ref, dict) and "ref" in ref:
                dataset_refs.add(str(ref["ref"]))
    by_org: dict[str, DiscoveryResult] = {}
    handle_org: dict[str, str] = {}
    typed_edges: dict[str, list[tuple[str, Relation]]] = defaultdict(list)
    for index, item in enumerate([*components, *services]):
        is_service = index >= len(components)
        ref = str(item.get("bom-ref") or f"#{index}")
        props = _props(item)
        try:
            if f"{PREFIX}asset_type" in props:
                spec = _garrison_spec(item, props, org)
                summary.garrison = True
                evidence = tuple(
                    Evidence.model_validate(e)
                    for e in json.loads(props.get(f"{PREFIX}evidence", "[]"))
                )
                for edge in json.loads(props.get(f"{PREFIX}depends_on", "[]")):
                    typed_edges[ref].append((str(edge["target"]), Relation(edge["relation"])))
            else:
                kind = "service" if is_service else str(item.get("type", ""))
                asset_type = {
                    "machine-learning-model": AssetType.FOUNDATION_MODEL,
                    "data": AssetType.TRAINING_DATASET,
                    "service": AssetType.API_ENDPOINT,
                }.get(kind)
                if asset_type is None:
                    summary.skipped[kind or "untyped"] = (
                        summary.skipped.get(kind or "untyped", 0) + 1
                    )
                    continue
                if (
                    asset_type is AssetType.TRAINING_DATASET
                    and ref not in dataset_refs
                    and any(
                        word in str(item.get("name", "")).lower()
                        for word in ("eval", "test", "bench")
                    )
                ):
                    asset_type = AssetType.EVALUATION_DATASET
                spec = _foreign_spec(item, asset_type, org, dataset_refs)
                evidence = (
                    Evidence(
                        location=f"{origin}#{ref}"[:2000],
                        confidence=Confidence.DECLARED,
                        detail=f"CycloneDX {summary.spec_version} {kind}",
                    ),
                )
                card = item.get("modelCard") or {}
                for dataset in (card.get("modelParameters") or {}).get("datasets", []) or []:
                    if isinstance(dataset, dict) and "ref" in dataset:
                        typed_edges[ref].append((str(dataset["ref"]), Relation.TRAINED_ON))
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            raise AibomError(
                f"{origin}: entry {ref!r} cannot be read as an asset: {_first_error(exc)}",
                hint="fix the entry or remove it; nothing was imported",
            ) from None
        result = by_org.setdefault(
            spec.org, DiscoveryResult(source=SOURCE, scope=f"aibom:{origin}", org=spec.org)
        )
        result.assets.append(DiscoveredAsset(spec=spec, evidence=evidence, key=ref))
        handle_org[ref] = spec.org
        summary.imported += 1
    if not summary.garrison:
        for dependency in data.get("dependencies", []) or []:
            source = str(dependency.get("ref", ""))
            for target in dependency.get("dependsOn", []) or []:
                if source in handle_org and str(target) in handle_org:
                    typed_edges[source].append((str(target), Relation.DEPENDS_ON))
    for source, targets in typed_edges.items():
        if source not in handle_org:
            continue
        result = by_org[handle_org[source]]
        for target, relation in dict.fromkeys(targets):
            result.edges.append(DiscoveredEdge(source, target, relation))
    return list(by_org.values()), summary


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


def import_bom(session: Session, path: Path, *, org: str | None = None) -> ImportSummary:
    """Read the BOM at ``path`` into the registry; see the module docstring."""
    data = read_bom(path)
    results, summary = bom_to_results(data, origin=path.name, org=org)
    for result in results:
        summary.runs.append(apply_discovery(session, result))
    return summary


__all__ = [
    "AibomError",
    "ImportSummary",
    "bom_to_results",
    "export_bom",
    "import_bom",
    "read_bom",
    "validate_bom",
]
