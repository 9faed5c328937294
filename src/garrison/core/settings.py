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

from garrison.core.crypto import parse_key
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

    # --- limits, hardening and secrets at rest (hardening issue) ----------------------------
    request_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body on any route other than ingest (those use ingest_max_body_bytes)."""

    request_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    """A request handler still running after this long is answered 503."""

    behind_tls: bool = False
    """Garrison is reached over HTTPS (a TLS proxy in front): send HSTS on every answer."""

    ingest_rate_limit: float = Field(default=10_000.0, ge=0)
    """Events per second each bearer token (or client address) may send; 0 turns it off."""

    ingest_rate_burst: int = Field(default=20_000, ge=1)
    """Events a sender may send at once above the steady rate (the bucket size)."""

    live_rules: bool = True
    """The server runs every newly ingested event through the detection rules and raises alerts."""

    alerting_tick_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How often the server flushes due alert groups and delivers the notification outbox."""

    alerting_write_seconds: float = Field(default=0.5, ge=0, le=60)
    """How long the live rules gather firings before storing them and updating their alerts in
    one transaction; 0 writes after every ingest chunk."""

    server_limit_concurrency: int = Field(default=1000, ge=1)
    """Connections uvicorn serves at once before answering 503."""

    server_timeout_keep_alive: int = Field(default=5, ge=1, le=300)
    """Seconds an idle keep-alive connection stays open."""

    content_encryption_key: SecretStr | None = None
    """AES-256 key (64 hex digits or urlsafe base64 of 32 bytes) sealing stored prompt content."""

    content_encryption_previous_keys: SecretStr | None = None
    """Comma-separated older keys, still accepted for reading after a rotation."""

    allow_plaintext_content: bool = False
    """Store prompt content unencrypted when no key is set (a throwaway lab, never production)."""

    @field_validator("content_encryption_key")
    @classmethod
    def _check_encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_key(value.get_secret_value())
        return value

    @field_validator("content_encryption_previous_keys")
    @classmethod
    def _check_previous_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for i, part in enumerate(value.get_secret_value().split(",")):
                try:
                    parse_key(part)
                except ValueError as exc:
                    raise ValueError(f"key {i + 1} {exc}") from None
        return value

    # --- end of the hardening block ---------------------------------------------------------

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


SECRET_FIELDS = (
    "database_url",
    "content_hmac_key",
    "content_encryption_key",
    "content_encryption_previous_keys",
)
"""Settings that may hold a secret: each also reads ``GARRISON_<NAME>_FILE`` and the secrets dir."""

DEFAULT_SECRETS_DIR = Path("/run/secrets")


def secrets_dir() -> Path | None:
    """``GARRISON_SECRETS_DIR`` (must exist), else ``/run/secrets`` when present (Docker, k8s)."""
    chosen = os.environ.get(f"{ENV_PREFIX}SECRETS_DIR")
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise ConfigurationError(
                f"{ENV_PREFIX}SECRETS_DIR is {chosen!r}, which is not a folder",
                hint="point it at the folder your orchestrator mounts secrets in, or unset it",
            )
        return path
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


def secret_file_values() -> dict[str, str]:
    """Values of ``GARRISON_<NAME>_FILE`` variables, read from their files (trailing newline cut).

    A variable set directly wins over its ``_FILE`` twin, as with the official Docker images.
    """
    values: dict[str, str] = {}
    for name in SECRET_FIELDS:
        env_var = f"{ENV_PREFIX}{name.upper()}"
        path = os.environ.get(f"{env_var}_FILE")
        if not path or env_var in os.environ:
            continue
        try:
            values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"{env_var}_FILE names {path!r}, which cannot be read ({exc.__class__.__name__})",
                hint=f"mount the secret at that path, or unset {env_var}_FILE",
            ) from None
    return values


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment, with explicit ``overrides`` taking precedence.

    Secrets may also come from files: ``GARRISON_<NAME>_FILE``, or a file named after the
    variable in the secrets folder (``GARRISON_SECRETS_DIR``, default ``/run/secrets``).
    """
    try:
        found = secrets_dir()
        return Settings(_secrets_dir=found, **{**secret_file_values(), **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:
            raise ConfigurationError(
                str(first["msg"]).removeprefix("Value error, "),
                hint="fix the settings named in the message",
            ) from None
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(
            f"{ENV_PREFIX}{field.upper()} is invalid: {message}",
            hint=f"fix or unset the environment variable {ENV_PREFIX}{field.upper()}",
        ) from None


def _source(name: str, env_var: str) -> str:
    if env_var in os.environ:
        return "environment"
    if name in SECRET_FIELDS and f"{env_var}_FILE" in os.environ:
        return "file"
    folder = secrets_dir()
    if folder is not None and any(
        (folder / candidate).is_file() for candidate in (env_var, env_var.lower())
    ):
        return "secrets dir"
    return "default"


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
        source = _source(name, env_var)
        rows.append(EffectiveSetting(name, env_var, "" if value is None else str(value), source))
    return rows
