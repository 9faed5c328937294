"""What the code discovery source recognises: SDK entry points, key variable names, file kinds.

Kept apart from the scanner so that adding a provider or a framework is a table edit. Python
rules are matched on the *qualified* name of a call (``openai.OpenAI().chat.completions.create``
after import aliases and client variables are resolved); the longest matching prefix wins.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- providers ------------------------------------------------------------------------------

PROVIDER_ENDPOINTS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "google": "https://generativelanguage.googleapis.com",
    "mistral": "https://api.mistral.ai",
    "cohere": "https://api.cohere.com",
    "ollama": "http://localhost:11434",
    "groq": "https://api.groq.com/openai/v1",
}
"""Where a provider's SDK sends requests when the code does not set ``base_url``."""

SELF_HOSTED_PROVIDERS = frozenset({"huggingface", "ollama", "vllm"})


@dataclass(frozen=True)
class SdkRule:
    prefix: str
    provider: str
    """``litellm`` and ``langchain`` mean: take the provider from the model string."""
    embedding: bool = False


_RULES: tuple[SdkRule, ...] = (
    SdkRule("openai.AzureOpenAI", "azure_openai"),
    SdkRule("openai.AsyncAzureOpenAI", "azure_openai"),
    SdkRule("openai.lib.azure.AzureOpenAI", "azure_openai"),
    SdkRule("openai", "openai"),
    SdkRule("anthropic.AnthropicBedrock", "aws_bedrock"),
    SdkRule("anthropic.AsyncAnthropicBedrock", "aws_bedrock"),
    SdkRule("anthropic.AnthropicVertex", "gcp_vertex"),
    SdkRule("anthropic.AsyncAnthropicVertex", "gcp_vertex"),
    SdkRule("anthropic", "anthropic"),
    SdkRule("google.genai", "google"),
    SdkRule("google.generativeai", "google"),
    SdkRule("vertexai", "gcp_vertex"),
    SdkRule("google.cloud.aiplatform", "gcp_vertex"),
    SdkRule("boto3.client:bedrock-runtime", "aws_bedrock"),
    SdkRule("mistralai", "mistral"),
    SdkRule("cohere", "cohere"),
    SdkRule("groq", "groq"),
    SdkRule("ollama", "ollama"),
    SdkRule("litellm", "litellm"),
    SdkRule("vllm", "huggingface"),
    SdkRule("transformers", "huggingface"),
    SdkRule("sentence_transformers", "huggingface", embedding=True),
    SdkRule("langchain_openai.AzureChatOpenAI", "azure_openai"),
    SdkRule("langchain_openai.AzureOpenAIEmbeddings", "azure_openai", embedding=True),
    SdkRule("langchain_openai", "openai"),
    SdkRule("langchain_anthropic", "anthropic"),
    SdkRule("langchain_aws", "aws_bedrock"),
    SdkRule("langchain_gcp_vertexai", "gcp_vertex"),
    SdkRule("langchain_google_genai", "google"),
    SdkRule("langchain_mistralai", "mistral"),
    SdkRule("langchain_cohere", "cohere"),
    SdkRule("langchain_ollama", "ollama"),
    SdkRule("langchain_groq", "groq"),
    SdkRule("langchain_huggingface", "huggingface"),
    SdkRule("langchain.chat_models.init_chat_model", "langchain"),
    SdkRule("langchain.chat_models.AzureChatOpenAI", "azure_openai"),
    SdkRule("langchain.chat_models.ChatOpenAI", "openai"),
    SdkRule("langchain.chat_models.ChatAnthropic", "anthropic"),
    SdkRule("langchain.embeddings.OpenAIEmbeddings", "openai", embedding=True),
    SdkRule("langchain_community.chat_models.AzureChatOpenAI", "azure_openai"),
    SdkRule("langchain_community.chat_models.ChatOpenAI", "openai"),
    SdkRule("langchain_community.chat_models.BedrockChat", "aws_bedrock"),
    SdkRule("langchain_community.chat_models.ChatOllama", "ollama"),
    SdkRule("langchain_community.llms.Bedrock", "aws_bedrock"),
    SdkRule("langchain_community.llms.Ollama", "ollama"),
    SdkRule("langchain_community.embeddings.HuggingFaceEmbeddings", "huggingface", embedding=True),
    SdkRule("langchain_community.embeddings.BedrockEmbeddings", "aws_bedrock", embedding=True),
    SdkRule("langchain_community.embeddings.OpenAIEmbeddings", "openai", embedding=True),
    SdkRule("llama_index.llms.openai", "openai"),
    SdkRule("llama_index.llms.azure_openai", "azure_openai"),
    SdkRule("llama_index.llms.anthropic", "anthropic"),
    SdkRule("llama_index.llms.bedrock", "aws_bedrock"),
    SdkRule("llama_index.llms.bedrock_converse", "aws_bedrock"),
    SdkRule("llama_index.llms.vertex", "gcp_vertex"),
    SdkRule("llama_index.llms.gemini", "google"),
    SdkRule("llama_index.llms.mistralai", "mistral"),
    SdkRule("llama_index.llms.cohere", "cohere"),
    SdkRule("llama_index.llms.ollama", "ollama"),
    SdkRule("llama_index.llms.huggingface", "huggingface"),
    SdkRule("llama_index.embeddings.openai", "openai", embedding=True),
    SdkRule("llama_index.embeddings.azure_openai", "azure_openai", embedding=True),
    SdkRule("llama_index.embeddings.huggingface", "huggingface", embedding=True),
    SdkRule("llama_index.embeddings.bedrock", "aws_bedrock", embedding=True),
    SdkRule("llama_index.embeddings.ollama", "ollama", embedding=True),
)
RULES_BY_PREFIX: dict[str, SdkRule] = {rule.prefix: rule for rule in _RULES}


