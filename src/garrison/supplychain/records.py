"""Supply-chain findings attached to inventory assets, in the store.

``record_findings`` takes findings keyed by the asset's source ID (what a discovery source knows
before registration) and resolves each through the inventory's public ``resolve_asset``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.errors import NotFoundError
from garrison.core.timeutil import utcnow
from garrison.store.models.supplychain import SupplyChainFindingRow
from garrison.supplychain.findings import FindingKind, Severity, SupplyChainFinding


@dataclass(frozen=True)
class StoredFinding:
    asset_id: str
    finding: SupplyChainFinding
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None


def record_findings(
    session: Session,
    asset_id: str,
    findings: Iterable[SupplyChainFinding],
    *,
    org: str,
    at: datetime | None = None,
) -> None:
    """Make ``findings`` the asset's open findings: new ones are added, ones seen again move
    ``last_seen``, and open ones not in ``findings`` are resolved (kept, with ``resolved_at``)."""
    now = at or utcnow()
    current = {f.fingerprint: f for f in findings}
    rows = {
        row.fingerprint: row
        for row in session.scalars(
            select(SupplyChainFindingRow).where(SupplyChainFindingRow.asset_id == asset_id)
        )
    }
    for fingerprint, finding in current.items():
        row = rows.get(fingerprint)
        if row is None:
            session.add(
                SupplyChainFindingRow(
                    org=org,
                    asset_id=asset_id,
                    fingerprint=fingerprint,
                    kind=finding.kind.value,
                    severity=finding.severity.value,
                    path=finding.path,
                    member=finding.member,
                    module=finding.module[:300],
                    name=finding.name[:300],
                    message=finding.message,
                    first_seen=now,
                    last_seen=now,
                    resolved_at=None,
                )
            )
        else:
            row.last_seen = now
            row.resolved_at = None
            row.severity = finding.severity.value
            row.message = finding.message
    for fingerprint, row in rows.items():
        if fingerprint not in current and row.resolved_at is None:
            row.resolved_at = now
    session.flush()


def attach_findings(
    session: Session,
    findings_by_source_id: Mapping[str, Iterable[SupplyChainFinding]],
    *,
    org: str | None = None,
    all_source_ids: Iterable[str] = (),
) -> int:
    """Record findings for assets named by source ID. Assets in ``all_source_ids`` without
    findings get their open findings resolved (a re-scan found them clean). Returns how many
    assets were updated; unknown source IDs are skipped (the asset was not registered)."""
    from garrison.inventory import resolve_asset

    updated = 0
    for source_id in sorted(set(findings_by_source_id) | set(all_source_ids)):
        if not source_id:
            continue
        try:
            asset = resolve_asset(session, source_id, org=org)
        except NotFoundError:
            continue
        record_findings(session, asset.id, findings_by_source_id.get(source_id, ()), org=asset.org)
        updated += 1
    return updated


def list_findings(
    session: Session,
    *,
    asset_id: str | None = None,
    org: str | None = None,
    include_resolved: bool = False,
) -> list[StoredFinding]:
    query = select(SupplyChainFindingRow).order_by(SupplyChainFindingRow.id)
    if asset_id is not None:
        query = query.where(SupplyChainFindingRow.asset_id == asset_id)
    if org is not None:
        query = query.where(SupplyChainFindingRow.org == org)
    if not include_resolved:
        query = query.where(SupplyChainFindingRow.resolved_at.is_(None))
    return [
        StoredFinding(
            asset_id=row.asset_id,
            finding=SupplyChainFinding(
                FindingKind(row.kind),
                Severity(row.severity),
                row.path,
                row.message,
                member=row.member,
                module=row.module,
                name=row.name,
            ),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            resolved_at=row.resolved_at,
        )
        for row in session.scalars(query)
    ]
