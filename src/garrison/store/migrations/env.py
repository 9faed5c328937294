"""Alembic environment: runs migrations on the engine Garrison hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from garrison.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(engine: Engine) -> None:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = config.attributes.get("engine")
    _run(
        engine
        if engine is not None
        else create_engine(str(config.get_main_option("sqlalchemy.url")))
    )