def match_rule(qualified: str) -> SdkRule | None:
    """The longest rule prefix that ``qualified`` starts with, at a dot or call boundary."""
    best: SdkRule | None = None
    for prefix, rule in RULES_BY_PREFIX.items():
        at_boundary = qualified == prefix or (
            qualified.startswith(prefix) and qualified[len(prefix)] in ".(:"
        )
        if at_boundary and (best is None or len(prefix) > len(best.prefix)):
            best = rule
    return best


MODEL_KEYWORDS = ("model", "model_name", "model_id", "modelId", "repo_id", "model_path")
DEPLOYMENT_KEYWORDS = ("azure_deployment", "deployment_name", "deployment_id", "engine")
ENDPOINT_KEYWORDS = ("base_url", "azure_endpoint", "api_base", "endpoint", "host", "base_uri")
KEY_KEYWORDS = frozenset(
    {
        "api_key",
        "apikey",
        "openai_api_key",
        "anthropic_api_key",
        "google_api_key",
        "cohere_api_key",
        "mistral_api_key",
        "groq_api_key",
        "aws_secret_access_key",
        "azure_ad_token",
        "token",
        "api_token",
        "hf_token",
        "access_token",
    }
)
POSITIONAL_MODEL_CALLS = (
    "from_pretrained",
    "SentenceTransformer",
    "GenerativeModel",
    "init_chat_model",
    "LLM",
)
"""Calls whose first positional argument is the model (``vllm.LLM("meta-llama/…")``)."""
BEDROCK_MODEL_CALLS = frozenset(
    {"invoke_model", "invoke_model_with_response_stream", "converse", "converse_stream"}
)

# Model-name families, for model strings whose SDK does not fix the provider (litellm, JS files
# importing several SDKs).
MODEL_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding-3", "openai"),
    ("text-embedding-ada", "openai"),
    ("dall-e", "openai"),
    ("whisper", "openai"),
    ("claude", "anthropic"),
    ("gemini", "google"),
    ("text-embedding-004", "google"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("open-mistral", "mistral"),
    ("command", "cohere"),
    ("embed-english", "cohere"),
    ("embed-multilingual", "cohere"),
)
LITELLM_PREFIXES: dict[str, str] = {
    "bedrock": "aws_bedrock",
    "azure": "azure_openai",
    "anthropic": "anthropic",
    "openai": "openai",
    "vertex_ai": "gcp_vertex",
    "gemini": "google",
    "mistral": "mistral",
    "cohere": "cohere",
    "ollama": "ollama",
    "ollama_chat": "ollama",
    "groq": "groq",
    "huggingface": "huggingface",
    "google_genai": "google",
    "gcp_vertexai": "gcp_vertex",
    "bedrock_converse": "aws_bedrock",
    "azure_openai": "azure_openai",
}
BEDROCK_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def provider_from_model(model: str) -> str | None:
    lowered = model.lower()
    for prefix, provider in MODEL_FAMILIES:
        if lowered.startswith(prefix):
            return provider
    return None


# --- agents, tools, vector stores --------------------------------------------------------------

