"""``scan_models``: every supply-chain finding under some paths, without touching the store."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from garrison.inventory.discovery.base import CallFailure
from garrison.inventory.discovery.files import (
    DEFAULT_MAX_FILE_SIZE,
    Artifact,
    Progress,
    discover_files,
)
from garrison.supplychain.findings import SupplyChainFinding


@dataclass
class ModelScan:
    findings: list[SupplyChainFinding] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    errors: list[CallFailure] = field(default_factory=list)
    files_seen: int = 0

    @property
    def dangerous(self) -> list[SupplyChainFinding]:
        return [f for f in self.findings if f.dangerous]


def scan_models(
    paths: Sequence[str | os.PathLike[str]],
    *,
    follow_symlinks: bool = False,
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
    progress: Progress | None = None,
) -> ModelScan:
    found = discover_files(
        paths, follow_symlinks=follow_symlinks, max_file_size=max_file_size, progress=progress
    )
    findings = sorted(
        found.all_findings(), key=lambda f: (-f.severity.rank, f.path, f.member, f.module, f.name)
    )
    return ModelScan(findings, found.artifacts, list(found.result.errors), found.files_seen)
