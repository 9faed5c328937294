"""Who is making a request: a signed-in person or an API token, with what scopes and which org."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from garrison.identity.scopes import Scope

PrincipalKind = Literal["user", "token", "system"]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    ``actor`` is what the audit trail and approvals record (``user:alice``, ``token:ci-ingest``),
    so that every record names the real person or the exact credential. ``org`` None means every
    organization.
    """

    actor: str
    kind: PrincipalKind
    scopes: frozenset[Scope]
    org: str | None = None
    name: str = ""
    session_csrf: str | None = None
    """The session's CSRF token when authenticated by cookie (writes must echo it)."""

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def can_see(self, org: str | None) -> bool:
        """True when a record of ``org`` is visible to this principal."""
        return self.org is None or org == self.org

    @property
    def by_cookie(self) -> bool:
        return self.session_csrf is not None
