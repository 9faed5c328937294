"""Ingestion: every door (SDK, HTTP, OTLP, files) feeds the one pipeline in ``pipeline``."""
