"""Sign-in settings, read from ``GARRISON_AUTH_*`` environment variables.

Kept apart from ``core.settings`` so identity can grow (OIDC single sign-on is the next step)
without touching the shared settings class.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from garrison.core.errors import ConfigurationError


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GARRISON_AUTH_", extra="ignore")

    cookie_secure: bool | None = None
    """Force the ``Secure`` cookie flag on (true) or off (false); default: on when the request
    arrived over https. Behind a proxy that terminates TLS, set it to true."""
    same_site: Literal["lax", "strict"] = "lax"
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """A session ends this long after sign-in, whatever the activity."""
    idle_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    """A session ends after this long without a request."""


def load_auth_settings(**overrides: object) -> AuthSettings:
    try:
        return AuthSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(
            f"GARRISON_AUTH_{field.upper()} is invalid: {first['msg']}",
            hint="fix or unset the variable",
        ) from None