TOOL_DECORATORS: dict[str, str] = {
    "langchain.tools.tool": "langchain",
    "langchain_core.tools.tool": "langchain",
    "langchain.agents.tool": "langchain",
    "crewai.tools.tool": "crewai",
    "agents.function_tool": "openai-agents",
    "llama_index.core.tools.tool": "llama-index",
}
TOOL_CONSTRUCTORS: dict[str, str] = {
    "langchain.tools.Tool": "langchain",
    "langchain_core.tools.Tool": "langchain",
    "langchain.agents.Tool": "langchain",
    "langchain.tools.StructuredTool.from_function": "langchain",
    "langchain_core.tools.StructuredTool.from_function": "langchain",
    "llama_index.core.tools.FunctionTool.from_defaults": "llama-index",
    "llama_index.core.tools.FunctionTool": "llama-index",
    "autogen_core.tools.FunctionTool": "autogen",
    "autogen.register_function": "autogen",
    "agents.FunctionTool": "openai-agents",
}
AGENT_CONSTRUCTORS: dict[str, str] = {
    "agents.Agent": "openai-agents",
    "crewai.Agent": "crewai",
    "autogen_agentchat.agents.AssistantAgent": "autogen",
    "autogen.AssistantAgent": "autogen",
    "autogen.ConversableAgent": "autogen",
    "langchain.agents.AgentExecutor": "langchain",
    "langchain.agents.initialize_agent": "langchain",
    "langchain.agents.create_react_agent": "langchain",
    "langchain.agents.create_tool_calling_agent": "langchain",
    "langchain.agents.create_openai_tools_agent": "langchain",
    "langgraph.prebuilt.create_react_agent": "langgraph",
    "llama_index.core.agent.ReActAgent.from_tools": "llama-index",
    "llama_index.core.agent.ReActAgent": "llama-index",
    "llama_index.core.agent.FunctionCallingAgent.from_tools": "llama-index",
    "llama_index.core.agent.workflow.FunctionAgent": "llama-index",
    "llama_index.core.agent.workflow.ReActAgent": "llama-index",
}
VECTOR_CLIENTS: dict[str, str] = {
    "chromadb": "chroma",
    "langchain_chroma.Chroma": "chroma",
    "langchain_community.vectorstores.Chroma": "chroma",
    "pinecone": "pinecone",
    "langchain_pinecone": "pinecone",
    "weaviate": "weaviate",
    "langchain_weaviate": "weaviate",
    "qdrant_client": "qdrant",
    "langchain_qdrant": "qdrant",
    "pgvector": "pgvector",
    "langchain_postgres.PGVector": "pgvector",
    "langchain_community.vectorstores.PGVector": "pgvector",
    "faiss": "faiss",
    "langchain_community.vectorstores.FAISS": "faiss",
    "lancedb": "lancedb",
    "langchain_community.vectorstores.LanceDB": "lancedb",
    "pymilvus": "milvus",
    "langchain_milvus": "milvus",
    "llama_index.vector_stores.chroma": "chroma",
    "llama_index.vector_stores.pinecone": "pinecone",
    "llama_index.vector_stores.qdrant": "qdrant",
    "llama_index.vector_stores.weaviate": "weaviate",
    "llama_index.vector_stores.postgres": "pgvector",
    "llama_index.vector_stores.faiss": "faiss",
    "llama_index.vector_stores.lancedb": "lancedb",
    "llama_index.vector_stores.milvus": "milvus",
}
VECTOR_LOCATION_KEYWORDS = ("url", "host", "uri", "path", "persist_directory", "connection")
VECTOR_NAMESPACE_KEYWORDS = ("collection_name", "index_name", "namespace", "table_name", "name")
VECTOR_NAMESPACE_METHODS = frozenset(
    {
        "get_or_create_collection",
        "create_collection",
        "get_collection",
        "Index",
        "open_table",
        "create_table",
    }
)

# What a tool's function body calls, mapped to the permission it implies (inferred).
PERMISSION_HINTS: tuple[tuple[str, str], ...] = (
    ("requests.", "network"),
    ("httpx.", "network"),
    ("urllib.", "network"),
    ("aiohttp.", "network"),
    ("subprocess.", "execute_code"),
    ("os.system", "execute_code"),
    ("os.popen", "execute_code"),
    ("eval", "execute_code"),
    ("exec", "execute_code"),
    ("smtplib.", "send_message"),
    ("slack_sdk.", "send_message"),
    ("shutil.rmtree", "delete"),
    ("os.remove", "delete"),
    ("os.unlink", "delete"),
)

# --- JavaScript / TypeScript -------------------------------------------------------------------

