"""The demo's sign-in: an admin ``demo`` with a fresh random password on every load.

Never a fixed password: a demo left running on a reachable port must not be an open door. The
password goes to the terminal and to a file only its owner can read.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import select

from garrison.identity.scopes import Scope
from garrison.identity.users import add_user, set_password
from garrison.store import Store
from garrison.store.models.identity import UserRow

DEMO_USER = "demo"
DEMO_ACTOR = "system:demo"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), also when it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def ensure_demo_login(store: Store, login_file: Path) -> tuple[str, str]:
    """Create (or re-key) the demo admin; returns ``(username, password)``."""
    password = secrets.token_urlsafe(15)
    with store.session() as session:
        exists = session.scalars(select(UserRow.id).where(UserRow.username == DEMO_USER)).first()
        if exists is None:
            add_user(
                session,
                DEMO_USER,
                role=Scope.ADMIN,
                actor=DEMO_ACTOR,
                password=password,
                display_name="Demo administrator",
            )
        else:
            set_password(session, DEMO_USER, password, actor=DEMO_ACTOR)
    write_private(login_file, f"username: {DEMO_USER}\npassword: {password}\n")
    return DEMO_USER, password
