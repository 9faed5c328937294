"""Code discovery: findings per file (pure) and the sample repository end to end on a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.inventory import AssetFilter, apply_discovery, get_asset_detail, search
from garrison.inventory.discovery.code import (
    discover_code,
    scan_config,
    scan_javascript,
    scan_mcp,
    scan_python,
)
from garrison.inventory.models import AssetType, Confidence, KeyLocation, Relation, ToolPermission
from garrison.inventory.secrets import key_fingerprint
from garrison.store import Store

REPO = Path(__file__).resolve().parents[3] / "examples" / "estate" / "repo"
FAKE_KEY = "sk-proj-" + "Zx8Qm2Lr7Tb4Nc1Vw9Ke6Hy3Pd5Sa0Fg"  # assembled: no literal key in the tree


def _models(text: str) -> set[tuple[str, str | None]]:
    return {(m.provider, m.model) for m in scan_python(text, "m.py").models}


def test_python_sdks_and_model_names() -> None:
    text = """
import os, boto3, litellm, ollama
from openai import OpenAI, AzureOpenAI
from anthropic import Anthropic
from google import genai
from mistralai import Mistral
from langchain_aws import ChatBedrock
from langchain_anthropic import ChatAnthropic

MODEL = "gpt-4o"
client = OpenAI()
client.chat.completions.create(model=MODEL, messages=[])
Anthropic().messages.create(model="claude-3-5-haiku-latest", max_tokens=5, messages=[])
brt = boto3.client("bedrock-runtime", region_name="us-east-1")
brt.converse(modelId="anthropic.claude-3-5-sonnet-20240620-v1:0", messages=[])
brt.invoke_model(modelId="us.meta.llama3-2-90b-instruct-v1:0", body="{}")
brt.invoke_model(modelId="arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc", body="{}")
litellm.completion(model="bedrock/amazon.nova-pro-v1:0", messages=[])
ollama.chat(model="llama3.1:8b", messages=[])
genai.Client(vertexai=True).models.generate_content(model="gemini-2.0-flash", contents="x")
Mistral(api_key=os.environ["MISTRAL_API_KEY"]).chat.complete(model="mistral-large-latest")
ChatBedrock(model_id="amazon.titan-text-express-v1")
ChatAnthropic(model=os.getenv("CLAUDE_MODEL", "claude-3-opus-20240229"))
az = AzureOpenAI(azure_endpoint="https://acme-eus.openai.azure.com/", api_version="2024-06-01")
az.chat.completions.create(model="gpt4o-prod", messages=[])
"""
    findings = scan_python(text, "m.py")
    pairs = {(m.provider, m.model) for m in findings.models}
    assert ("openai", "gpt-4o") in pairs
    assert ("anthropic", "claude-3-5-haiku-latest") in pairs
    assert ("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0") in pairs
    assert ("aws_bedrock", "us.meta.llama3-2-90b-instruct-v1:0") in pairs
    assert ("aws_bedrock", "amazon.nova-pro-v1:0") in pairs
    assert ("ollama", "llama3.1:8b") in pairs
    assert ("gcp_vertex", "gemini-2.0-flash") in pairs
    assert ("mistral", "mistral-large-latest") in pairs
    assert ("aws_bedrock", "amazon.titan-text-express-v1") in pairs
    inferred = next(m for m in findings.models if m.model == "claude-3-opus-20240229")
    assert inferred.confidence is Confidence.INFERRED
    azure = next(m for m in findings.models if m.deployment == "gpt4o-prod")
    assert azure.provider == "azure_openai"
    assert azure.endpoint == "https://acme-eus.openai.azure.com/"
    assert findings.arn_targets == [
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc", 17)
    ]
    assert {k.name for k in findings.keys} == {"MISTRAL_API_KEY"}


def test_huggingface_pinning() -> None:
    text = """
