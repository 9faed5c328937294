"""Natural keys: how the registry knows that two sightings are the same asset.

Three kinds, tried in order:

``id:<source_id>``
    The source's own identifier (a cloud ARN or resource ID, ``sha256:<digest>@<path>`` for a file).
    Exact and stable, so it wins whenever the source has one.
``model:<provider>|<model>|<endpoint>|<environment>``
    The seed's key, for a model or endpoint known by what it serves and where.
``name:<type>|<name>|<environment>``
    Everything else (datasets, prompts, guardrails, agents declared by hand). The seed compared
    provider, model and endpoint even when all three were empty, so every dataset of an
    environment collapsed into one asset; typing and naming the key fixes that.

Keys are normalised (case, surrounding space, trailing slash of an endpoint) so that spelling
differences between sources do not make duplicates. All functions here are pure.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from garrison.inventory.models import AssetSpec


def normalise_endpoint(endpoint: str) -> str:
    """Lower-case scheme and host, no trailing slash; path case is kept (it can be significant)."""
    text = endpoint.strip()
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text.rstrip("/").lower()
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _fold(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


def natural_key(spec: AssetSpec) -> str:
    """The key that makes re-registering ``spec`` an update rather than a new asset."""
    if spec.source_id:
        return f"id:{spec.source_id.strip()}"
    if spec.model_name or spec.api_endpoint:
        endpoint = normalise_endpoint(spec.api_endpoint) if spec.api_endpoint else ""
        return (
            f"model:{_fold(spec.model_provider)}|{_fold(spec.model_name)}|{endpoint}|"
            f"{spec.environment.value}"
        )
    return f"name:{spec.asset_type.value}|{_fold(spec.name)}|{spec.environment.value}"
