from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from garrison.store import Store
from garrison.store.models import Base
from garrison.store.schema import alembic_config

TABLES = {"risk_configs", "risk_assessments", "risk_acceptances"}


def test_migration_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            d for d in compare_metadata(context, Base.metadata) if any(t in repr(d) for t in TABLES)
        ]
    assert differences == []


def test_downgrade_and_upgrade_again(store: Store) -> None:
    config = alembic_config(store.engine)
    command.downgrade(config, "0005")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    command.upgrade(config, "head")
    assert set(inspect(store.engine).get_table_names()) >= TABLES