from transformers import AutoModel, pipeline
AutoModel.from_pretrained("bert-base-uncased")
AutoModel.from_pretrained("org/m", revision="0123456789abcdef0123456789abcdef01234567")
pipeline("text-classification", model="org/clf", revision="main")
"""
    found = {m.model: m for m in scan_python(text, "m.py").models}
    assert found["bert-base-uncased"].pinned is False
    assert found["org/m"].pinned is True
    assert found["org/clf"].pinned is False  # a branch name is not a pin
    assert found["org/clf"].revision == "main"


def test_agents_and_tools() -> None:
    text = '''
import subprocess
from agents import Agent, function_tool
from crewai import Agent as CrewAgent
from llama_index.core.tools import FunctionTool

@function_tool
def run_shell(command: str) -> str:
    """Run a command."""
    return subprocess.run(command, shell=True, capture_output=True).stdout

def add(a: int, b: int) -> int:
    return a + b

adder = FunctionTool.from_defaults(fn=add, name="adder")
ops = Agent(name="Ops bot", tools=[run_shell], model="gpt-4.1")
crew = CrewAgent(role="Researcher", tools=[adder], goal="g", backstory="b")
'''
    findings = scan_python(text, "a.py")
    tools = {t.name: t for t in findings.tools}
    assert tools["run_shell"].permissions == (ToolPermission.EXECUTE_CODE,)
    assert tools["adder"].function == "add"
    agents = {a.name: a for a in findings.agents}
    assert agents["Ops bot"].tools == ("run_shell",)
    assert agents["Ops bot"].models[0].model == "gpt-4.1"
    assert agents["Researcher"].tools == ("adder",)


def test_hard_coded_key_is_fingerprinted_never_kept() -> None:
    text = f'from openai import OpenAI\nclient = OpenAI(api_key="{FAKE_KEY}")\n'
    findings = scan_python(text, "k.py")
    assert [(s.fingerprint, s.line) for s in findings.secrets] == [(key_fingerprint(FAKE_KEY), 2)]
    result = discover_code_from_text({"app.py": text})
    for asset in result.assets:
        assert FAKE_KEY not in asset.spec.model_dump_json()
        assert all(FAKE_KEY not in e.model_dump_json() for e in asset.evidence)
    key = next(a for a in result.assets if "finding:hard-coded-secret" in a.spec.tags)
    assert key.spec.api_key is not None
    assert key.spec.api_key.location is KeyLocation.CODE
    assert key.spec.api_key.fingerprint == key_fingerprint(FAKE_KEY)


def discover_code_from_text(files: dict[str, str]):  # type: ignore[no-untyped-def]
    import tempfile

    root = Path(tempfile.mkdtemp())
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return discover_code([root])


def test_syntax_error_is_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import os\nOPENAI_API_KEY = os.environ[\n")
    (tmp_path / "ok.py").write_text(
        "from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o')\n"
    )
    result = discover_code([tmp_path])
    assert [e.code for e in result.errors] == ["SyntaxError"]
    assert result.errors[0].target.endswith("broken.py")
    assert any(a.spec.model_name == "gpt-4o" for a in result.assets)
    # The broken file is still read by patterns: its key name is found.
    assert any(a.spec.name == "OPENAI_API_KEY" for a in result.assets)


def test_javascript_patterns() -> None:
    text = """import OpenAI from "openai";
