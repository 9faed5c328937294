"""Local cross-encoder re-ranking. The model is not pinned to a commit (a supply-chain finding)."""

from transformers import AutoModelForSequenceClassification, AutoTokenizer

RERANKER = "cross-encoder/ms-marco-MiniLM-L-6-v2"

tokenizer = AutoTokenizer.from_pretrained(RERANKER)
model = AutoModelForSequenceClassification.from_pretrained(RERANKER)
