from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from garrison.core.timeutil import utcnow
from garrison.inventory.identity import natural_key, normalise_endpoint
from garrison.inventory.models import (
    ApiKeyRef,
    AssetSpec,
    AssetType,
    Confidence,
    Environment,
    Evidence,
    Exposure,
)
from garrison.inventory.secrets import (
    key_fingerprint,
    looks_like_raw_key,
    looks_like_secret,
    normalise_prompt,
    prompt_fingerprint,
)

RAW_KEYS = [
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab",
    "xoxb-123456789012-abcdefghijkl",
    "-----BEGIN RSA PRIVATE KEY-----",
    "Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijkl",
    "https://api.example.com/v1?api_key=abcd1234efgh5678ijkl",
    "Zx81mQ2pL7vN4rT9kB3wY6cH5dF0gJ1sA8eU",  # opaque mixed-case token (Cohere / Mistral style)
]

NOT_KEYS = [
    "OPENAI_API_KEY",
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/openai-AbCdEf",
    "https://northwind-kv.vault.azure.net/secrets/aoai-prod-key",
    "Meta-Llama-3.1-70B-Instruct-GPTQ-4bit-quantised",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "/srv/models/meta-llama/Llama-3.1-8B-Instruct/model.safetensors",
    "2d95874fbde74f24a3c7a43ba487f43efd02a6c76f29b5d9de30566536753e9f",  # a digest
    "Customer-support chat assistant on the website and in the mobile app.",
]


@pytest.mark.parametrize("value", RAW_KEYS)
def test_raw_keys_are_recognised(value: str) -> None:
    assert looks_like_secret(value)


@pytest.mark.parametrize("value", NOT_KEYS)
def test_references_names_and_digests_are_not_keys(value: str) -> None:
    assert not looks_like_secret(value)


def test_a_bare_hex_key_is_refused_only_where_a_reference_belongs() -> None:
    azure_key = "0123456789abcdef0123456789abcdef"
    assert looks_like_raw_key(azure_key)
    assert not looks_like_secret(azure_key)  # free text may hold commit hashes


def test_a_raw_key_in_any_text_attribute_is_refused() -> None:
    with pytest.raises(ValidationError, match="looks like a raw credential"):
        AssetSpec(name="bot", asset_type="llm_application", description=f"key {RAW_KEYS[0]}")
    with pytest.raises(ValidationError, match="raw credential"):
        AssetSpec(name="ep", asset_type="api_endpoint", api_endpoint=RAW_KEYS[-2])


def test_api_key_is_kept_by_reference_and_fingerprint() -> None:
    ref = ApiKeyRef(
        location="env_var", reference="OPENAI_API_KEY", fingerprint=key_fingerprint("secret")
    )
    spec = AssetSpec(name="OpenAI key", asset_type=AssetType.API_KEY, api_key=ref)

    assert spec.api_key is not None
    assert spec.api_key.fingerprint == key_fingerprint("secret")
    assert "secret" not in spec.model_dump_json()


@pytest.mark.parametrize(
    "reference", ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "0123456789abcdef" * 2]
)
def test_a_key_given_as_its_reference_is_refused(reference: str) -> None:
    with pytest.raises(ValidationError, match="this is a key, not a reference"):
        ApiKeyRef(location="azure_key_vault", reference=reference)


def test_env_var_reference_must_be_a_variable_name() -> None:
    with pytest.raises(ValidationError, match="not an environment variable name"):
        ApiKeyRef(location="env_var", reference="my key")


def test_fingerprint_has_one_format() -> None:
    with pytest.raises(ValidationError, match="fingerprint"):
        ApiKeyRef(location="env_var", reference="K", fingerprint="abc")


def test_api_key_only_on_api_key_assets() -> None:
    with pytest.raises(ValidationError, match="api_key is only for assets of type api_key"):
        AssetSpec(
            name="x",
            asset_type="llm_application",
            api_key={"location": "env_var", "reference": "K"},
        )


def test_tools_belong_to_agents_apps_and_mcp_servers() -> None:
    agent = AssetSpec(
        name="agent",
        asset_type="ai_agent",
        tools=[{"name": "pay", "permissions": ["write", "financial_transaction", "write"]}],
    )
    assert agent.tools[0].permissions == ("financial_transaction", "write")
    with pytest.raises(ValidationError, match="tools belong to"):
        AssetSpec(name="m", asset_type="foundation_model", tools=[{"name": "x"}])


def test_prompt_fingerprint_ignores_layout_not_wording() -> None:
    base = prompt_fingerprint("You are a helpful\tassistant.\nBe brief.")
    assert prompt_fingerprint("  You are a helpful assistant.  \r\nBe brief.\n\n") == base
    assert prompt_fingerprint("You are a helpful assistant.\nBe very brief.") != base
    assert normalise_prompt("a\r\n\tb  c") == "a\nb c"
    with pytest.raises(ValidationError):
        AssetSpec(name="a", asset_type="llm_application", system_prompt_sha256="You are…")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("7B", 7_000_000_000), ("1.5m", 1_500_000), ("70b", 70_000_000_000), (405, 405)],
)
def test_parameter_count_accepts_the_usual_notation(given: object, expected: int) -> None:
    spec = AssetSpec(name="m", asset_type="foundation_model", parameter_count=given)
    assert spec.parameter_count == expected