import { anthropic } from "@ai-sdk/anthropic";
const MODEL = "gpt-4o-mini";
const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
await client.chat.completions.create({ model: MODEL, messages });
const result = await generateText({ model: anthropic("claude-3-5-sonnet-latest"), prompt });
"""
    findings = scan_javascript(text, "a.ts")
    pairs = {(m.provider, m.model, m.line) for m in findings.models}
    assert ("openai", "gpt-4o-mini", 5) in pairs
    assert ("anthropic", "claude-3-5-sonnet-latest", 6) in pairs
    assert [(k.name, k.line) for k in findings.keys] == [("OPENAI_API_KEY", 4)]


def test_config_key_names_and_literal_values() -> None:
    text = f"OPENAI_API_KEY={FAKE_KEY}\nANTHROPIC_API_KEY=\nDATABASE_URL=postgres://x\n"
    findings = scan_config(text, ".env")
    assert [(k.name, k.line) for k in findings.keys] == [
        ("OPENAI_API_KEY", 1),
        ("ANTHROPIC_API_KEY", 2),
    ]
    assert [s.line for s in findings.secrets] == [1]


def test_mcp_configurations() -> None:
    text = f"""{{"mcpServers": {{
  "fs": {{"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]}},
  "remote": {{"url": "https://mcp.example.com/sse"}},
  "gh": {{"command": "docker", "args": ["run", "ghcr.io/github/github-mcp-server"],
          "env": {{"GITHUB_PERSONAL_ACCESS_TOKEN": "{"ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}"}}}}
}}}}"""
    findings = scan_mcp(text, "claude_desktop_config.json")
    servers = {s.name: s for s in findings.mcp_servers}
    assert servers["fs"].command == "npx" and servers["fs"].url is None
    assert servers["remote"].url == "https://mcp.example.com/sse"
    assert servers["gh"].env_names == ("GITHUB_PERSONAL_ACCESS_TOKEN",)
    assert servers["gh"].config_kind == "claude-desktop"
    assert len(findings.secrets) == 1 and findings.secrets[0].line == 5


def test_sample_repository_findings() -> None:
    result = discover_code([REPO])
    assert result.complete and not result.errors
    by_name = {a.spec.name: a for a in result.assets}
    rag = by_name["northwind-rag"]
    assert rag.spec.asset_type is AssetType.LLM_APPLICATION
    assert rag.spec.system_prompt_sha256 is not None
    assert by_name["northwind-chat"].spec.asset_type is AssetType.LLM_APPLICATION
    hf = by_name["huggingface/cross-encoder/ms-marco-MiniLM-L-6-v2"]
    assert "hf:unpinned" in hf.spec.tags
    assert all("pinned: false" in e.detail for e in hf.evidence)
    assert {e.location.rsplit("/", 1)[-1] for e in hf.evidence} == {"rerank.py:7", "rerank.py:8"}
    assert by_name["github"].spec.asset_type is AssetType.MCP_SERVER
    assert by_name["github"].spec.is_self_hosted
    assert by_name["docs-search"].spec.api_endpoint == "https://mcp.docs.northwind.example/mcp"
    openai_key = by_name["OPENAI_API_KEY"]
    locations = {e.location.split("repo/", 1)[1] for e in openai_key.evidence}
    assert locations == {
        ".env.example:2",
        "docker-compose.yml:5",
        "deploy/k8s/rag-deployment.yaml:17",
        "services/rag/rag_service/retrieval.py:10",
    }


def test_sample_repository_end_to_end(store: Store) -> None:
    with store.session() as session:
        run = apply_discovery(session, discover_code([REPO]))
        assert run.complete and run.counts["created"] == 17
    with store.session() as session:
        assets = {a.name: a for a in search(session, AssetFilter())}
        rag = get_asset_detail(session, assets["northwind-rag"].id)
        upstream = {
            (assets_by_id(assets)[d.target_id], d.relation) for d in rag.upstream if d.target_id
        }
        assert ("openai/gpt-4o-mini", Relation.DEPENDS_ON) in upstream
        assert ("openai/text-embedding-3-small", Relation.DEPENDS_ON) in upstream
        assert ("OPENAI_API_KEY", Relation.AUTHENTICATES_WITH) in upstream
        assert ("chroma (./data/chroma)", Relation.RETRIEVES_FROM) in upstream
        assert ("support_agent", Relation.DEPENDS_ON) in upstream
        agent = get_asset_detail(session, assets["support_agent"].id)
        assert {assets_by_id(assets)[d.target_id] for d in agent.upstream} == {
            "search_help_centre",
            "order_status",
        }
        assert {t.name for t in agent.asset.tools} == {"search_help_centre", "order_status"}
        chat = get_asset_detail(session, assets["anthropic/claude-3-5-sonnet-20241022"].id)
        assert [e.location.split("repo/", 1)[1] for e in chat.evidence] == [
            "frontend/src/chat.ts:9"
        ]
        assert chat.asset.model_provider == "anthropic"
        assert assets["chroma (./data/chroma)"].vector_namespaces[0].name == "help-articles"
    # Rediscovery updates, never duplicates.
    with store.session() as session:
        again = apply_discovery(session, discover_code([REPO]))
        assert again.counts["created"] == 0
        assert len(search(session, AssetFilter())) == 17


def assets_by_id(assets: dict[str, object]) -> dict[str | None, str]:
    return {a.id: name for name, a in assets.items()}  # type: ignore[attr-defined]


def test_code_models_merge_with_cloud_keys(store: Store) -> None:
    """A model a cloud source registered by provider + model name is the one code links to."""
    from garrison.inventory import AssetSpec, register

    with store.session() as session:
        register(
            session,
            AssetSpec(
                name="Claude 3.5 Sonnet (catalogue)",
                asset_type=AssetType.FOUNDATION_MODEL,
                model_provider="anthropic",
                model_name="claude-3-5-sonnet-20241022",
            ),
            source="aws",
        )
        apply_discovery(session, discover_code([REPO]))
        models = search(session, AssetFilter(asset_types=(AssetType.FOUNDATION_MODEL,)))
        assert len([m for m in models if m.model_name == "claude-3-5-sonnet-20241022"]) == 1


@pytest.mark.parametrize("size", [2_000_000])
def test_oversized_file_is_reported_not_read(tmp_path: Path, size: int) -> None:
    (tmp_path / "bundle.js").write_text("x" * size)
    result = discover_code([tmp_path])
    assert [e.code for e in result.errors] == ["EFBIG"]
    assert result.complete
