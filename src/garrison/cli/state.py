"""Settings and store for the running command, opened once and only when a command needs them."""

from __future__ import annotations

from functools import lru_cache

from garrison.core.settings import Settings, load_settings
from garrison.store import Store, open_store


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def store() -> Store:
    """The store, with its schema brought up to date on first use."""
    return open_store(settings().database_url)


def reset() -> None:
    """Forget cached settings and store (tests run many commands in one process)."""
    if store.cache_info().currsize:
        store().dispose()
    store.cache_clear()
    settings.cache_clear()
