"""What rule plugins need from the rest of Garrison, read at the edge through public APIs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from garrison import inventory


def authorized_tools(session: Session) -> dict[str, frozenset[str]]:
    """Agent asset ID (and name) -> the tool names its inventory entry authorizes.

    Events name an agent by ``gen_ai.agent.id``; applications use either the inventory ID or the
    agent's name there, so both keys are offered.
    """
    out: dict[str, frozenset[str]] = {}
    for asset in inventory.search(session):
        if not asset.tools:
            continue
        names = frozenset(tool.name for tool in asset.tools)
        out[asset.id] = names
        out.setdefault(asset.name, names)
    return out