JS_MODULE_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "@azure/openai": "azure_openai",
    "@anthropic-ai/sdk": "anthropic",
    "@anthropic-ai/bedrock-sdk": "aws_bedrock",
    "@anthropic-ai/vertex-sdk": "gcp_vertex",
    "@google/genai": "google",
    "@google/generative-ai": "google",
    "@google-cloud/vertexai": "gcp_vertex",
    "@aws-sdk/client-bedrock-runtime": "aws_bedrock",
    "@mistralai/mistralai": "mistral",
    "cohere-ai": "cohere",
    "ollama": "ollama",
    "groq-sdk": "groq",
    "@langchain/openai": "openai",
    "@langchain/anthropic": "anthropic",
    "@langchain/aws": "aws_bedrock",
    "@langchain/google-genai": "google",
    "@langchain/google-vertexai": "gcp_vertex",
    "@langchain/mistralai": "mistral",
    "@langchain/ollama": "ollama",
    "@ai-sdk/openai": "openai",
    "@ai-sdk/anthropic": "anthropic",
    "@ai-sdk/amazon-bedrock": "aws_bedrock",
    "@ai-sdk/azure": "azure_openai",
    "@ai-sdk/google": "google",
    "@ai-sdk/google-vertex": "gcp_vertex",
    "@ai-sdk/mistral": "mistral",
    "@ai-sdk/cohere": "cohere",
}
JS_VECTOR_MODULES: dict[str, str] = {
    "chromadb": "chroma",
    "@pinecone-database/pinecone": "pinecone",
    "@qdrant/js-client-rest": "qdrant",
    "weaviate-client": "weaviate",
    "weaviate-ts-client": "weaviate",
    "@lancedb/lancedb": "lancedb",
    "vectordb": "lancedb",
    "@zilliz/milvus2-sdk-node": "milvus",
    "pgvector": "pgvector",
}
AI_SDK_FACTORIES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws_bedrock",
    "azure": "azure_openai",
    "google": "google",
    "vertex": "gcp_vertex",
    "mistral": "mistral",
    "cohere": "cohere",
}

# --- files ---------------------------------------------------------------------------------------

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})
JS_SUFFIXES = frozenset({".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts"})
CONFIG_SUFFIXES = frozenset(
    {
        ".yaml",
        ".yml",
        ".toml",
        ".json",
        ".ini",
        ".cfg",
        ".conf",
        ".properties",
        ".tf",
        ".tfvars",
        ".env",
        ".sh",
    }
)
JSON_CONFIG_WORDS = ("config", "settings", "secret", "env", "credential", "launch", "local")
CONFIG_NAMES = frozenset({"Dockerfile", "Containerfile", "Procfile", "Makefile"})
MCP_FILE_NAMES = frozenset(
    {
        "mcp.json",
        ".mcp.json",
        "claude_desktop_config.json",
        "mcp_config.json",
        "cline_mcp_settings.json",
    }
)
APP_MANIFESTS = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "Pipfile",
        "package.json",
        "go.mod",
        "Cargo.toml",
        "pom.xml",
        "build.gradle",
    }
)
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
        "dist",
        "build",
        ".next",
        ".idea",
    }
)

AI_KEY_NAME_PATTERN = (
    r"\b(?:[A-Za-z0-9]+_)*(?:OPENAI|ANTHROPIC|CLAUDE|AZURE_OPENAI|AOAI|COHERE|CO_API|MISTRAL|"
    r"GROQ|GEMINI|GOOGLE_API|GOOGLE_GENAI|VERTEX|HUGGINGFACE|HUGGING_FACE|HF|REPLICATE|TOGETHER|"
    r"PERPLEXITY|PPLX|FIREWORKS|DEEPSEEK|XAI|OPENROUTER|VOYAGE|PINECONE|WEAVIATE|QDRANT|"
    r"LANGCHAIN|LANGSMITH|LLAMA_CLOUD|BEDROCK|NVIDIA_NIM|NVAPI|AI21|LLM)_?(?:[A-Za-z0-9]+_)*"
    r"(?:API_?KEY|KEY|TOKEN|SECRET)\b|\bAWS_BEARER_TOKEN_BEDROCK\b"
)
"""Environment variable and config key names that hold AI API keys (case-insensitive)."""
GENERIC_SECRET_NAME = r"(?i)(?:key|token|secret|password|pat|credential)"  # noqa: S105 - a pattern
STRONG_KEY_PREFIXES = (
    "sk-",
    "AKIA",
    "ASIA",
    "AIza",
    "hf_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "gsk_",
    "r8_",
    "pplx-",
    "nvapi-",
    "sk_live_",
    "rk_live_",
)
