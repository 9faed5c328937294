from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.errors import ConfigurationError
from garrison.core.settings import (
    DEFAULT_DATABASE_URL,
    describe_settings,
    load_settings,
    normalise_database_url,
)


def test_defaults_are_a_local_sqlite_file_and_loopback() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite:///.garrison/")
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "INFO")
    assert settings.content_dir is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@db:5432/g", "postgresql+psycopg://u:p@db:5432/g"),
        ("postgres://u@db/g", "postgresql+psycopg://u@db/g"),
        ("postgresql+psycopg://u@db/g", "postgresql+psycopg://u@db/g"),
        ("sqlite:////var/lib/garrison.db", "sqlite:////var/lib/garrison.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg(raw: str, expected: str) -> None:
    assert normalise_database_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@db/g", "database 'mysql' is not supported"),
        ("postgresql+asyncpg://u@db/g", "driver 'postgresql+asyncpg' is not supported"),
        ("postgresql://u@db", "names no database"),
    ],
)
def test_malformed_database_url_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str, message: str
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", raw)
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert "GARRISON_DATABASE_URL is invalid" in str(excinfo.value)
    assert message in str(excinfo.value)
    assert excinfo.value.hint is not None


def test_environment_overrides_and_sources_are_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", "postgresql://alice:s3cret@db/garrison")
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(tmp_path))
    monkeypatch.setenv("GARRISON_LOG_LEVEL", "debug")
    rows = {row.name: row for row in describe_settings(load_settings())}
    assert rows["database_url"].source == "environment"
    assert "s3cret" not in rows["database_url"].value
    assert rows["database_url"].value == "postgresql+psycopg://alice:***@db/garrison"
    assert rows["content_dir"].value == str(tmp_path)
    assert rows["log_level"].value == "DEBUG"
    assert rows["port"].source == "default"


def test_content_dir_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(tmp_path / "missing"))
    with pytest.raises(
        ConfigurationError, match=r"GARRISON_CONTENT_DIR is invalid: .* not a folder"
    ):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"), [("PORT", "70000"), ("PORT", "http"), ("LOG_LEVEL", "loud")]
)
def test_other_bad_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"GARRISON_{name}", value)
    with pytest.raises(ConfigurationError, match=f"GARRISON_{name} is invalid"):
        load_settings()
