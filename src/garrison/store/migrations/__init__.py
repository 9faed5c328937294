"""Alembic migrations, one hand-written revision per schema change (loaded by path)."""
