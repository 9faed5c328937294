"""Identity: who may do what, for which organization.

API tokens (scoped, hashed, expiring, revocable), local users with argon2id passwords, dashboard
sessions with CSRF tokens, and the ``Principal`` every request is resolved to.
"""

from garrison.identity.config import AuthSettings, load_auth_settings
from garrison.identity.principal import Principal
from garrison.identity.scopes import Scope, expand, parse_role, parse_scope
from garrison.identity.sessions import end_session, resolve_session, start_session
from garrison.identity.tokens import (
    ApiToken,
    IssuedToken,
    authenticate_token,
    create_token,
    list_tokens,
    parse_duration,
    revoke_token,
)
from garrison.identity.users import (
    User,
    add_user,
    disable_user,
    list_users,
    set_password,
    verify_login,
)

__all__ = [
    "ApiToken",
    "AuthSettings",
    "IssuedToken",
    "Principal",
    "Scope",
    "User",
    "add_user",
    "authenticate_token",
    "create_token",
    "disable_user",
    "end_session",
    "expand",
    "list_tokens",
    "list_users",
    "load_auth_settings",
    "parse_duration",
    "parse_role",
    "parse_scope",
    "resolve_session",
    "revoke_token",
    "set_password",
    "start_session",
    "verify_login",
]
