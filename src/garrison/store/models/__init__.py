"""Every table Garrison stores, imported here so that Alembic and ``Base.metadata`` see them all.

Each pillar's tables have their own module; pillars read each other through public functions,
never through these rows.
"""

from garrison.store.models.base import Base, UTCDateTime
from garrison.store.models.catalog import CatalogFrameworkRow, CatalogItemRow
from garrison.store.models.organization import OrganizationRow

__all__ = ["Base", "CatalogFrameworkRow", "CatalogItemRow", "OrganizationRow", "UTCDateTime"]
