"""Scopes and roles: what a principal may do.

Roles nest (``admin`` implies ``analyst`` implies ``read``). ``ingest`` stands apart: an
application that sends events must not be able to read anyone's events back, and a reader must not
be able to forge events.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from garrison.core.errors import GarrisonError


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    ANALYST = "analyst"
    ADMIN = "admin"


IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.INGEST: frozenset({Scope.INGEST}),
    Scope.READ: frozenset({Scope.READ}),
    Scope.ANALYST: frozenset({Scope.ANALYST, Scope.READ}),
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.ANALYST, Scope.READ}),
}

USER_ROLES = (Scope.READ, Scope.ANALYST, Scope.ADMIN)
"""Roles a person can hold; ``ingest`` is for applications only."""


def parse_scope(value: str) -> Scope:
    try:
        return Scope(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Scope)
        raise GarrisonError(f"unknown scope {value!r}", hint=f"use one of: {names}") from None


def expand(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """Every scope the given ones grant, implied ones included."""
    granted: set[Scope] = set()
    for scope in scopes:
        granted |= IMPLIED[scope]
    return frozenset(granted)


def parse_role(value: str) -> Scope:
    role = parse_scope(value)
    if role not in USER_ROLES:
        raise GarrisonError(
            f"{role.value!r} is not a role for a person",
            hint="give a person read, analyst or admin; ingest is for API tokens",
        )
    return role