def test_parameter_count_rejects_words() -> None:
    with pytest.raises(ValidationError, match="not a parameter count"):
        AssetSpec(name="m", asset_type="foundation_model", parameter_count="large")


def test_regulatory_scope_none_means_empty_and_cannot_be_mixed() -> None:
    assert AssetSpec(name="a", asset_type="tool", regulatory_scope=["none"]).regulatory_scope == ()
    spec = AssetSpec(name="a", asset_type="tool", regulatory_scope="gdpr;hipaa,gdpr")
    assert spec.regulatory_scope == ("gdpr", "hipaa")
    with pytest.raises(ValidationError, match="cannot be combined"):
        AssetSpec(name="a", asset_type="tool", regulatory_scope=["none", "gdpr"])


def test_unclassified_is_not_silently_internal() -> None:
    spec = AssetSpec(name="d", asset_type="training_dataset")
    assert spec.data_classification is None
    assert spec.environment is Environment.UNKNOWN
    assert spec.exposure is Exposure.UNKNOWN


def test_seed_field_names_are_accepted() -> None:
    spec = AssetSpec.model_validate(
        {
            "name": "e",
            "asset_type": "api_endpoint",
            "deployment_env": "production",
            "network_exposure": "public",
        }
    )
    assert (spec.environment, spec.exposure) == (Environment.PRODUCTION, Exposure.PUBLIC)
    assert spec.model_fields_set == {"name", "asset_type", "environment", "exposure"}


def test_a_review_in_the_future_is_refused_tomorrow_is_tolerated() -> None:
    today = utcnow().date()
    assert AssetSpec(
        name="a", asset_type="tool", last_security_review=today + timedelta(days=1)
    ).last_security_review
    with pytest.raises(ValidationError, match="in the future"):
        AssetSpec(name="a", asset_type="tool", last_security_review=today + timedelta(days=3))


def test_owner_email_is_checked_and_folded() -> None:
    spec = AssetSpec(name="a", asset_type="tool", owner_email=" Team@Example.COM ")
    assert spec.owner_email == "team@example.com"
    with pytest.raises(ValidationError, match="not an email address"):
        AssetSpec(name="a", asset_type="tool", owner_email="team at example")


def test_evidence_times_are_utc_and_attributes_known() -> None:
    with pytest.raises(ValidationError, match="naive datetime"):
        Evidence(location="a.py:1", observed_at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="unknown attribute"):
        Evidence(location="a.py:1", attributes=("colour",))
    evidence = Evidence(
        location="a.py:1",
        confidence=Confidence.INFERRED,
        observed_at=datetime(2026, 1, 1, 5, tzinfo=UTC),
        attributes=("model_name", "model_provider", "model_name"),
    )
    assert evidence.attributes == ("model_name", "model_provider")


def test_natural_keys() -> None:
    by_arn = AssetSpec(name="x", asset_type="api_endpoint", source_id="arn:aws:sagemaker:e/1")
    assert natural_key(by_arn) == "id:arn:aws:sagemaker:e/1"
    model = AssetSpec(
        name="GPT",
        asset_type="api_endpoint",
        model_provider="OpenAI",
        model_name="GPT-4o",
        api_endpoint="HTTPS://Example.COM/v1/",
        environment="production",
    )
    assert natural_key(model) == "model:openai|gpt-4o|https://example.com/v1|production"
    data_a = AssetSpec(name="Train A", asset_type="training_dataset", environment="research")
    data_b = AssetSpec(name="Train B", asset_type="training_dataset", environment="research")
    # The seed's key made these two one asset: provider, model and endpoint were all empty.
    assert natural_key(data_a) != natural_key(data_b)
    assert natural_key(data_a) == "name:training_dataset|train a|research"


def test_endpoint_normalisation_keeps_path_case() -> None:
    assert normalise_endpoint("https://H.example.com/Deployments/X/") == (
        "https://h.example.com/Deployments/X"
    )
    assert normalise_endpoint("LLM-GW:8000/") == "llm-gw:8000"


def test_review_dates_are_dates() -> None:
    spec = AssetSpec(name="a", asset_type="tool", last_security_review="2026-01-31")
    assert spec.last_security_review == date(2026, 1, 31)


@pytest.mark.parametrize("name", ["", "   ", "\x1e", "\t\n"])
def test_a_name_of_only_whitespace_is_refused(name: str) -> None:
    # The length limit applies after stripping: "\x1e" once passed, was stored as "", and then
    # the asset could not be loaded.
    with pytest.raises(ValidationError, match="name"):
        AssetSpec(name=name, asset_type=AssetType.VECTOR_DATABASE)
    assert (
        AssetSpec(name=f" {name}db ", asset_type=AssetType.VECTOR_DATABASE).name
        == f"{name}db".strip()
    )
