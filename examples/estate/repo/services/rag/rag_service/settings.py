import os

CHAT_MODEL = os.getenv("RAG_CHAT_MODEL", "gpt-4o-mini")
EMBEDDING_MODEL = "text-embedding-3-small"
CHROMA_DIR = os.environ.get("CHROMA_PERSIST_DIR", "./data/chroma")
