"""Schema versions, managed by Alembic migrations packaged with Garrison."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from garrison.core.errors import StoreError


def migrations_dir() -> Path:
    return Path(str(files("garrison.store") / "migrations"))


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships an initial revision
        raise StoreError("no migrations are packaged with this Garrison")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    current = current_revision(engine)
    scripts = ScriptDirectory.from_config(alembic_config())
    return SchemaStatus(current=current, head=head_revision(), known=_exists(scripts, current))


def _exists(scripts: ScriptDirectory, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several types for an unknown revision
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    status = schema_status(engine)
    if not status.known:
        raise_newer(engine, status)
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, *, upgrade: bool = True) -> SchemaStatus:
    """Upgrade an empty or older database; refuse one written by a newer Garrison."""
    status = schema_status(engine)
    if not status.known:
        raise_newer(engine, status)
    if not status.up_to_date and upgrade:
        command.upgrade(alembic_config(engine), "head")
        status = schema_status(engine)
    return status


def raise_newer(engine: Engine, status: SchemaStatus) -> None:
    from garrison.store.database import describe_url

    raise StoreError(
        f"{describe_url(engine.url.render_as_string())} is at schema revision "
        f"{status.current!r}, which this Garrison does not know (its newest is {status.head!r}); "
        "it was probably written by a newer Garrison and is left untouched",
        hint="upgrade Garrison, or point GARRISON_DATABASE_URL at another database",
    )
