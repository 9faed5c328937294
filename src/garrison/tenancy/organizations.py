"""Organizations (or business units) whose data Garrison keeps apart."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison import audit
from garrison.core.content import ContentModel
from garrison.store.models import OrganizationRow


class Organization(ContentModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    """A short stable key (lower case, digits, hyphens) that every record of the org carries."""
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


def upsert_organization(
    session: Session, organization: Organization, *, actor: str = "system"
) -> bool:
    """Create or update ``organization``; True when something changed (and audited)."""
    row = session.get(OrganizationRow, organization.key)
    after = organization.model_dump(mode="json")
    if row is None:
        audit.record(session, actor, "org.create", "organization", organization.key, None, after)
        session.add(
            OrganizationRow(
                key=organization.key,
                name=organization.name,
                description=organization.description,
            )
        )
        return True
    if (row.name, row.description) == (organization.name, organization.description):
        return False
    before = {"key": row.key, "name": row.name, "description": row.description}
    audit.record(session, actor, "org.update", "organization", row.key, before, after)
    row.name = organization.name
    row.description = organization.description
    return True


def list_organizations(session: Session) -> list[Organization]:
    rows = session.scalars(select(OrganizationRow).order_by(OrganizationRow.key))
    return [Organization(key=r.key, name=r.name, description=r.description) for r in rows]
