"""One error hierarchy for the whole program.

Every error a user can cause carries what went wrong, where, and how to fix it, so the CLI and the
API can show it as one clear message instead of a traceback. Errors that come from content files
carry the file and line.
"""

from __future__ import annotations

from pathlib import Path


class GarrisonError(Exception):
    """Base of every error Garrison raises on purpose.

    ``hint`` says how to fix it; the CLI prints it on its own line and exits with code 2.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"


class ConfigurationError(GarrisonError):
    """A setting (environment variable or settings file) is malformed."""


class StoreError(GarrisonError):
    """The database cannot be reached, or is in a state this Garrison must not touch."""


class ContentError(GarrisonError):
    """A content file (YAML) is unreadable, malformed, or references something unknown."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        item: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line = line
        self.item = item
        where = ""
        if self.path is not None:
            where = str(self.path) if line is None else f"{self.path}:{line}"
        what = message if item is None else f"item {item!r}: {message}"
        super().__init__(f"{where}: {what}" if where else what, hint=hint)
        self.detail = message


class UnknownCatalogIdError(GarrisonError):
    """A framework identifier that the catalog does not hold."""

    def __init__(self, identifier: str, suggestions: list[str] | None = None) -> None:
        self.identifier = identifier
        self.suggestions = suggestions or []
        hint = f"did you mean {', '.join(self.suggestions)}?" if self.suggestions else None
        super().__init__(f"unknown catalog ID {identifier!r}", hint=hint)


class NotFoundError(GarrisonError):
    """A thing asked for by name or ID does not exist."""
