"""Model supply chain: what a model file would run when loaded, where it came from, under what
licence, with what bill of materials.

Public functions (other pillars and the discovery sources call these, not the tables):

``scan_artifact(path, fmt, *, size=None, limit=None) -> list[SupplyChainFinding]``
    picklescan verdicts for a file identified by ``inventory.discovery.formats.sniff``.
``scan_models(paths, ...) -> ModelScan``
    Walk paths with files discovery and collect every finding (``garrison scan models``).
``check_hf_reference(repo_id, revision, *, location) -> SupplyChainFinding | None``
    For code discovery: a ``from_pretrained("org/name")`` without a commit is a finding.
``detect_licence(folder, ...) -> Licence``, ``find_sboms(folder) -> list[str]``,
``sha256_file(path, limit=None) -> str | None``
``record_findings(session, asset_id, findings, *, org)``,
``attach_findings(session, by_source_id)``,
``list_findings(session, *, asset_id=None, org=None, include_resolved=False)``
"""

from garrison.supplychain.digests import sha256_file
from garrison.supplychain.findings import FindingKind, Severity, SupplyChainFinding
from garrison.supplychain.licences import Licence, detect_licence
from garrison.supplychain.pinning import check_hf_reference, folder_revision, is_commit
from garrison.supplychain.sbom import find_sboms

__all__ = [
    "FindingKind",
    "Licence",
    "ModelScan",
    "Severity",
    "SupplyChainFinding",
    "attach_findings",
    "check_hf_reference",
    "detect_licence",
    "find_sboms",
    "folder_revision",
    "is_commit",
    "list_findings",
    "record_findings",
    "scan_artifact",
    "scan_models",
    "sha256_file",
]


def __getattr__(name: str) -> object:
    # These pull in the inventory and the store; importing them lazily keeps
    # ``inventory.discovery.files -> supplychain`` free of an import cycle.
    if name == "scan_artifact":
        from garrison.supplychain.pickles import scan_artifact

        return scan_artifact
    if name in ("scan_models", "ModelScan"):
        from garrison.supplychain import scan

        return getattr(scan, name)
    if name in ("record_findings", "attach_findings", "list_findings"):
        from garrison.supplychain import records

        return getattr(records, name)
    raise AttributeError(name)
