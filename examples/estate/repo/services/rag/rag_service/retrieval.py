"""Vector retrieval over the help-centre articles."""

import os

import chromadb
from openai import OpenAI

EMBEDDING_MODEL = "text-embedding-3-small"

_client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
_chroma = chromadb.PersistentClient(path="./data/chroma")
_articles = _chroma.get_or_create_collection("help-articles")


def embed(texts: list[str]) -> list[list[float]]:
    response = _client.embeddings.create(model=EMBEDDING_MODEL, input=texts)
    return [item.embedding for item in response.data]


def search(question: str, k: int = 4) -> list[str]:
    hits = _articles.query(query_embeddings=embed([question]), n_results=k)
    return [doc for docs in hits["documents"] for doc in docs]
