"""Every table Garrison stores, imported here so that Alembic and ``Base.metadata`` see them all.

Each pillar's tables have their own module; pillars read each other through public functions,
never through these rows.
"""

from garrison.store.models.alerting import AlertRow  # noqa: F401  (the alerting tables)
from garrison.store.models.audit import AuditEntryRow, AuditHeadRow  # noqa: F401
from garrison.store.models.base import Base, UTCDateTime
from garrison.store.models.catalog import CatalogFrameworkRow, CatalogItemRow
from garrison.store.models.controls import ControlAttestationRow, ControlStateRow  # noqa: F401
from garrison.store.models.identity import ApiTokenRow, SessionRow, UserRow  # noqa: F401
from garrison.store.models.inventory import AssetRow  # noqa: F401  (the inventory tables)
from garrison.store.models.monitoring import EventRow, FindingRow
from garrison.store.models.organization import OrganizationRow
from garrison.store.models.risk import RiskAssessmentRow  # noqa: F401  (the risk tables)
from garrison.store.models.rules import RuleFiringRow  # noqa: F401  (rule firings)
from garrison.store.models.supplychain import SupplyChainFindingRow  # noqa: F401

__all__ = [
    "Base",
    "CatalogFrameworkRow",
    "CatalogItemRow",
    "EventRow",
    "FindingRow",
    "OrganizationRow",
    "UTCDateTime",
]
