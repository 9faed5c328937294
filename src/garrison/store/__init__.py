"""The one store: SQLAlchemy models, sessions and Alembic migrations, on SQLite or PostgreSQL."""

from garrison.store.database import Store, create_store_engine, describe_url, open_store

__all__ = ["Store", "create_store_engine", "describe_url", "open_store"]
