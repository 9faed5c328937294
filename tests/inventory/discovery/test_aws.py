"""AWS discovery, offline: moto for the calls it fakes, canned HTTP responses (and botocore's
Stubber) for the ones it lacks, then into a real store on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from garrison.inventory import AssetFilter, apply_discovery, list_runs, search
from garrison.inventory.discovery import aws as aws_source
from garrison.inventory.discovery.aws import AwsDiscovery
from garrison.inventory.discovery.cloud import (
    CannedAws,
    CannedRoute,
    MissingExtraError,
    aws_error,
    load_sample_cloud_results,
    sample_aws_result,
)
from garrison.inventory.models import AssetType, Relation, ToolPermission
from garrison.store import Store
from tests.cli.conftest import Invoke, garrison  # noqa: F401 - the in-process CLI fixture
from tests.inventory.discovery.cloud_support import by_name, edges, sample

ACCOUNT = "123456789012"
# The calls moto 5 does not fake: moto lets them through to the canned responses.
MOTO_LACKS: Any = {
    "core": {
        "passthrough": {
            "urls": [
                r"https://bedrock\.[^/]+/provisioned-model-throughputs",
                r"https://bedrock\.[^/]+/inference-profiles",
                r"https://bedrock\.[^/]+/guardrails",
                r"https://bedrock-agent\.[^/]+/agents/[^/]+/agentversions/[^/]+/actiongroups",
                r"https://bedrock-agent\.[^/]+/agents/[^/]+/agentversions/[^/]+/knowledgebases",
            ],
            "services": [],
        }
    }
}
R1 = "us-east-1"
R2 = "eu-west-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", R1)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setattr("time.sleep", lambda _s: None)  # botocore's retry backoff


def canned_session(routes: list[CannedRoute], *, strict: bool = True) -> tuple[Any, CannedAws]:
    session = boto3.Session(region_name=R1)
    canned = CannedAws(routes, strict=strict)
    canned.install(session)
    return session, canned


def sample_routes() -> list[CannedRoute]:
    return [CannedRoute.from_json(r) for r in sample("aws.json")["routes"]]


# --- the sample estate, end to end through the canned HTTP layer ---------------------------------


def test_sample_account_inventories_what_is_used(aws_env: None) -> None:
    result = sample_aws_result()
    assert result.complete
    assert result.errors == []
    assert result.scope == f"aws:{ACCOUNT}:{R1}"
    found = by_name(result)
    custom = found["support-tuned-v2"]
    assert custom.spec.asset_type is AssetType.FINE_TUNED_MODEL
    assert custom.spec.source_id.endswith(
        ":custom-model/amazon.titan-text-express-v1:0:8k/support-tuned-v2"
    )
    assert "bedrock-invocation-logging:off" in custom.spec.tags
    # evidence names the API call and region, and the ARN
    locations = {e.location for e in custom.evidence}
    assert {
        "aws us-east-1 bedrock:ListCustomModels",
        "aws us-east-1 bedrock:GetCustomModel",
    } <= locations
    assert all(custom.spec.source_id in e.detail for e in custom.evidence)
    throughput = found["support-tuned-pt"]
    assert throughput.spec.asset_type is AssetType.API_ENDPOINT
    assert throughput.spec.model_name == "support-tuned-v2"
    agent = found["support-agent"]
    assert agent.spec.asset_type is AssetType.AI_AGENT
    assert agent.spec.model_name == "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    assert agent.spec.system_prompt_sha256 is not None
    tools = {t.name: t for t in agent.spec.tools}
    assert tools["code-interpreter"].permissions == (ToolPermission.EXECUTE_CODE,)
    assert tools["issue-refund"].requires_approval
    assert tools["issue-refund"].server == f"arn:aws:lambda:{R1}:{ACCOUNT}:function:issue-refund"
    assert found["kbpolicies"].spec.asset_type is AssetType.VECTOR_DATABASE
    assert found["kbpolicies"].spec.vector_namespaces[0].name == "support-policies-index"
    assert found["amazon.titan-embed-text-v2:0"].spec.asset_type is AssetType.EMBEDDING_MODEL
    assert found["support-pii-filter"].spec.model_version == "2"
    llama = found["fraud-llama"]
    assert llama.spec.model_name == "meta-llama/Llama-3.1-8B-Instruct"
    # the token's name is a finding; its value is nowhere in the result
    assert "secret-in-container-env:HF_TOKEN" in llama.spec.tags
    assert "hf_not_a_real_token" not in repr(result)
    assert {
        ("support-tuned-v2", "amazon.titan-text-express-v1:0:8k", "fine_tuned_from"),
        ("support-tuned-v2", "s3://acme-ml-data/support/train.jsonl", "trained_on"),
        ("support-tuned-pt", "support-tuned-v2", "uses_model"),
        ("claims-summariser", "anthropic.claude-3-5-sonnet-20240620-v1:0", "uses_model"),
        ("support-agent", "us.anthropic.claude-3-5-haiku-20241022-v1:0", "uses_model"),
        ("support-agent", "support-pii-filter", "guarded_by"),
        ("support-agent", "issue-refund", "uses_tool"),
        ("support-agent", "support-policies", "retrieves_from"),
        ("support-policies", "amazon.titan-embed-text-v2:0", "embeds_with"),
        ("support-policies", "kbpolicies", "stores_in"),
        ("fraud-llm", "fraud-llama", "uses_model"),
    } <= edges(result)


def test_load_sample_cloud_results_covers_three_clouds(aws_env: None) -> None:
    results = load_sample_cloud_results()
    assert [r.source for r in results] == ["aws", "azure", "gcp"]
    assert all(r.complete and r.assets for r in results)


# --- moto where it has the calls, canned responses where it does not -------------------------------


def _moto_estate() -> None:
    bedrock = boto3.client("bedrock", region_name=R1)
    for name in ("tuned-a", "tuned-b"):
        bedrock.create_model_customization_job(
            jobName=f"job-{name}",
            customModelName=name,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/tune",
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": f"s3://data/{name}.jsonl"},
            outputDataConfig={"s3Uri": "s3://data/out"},
            hyperParameters={},
        )
    agents = boto3.client("bedrock-agent", region_name=R1)
    agent = agents.create_agent(
        agentName="helpdesk",
        foundationModel="anthropic.claude-3-haiku-20240307-v1:0",
        instruction="You are the helpdesk agent of ACME; answer from the handbook.",
        agentResourceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/agent",
    )["agent"]
    kb = agents.create_knowledge_base(
        name="handbook",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/kb",
        knowledgeBaseConfiguration={
            "type": "VECTOR",
            "vectorKnowledgeBaseConfiguration": {
                "embeddingModelArn": f"arn:aws:bedrock:{R1}::foundation-model/cohere.embed-english-v3"
            },
        },
        storageConfiguration={
            "type": "PINECONE",
            "pineconeConfiguration": {
                "connectionString": "https://handbook-abc123.svc.pinecone.io",
                "credentialsSecretArn": f"arn:aws:secretsmanager:{R1}:{ACCOUNT}:secret:pinecone",
                "namespace": "handbook",
                "fieldMapping": {"textField": "t", "metadataField": "m"},
            },
        },
    )["knowledgeBase"]
    sagemaker = boto3.client("sagemaker", region_name=R1)
    sagemaker.create_model(
        ModelName="ranker",
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{R1}.amazonaws.com/ranker:1"},
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="ranker-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "ranker",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="ranker", EndpointConfigName="ranker-config")
    _moto_estate.ids = (agent["agentId"], kb["knowledgeBaseId"])  # type: ignore[attr-defined]


def _canned_for_moto_gaps(agent_id: str, kb_id: str) -> list[CannedRoute]:
    pt = f"arn:aws:bedrock:{R1}:{ACCOUNT}:provisioned-model"
    return [
        # two pages, chosen by the nextToken the paginator sends
        CannedRoute(
            "bedrock",
            "ListProvisionedModelThroughputs",
            {
                "provisionedModelSummaries": [
                    {
                        "provisionedModelName": "pt-one",
                        "provisionedModelArn": f"{pt}/one",
                        "modelArn": f"arn:aws:bedrock:{R1}:{ACCOUNT}:custom-model/tuned-a",
                        "desiredModelArn": f"arn:aws:bedrock:{R1}:{ACCOUNT}:custom-model/tuned-a",
                        "foundationModelArn": f"arn:aws:bedrock:{R1}::foundation-model/amazon.titan-text-express-v1",
                        "modelUnits": 1,
                        "desiredModelUnits": 1,
                        "status": "InService",
                        "creationTime": "2026-01-01T00:00:00Z",
                        "lastModifiedTime": "2026-01-01T00:00:00Z",
                    }
                ],
                "nextToken": "PT-PAGE-2",
            },
        ),
        CannedRoute(
            "bedrock",
            "ListProvisionedModelThroughputs",
            {
                "provisionedModelSummaries": [
                    {
                        "provisionedModelName": "pt-two",
                        "provisionedModelArn": f"{pt}/two",
                        "modelArn": f"arn:aws:bedrock:{R1}::foundation-model/meta.llama3-70b-instruct-v1:0",
                        "desiredModelArn": f"arn:aws:bedrock:{R1}::foundation-model/meta.llama3-70b-instruct-v1:0",
                        "foundationModelArn": f"arn:aws:bedrock:{R1}::foundation-model/meta.llama3-70b-instruct-v1:0",
                        "modelUnits": 2,
                        "desiredModelUnits": 2,
                        "status": "InService",
                        "creationTime": "2026-01-01T00:00:00Z",
                        "lastModifiedTime": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            match="PT-PAGE-2",
        ),
        CannedRoute("bedrock", "ListInferenceProfiles", {"inferenceProfileSummaries": []}),
        CannedRoute("bedrock", "ListGuardrails", {"guardrails": []}),
        CannedRoute("bedrock-agent", "ListAgentActionGroups", {"actionGroupSummaries": []}),
        CannedRoute(
            "bedrock-agent",
            "ListAgentKnowledgeBases",
            {
                "agentKnowledgeBaseSummaries": [
                    {
                        "knowledgeBaseId": kb_id,
                        "knowledgeBaseState": "ENABLED",
                        "updatedAt": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            match=agent_id,
        ),
    ]


@pytest.fixture
def moto_run(aws_env: None) -> Iterator[tuple[AwsDiscovery, CannedAws]]:
    with mock_aws(config=MOTO_LACKS):
        _moto_estate()
        agent_id, kb_id = _moto_estate.ids  # type: ignore[attr-defined]
        session, canned = canned_session(_canned_for_moto_gaps(agent_id, kb_id), strict=False)
        # page_size=1 makes moto page too: two custom models are two pages
        yield AwsDiscovery(session, [R1], page_size=1), canned


def test_moto_and_canned_pages_to_the_end(moto_run: tuple[AwsDiscovery, CannedAws]) -> None:
    discovery, canned = moto_run
    result = discovery.run()
    assert result.errors == []
    assert result.complete
    assert result.scope == f"aws:{ACCOUNT}:{R1}"  # the account came from moto's STS
    found = by_name(result)
    assert {"tuned-a", "tuned-b", "pt-one", "pt-two", "helpdesk", "handbook", "ranker"} <= set(
        found
    )
    assert canned.calls.count(("bedrock", "ListProvisionedModelThroughputs", R1)) == 2
    assert found["pt-two"].spec.model_name == "meta.llama3-70b-instruct-v1:0"
    assert found["tuned-a"].spec.tags.count("bedrock-invocation-logging:off") == 1
    pinecone = next(a for a in result.assets if a.spec.asset_type is AssetType.VECTOR_DATABASE)
    assert pinecone.spec.api_endpoint == "https://handbook-abc123.svc.pinecone.io"
    key = next(a for a in result.assets if a.spec.asset_type is AssetType.API_KEY)
    assert key.spec.api_key is not None and key.spec.api_key.reference.endswith(":secret:pinecone")
    assert ("helpdesk", "handbook", "retrieves_from") in edges(result)
    assert ("handbook", "cohere.embed-english-v3", "embeds_with") in edges(result)
    assert ("ranker", "ranker", "uses_model") in edges(result)


def test_moto_run_into_the_store_is_idempotent(
    moto_run: tuple[AwsDiscovery, CannedAws], store: Store
) -> None:
    discovery, _ = moto_run
    result = discovery.run()
    with store.session() as session:
        first = apply_discovery(session, result)
    assert first.complete and first.counts["created"] == len(result.assets)
    with store.session() as session:
        second = apply_discovery(session, result)
        agent = search(session, AssetFilter(asset_types=(AssetType.AI_AGENT,)))[0]
        from garrison.inventory import get_asset_detail

        detail = get_asset_detail(session, agent.id)
    assert second.counts["created"] == 0 and second.counts["updated"] == 0
    assert second.counts["unchanged"] == len(result.assets)
    relations = {d.relation for d in detail.upstream}
    assert {Relation.USES_MODEL, Relation.RETRIEVES_FROM} <= relations
    assert all(d.target_id is not None for d in detail.upstream)


# --- failures: denied region, throttling, repeated tokens, Stubber -------------------------------


def test_denied_region_is_reported_and_working_region_registered(
    aws_env: None, store: Store
) -> None:
    denied = [
        aws_error(service, "*", "AccessDeniedException", "not authorized", region=R2)
        for service in aws_source.SERVICES
    ]
    session, _ = canned_session(denied + sample_routes())
    result = AwsDiscovery(session, [R1, R2], account_id=ACCOUNT).run()
    assert not result.complete
    assert result.errors
    assert {e.target for e in result.errors} == {R2}
    assert all(e.denied and e.code == "AccessDeniedException" for e in result.errors)
    operations = {e.operation for e in result.errors}
    assert {
        "bedrock:ListCustomModels",
        "bedrock-agent:ListAgents",
        "sagemaker:ListEndpoints",
    } <= operations
    assert "support-agent" in by_name(result)

    # a complete run first, so that staleness could happen
    with store.session() as session:
        apply_discovery(session, sample_aws_result())
    with store.session() as session:
        run = apply_discovery(session, result)
        runs = list_runs(session, source="aws")
        stale = search(session, AssetFilter(stale=True))
    assert not run.complete
    assert run.errors == [e.as_dict() for e in result.errors]
    assert runs[0].errors and runs[0].counts["staled"] == 0
    assert stale == []


def test_throttled_call_is_retried_then_succeeds(aws_env: None) -> None:
    throttle = aws_error(
        "bedrock", "ListProvisionedModelThroughputs", "ThrottlingException", "slow down", times=2
    )
    session, canned = canned_session([throttle, *sample_routes()])
    result = AwsDiscovery(session, [R1], account_id=ACCOUNT).run()
    assert result.errors == []
    assert canned.calls.count(("bedrock", "ListProvisionedModelThroughputs", R1)) == 3
    assert "support-tuned-pt" in by_name(result)


def test_throttled_call_that_never_recovers_is_reported(aws_env: None) -> None:
    throttle = aws_error("bedrock", "ListGuardrails", "ThrottlingException", "Rate exceeded")
    session, canned = canned_session([throttle, *sample_routes()])
    result = AwsDiscovery(session, [R1], account_id=ACCOUNT, max_attempts=3).run()
    assert not result.complete
    [failure] = result.errors
    assert failure.operation == "bedrock:ListGuardrails"
    assert failure.code == "ThrottlingException" and not failure.denied
    assert "gave up after 3 attempt(s)" in failure.message
    assert canned.calls.count(("bedrock", "ListGuardrails", R1)) == 3
    # everything else was still discovered
    assert "support-agent" in by_name(result)


def test_manual_token_paging_and_repeated_token_guard(aws_env: None) -> None:
    page = {
        "guardrails": [
            {
                "id": "g1",
                "arn": f"arn:aws:bedrock:{R1}:{ACCOUNT}:guardrail/g1",
                "status": "READY",
                "name": "g1",
                "version": "DRAFT",
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
            }
        ],
        "nextToken": "LOOP",
    }
    session, _ = canned_session([CannedRoute("bedrock", "ListGuardrails", page)])
    discovery = AwsDiscovery(session, [R1], account_id=ACCOUNT)
    client = discovery.client("bedrock", R1)
    client.can_paginate = lambda _name: False  # as with a botocore that has no paginator
    items = discovery.list_all(client, R1, "ListGuardrails", "guardrails")
    assert len(items) == 2  # first page, then the repeated token is caught
    [failure] = discovery.builder.errors
    assert "repeated page token" in failure.message


def test_stubber_agents_paged_and_denied_get(aws_env: None) -> None:
    client = boto3.client("bedrock-agent", region_name=R1)
    stub = Stubber(client)
    summary = {"agentStatus": "PREPARED", "updatedAt": "2026-01-01T00:00:00Z"}
    stub.add_response(
        "list_agents",
        {
            "agentSummaries": [{"agentId": "AGENTAAAAA", "agentName": "a", **summary}],
            "nextToken": "t2",
        },
    )
    stub.add_response(
        "list_agents",
        {"agentSummaries": [{"agentId": "AGENTBBBBB", "agentName": "b", **summary}]},
        {"nextToken": "t2"},
    )
    stub.add_client_error("get_agent", "AccessDeniedException", "no", 403)
    stub.add_response("list_agent_action_groups", {"actionGroupSummaries": []})
    stub.add_response("list_agent_knowledge_bases", {"agentKnowledgeBaseSummaries": []})
    stub.add_client_error("get_agent", "ValidationException", "bad", 400)
    stub.add_response("list_agent_action_groups", {"actionGroupSummaries": []})
    stub.add_response("list_agent_knowledge_bases", {"agentKnowledgeBaseSummaries": []})
    stub.add_response("list_knowledge_bases", {"knowledgeBaseSummaries": []})
    with stub:
        result = AwsDiscovery(
            boto3.Session(region_name=R1),
            [R1],
            account_id=ACCOUNT,
            services=("bedrock-agent",),
            client_factory=lambda _service, _region: client,
        ).run()
    stub.assert_no_pending_responses()
    assert set(by_name(result)) == {"a", "b"}  # recorded from the list even though get failed
    assert [(e.code, e.denied) for e in result.errors] == [
        ("AccessDeniedException", True),
        ("ValidationException", False),
    ]
    assert result.scope == f"aws:{ACCOUNT}:{R1}:bedrock-agent"


def test_all_regions_come_from_botocore_endpoint_data(aws_env: None) -> None:
    session = boto3.Session(region_name=R1)
    regions = aws_source.bedrock_regions(session)
    assert {"us-east-1", "eu-west-1"} <= set(regions)
    assert set(session.get_available_regions("sagemaker")) <= set(regions)


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingExtraError) as caught:
        aws_source.make_session()
    assert "pip install 'garrison[aws]'" in str(caught.value)


# --- the CLI -------------------------------------------------------------------------------------


def test_cli_discovers_and_reports_denied_calls(
    aws_env: None,
    garrison: Invoke,  # noqa: F811
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    denied = [aws_error("sagemaker", "*", "AccessDeniedException", "no sagemaker", region=R1)]
    routes = denied + sample_routes()
    routes.append(
        CannedRoute(
            "sts",
            "GetCallerIdentity",
            {},
        )
    )

    def session(profile: str | None = None, region: str | None = None) -> Any:
        made, _ = canned_session(routes)
        return made

    monkeypatch.setattr(aws_source, "make_session", session)
    monkeypatch.setattr(
        AwsDiscovery, "_account", lambda self: self.account_id or ACCOUNT, raising=True
    )
    out = garrison("discover", "aws", "--region", R1, "--json")
    assert out.code == 1, out.err
    summary = out.json()
    assert isinstance(summary, dict)
    assert not summary["complete"]
    assert summary["counts"]["created"] == summary["found"] > 10
    assert {e["operation"] for e in summary["errors"]} == {
        "sagemaker:ListEndpoints",
        "sagemaker:ListModels",
    }
    again = garrison("discover", "aws", "--region", R1, "--dry-run", "--json")
    assert again.code == 1
    assert len(again.json()["assets"]) == summary["found"]  # type: ignore[index]
