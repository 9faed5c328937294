"""Effective settings, read from ``GARRISON_*`` environment variables.

``load_settings`` is the only way in: it turns a pydantic validation failure into one
``ConfigurationError`` that names the variable and shows a valid example, so a typo in a URL never
surfaces as a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from garrison.core.errors import ConfigurationError

ENV_PREFIX = "GARRISON_"
DEFAULT_DATA_DIR = Path(".garrison")
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATA_DIR / 'garrison.db'}"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_URL_EXAMPLES = (
    "sqlite:///.garrison/garrison.db or postgresql+psycopg://user:password@127.0.0.1:5432/garrison"
)


def normalise_database_url(raw: str) -> str:
    """Validate a database URL and pin the driver Garrison is tested with.

    ``postgres://`` and ``postgresql://`` both mean psycopg 3, the only PostgreSQL driver we ship.
    """
    text = raw.strip()
    try:
        url: URL = make_url(text)
    except ArgumentError:
        raise ValueError(f"{text!r} is not a database URL; expected e.g. {_URL_EXAMPLES}") from None
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend == "sqlite":
        if url.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise ValueError(f"SQLite driver {url.drivername!r} is not supported; use sqlite:///")
        return url.render_as_string(hide_password=False)
    if backend == "postgresql":
        if url.drivername not in ("postgres", "postgresql", "postgresql+psycopg"):
            raise ValueError(
                f"PostgreSQL driver {url.drivername!r} is not supported; use postgresql+psycopg://"
            )
        if not url.database:
            raise ValueError("the PostgreSQL URL names no database (…/DBNAME at the end)")
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"database {backend!r} is not supported; use SQLite or PostgreSQL")


class Settings(BaseSettings):
    """Everything an operator can set. Each field is read from ``GARRISON_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the store: a SQLite file by default, PostgreSQL for teams."""

    content_dir: Path | None = None
    """An organization's content folder; its files override or extend the packaged defaults."""

    log_level: LogLevel = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000

    store_content: bool = False
    """Keep prompt and response text of monitored traffic; otherwise only a digest and a
    redacted preview are stored."""

    content_hmac_key: SecretStr | None = None
    """Key of the content digests (16+ bytes). Without it digests use a per-process random key
    and cannot be compared across restarts."""

    content_preview_chars: int = Field(default=160, ge=0, le=2000)
    ingest_max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    """Largest request body ``POST /api/v1/events`` and the OTLP receiver accept."""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("content_dir")
    @classmethod
    def _check_content_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{str(value)!r} is not a folder")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("content_hmac_key")
    @classmethod
    def _check_hmac_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode("utf-8")) < 16:
            raise ValueError(
                "must be at least 16 bytes; generate one with "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value

    @field_validator("port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError("a TCP port is between 1 and 65535")
        return value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment, with explicit ``overrides`` taking precedence."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(
            f"{ENV_PREFIX}{field.upper()} is invalid: {message}",
            hint=f"fix or unset the environment variable {ENV_PREFIX}{field.upper()}",
        ) from None


@dataclass(frozen=True)
class EffectiveSetting:
    name: str
    env_var: str
    value: str
    source: str


def describe_settings(settings: Settings) -> list[EffectiveSetting]:
    """Each setting with its value and where it came from, passwords hidden."""
    rows: list[EffectiveSetting] = []
    for name in Settings.model_fields:
        env_var = f"{ENV_PREFIX}{name.upper()}"
        value = getattr(settings, name)
        if name == "database_url":
            value = make_url(value).render_as_string(hide_password=True)
        elif isinstance(value, SecretStr):
            value = "********"
        source = "environment" if env_var in os.environ else "default"
        rows.append(EffectiveSetting(name, env_var, "" if value is None else str(value), source))
    return rows
