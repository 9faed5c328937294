"""Unsafe imports in pickle-based model files, read with picklescan's opcode scanner.

picklescan walks the pickle opcodes (``pickletools.genops``) and gives each imported global a
verdict from an allow-list and a deny-list; nothing is unpickled. A deny-listed global is a
*dangerous* finding, one on neither list a *suspicious* one (the allow-list is what makes
``importlib.import_module`` suspicious, where a deny-list-only scanner would pass it).
ZIP members are opened here rather than by ``scan_zip_bytes`` so that each finding names the
member that holds the pickle.
"""

from __future__ import annotations

import logging
import os
from typing import BinaryIO

from picklescan.relaxed_zipfile import RelaxedZipFile
from picklescan.scanner import (
    SafetyLevel,
    ScanResult,
    scan_numpy,
    scan_pickle_bytes,
)

from garrison.inventory.discovery.formats import ArtifactFormat
from garrison.supplychain.findings import FindingKind, Severity, SupplyChainFinding

# picklescan logs each verdict at WARNING; with no handler configured Python would print them all
# to stderr over our own table. The verdicts are returned as findings instead.
logging.getLogger("picklescan").addHandler(logging.NullHandler())
logging.getLogger("picklescan").propagate = False

_PICKLE_PREFIXES = tuple(b"\x80" + bytes([p]) for p in range(2, 6))
MAX_MEMBER_BYTES = 1024 * 1024 * 1024
"""A pickle member bigger than this is reported as not scanned (tensor data lives elsewhere)."""


def _findings(result: ScanResult, path: str, member: str) -> list[SupplyChainFinding]:
    found: list[SupplyChainFinding] = []
    for item in sorted(result.globals, key=lambda g: (g.module, g.name)):
        where = f"member {member}" if member else "the file"
        if item.safety is SafetyLevel.Dangerous:
            found.append(
                SupplyChainFinding(
                    FindingKind.UNSAFE_IMPORT,
                    Severity.CRITICAL,
                    path,
                    f"pickle imports {item.module}.{item.name}, which runs code when {where} is "
                    "loaded",
                    member=member,
                    module=item.module,
                    name=item.name,
                )
            )
        elif item.safety is SafetyLevel.Suspicious:
            found.append(
                SupplyChainFinding(
                    FindingKind.SUSPICIOUS_IMPORT,
                    Severity.MEDIUM,
                    path,
                    f"pickle imports {item.module}.{item.name}, which is on no allow-list",
                    member=member,
                    module=item.module,
                    name=item.name,
                )
            )
    if result.scan_err:
        found.append(
            SupplyChainFinding(
                FindingKind.SCAN_ERROR,
                Severity.MEDIUM,
                path,
                "the pickle stream is malformed part-way; imports after the break are unknown",
                member=member,
            )
        )
    return found


def scan_stream(handle: BinaryIO, path: str, member: str = "") -> list[SupplyChainFinding]:
    """Scan one pickle stream (the whole of ``handle`` from its current position)."""
    return _findings(
        scan_pickle_bytes(handle, f"{path}:{member}" if member else path), path, member
    )


def _scan_zip(handle: BinaryIO, path: str) -> list[SupplyChainFinding]:
    found: list[SupplyChainFinding] = []
    with RelaxedZipFile(handle, "r") as archive:
        for info in archive.infolist():
            with archive.open(info, "r") as member:
                magic = member.read(8)
            is_pickle = info.filename.endswith((".pkl", ".pickle")) or magic.startswith(
                _PICKLE_PREFIXES
            )
            is_numpy = info.filename.endswith(".npy") or magic.startswith(b"\x93NUMPY")
            if not (is_pickle or is_numpy):
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                found.append(_not_scanned(path, info.file_size, member=info.filename))
                continue
            with archive.open(info, "r") as member:
                if is_pickle:
                    found.extend(scan_stream(member, path, info.filename))
                else:
                    result = scan_numpy(member, f"{path}:{info.filename}")
                    found.extend(_findings(result, path, info.filename))
    return found


def _not_scanned(path: str, size: int, *, member: str = "") -> SupplyChainFinding:
    return SupplyChainFinding(
        FindingKind.NOT_SCANNED,
        Severity.LOW,
        path,
        f"{size:,} bytes is over the scan limit; the pickle stream was not read",
        member=member,
    )


def scan_artifact(
    path: str | os.PathLike[str],
    fmt: ArtifactFormat,
    *,
    size: int | None = None,
    limit: int | None = None,
) -> list[SupplyChainFinding]:
    """Scan a file already identified as ``fmt`` (see ``formats.sniff``). Formats that hold no
    pickle give no findings. ``limit`` bounds how much of a raw pickle is read."""
    text = os.fspath(path)
    with open(text, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size if size is None else size
        if fmt is ArtifactFormat.PICKLE:
            if limit is not None and size > limit:
                return [_not_scanned(text, size)]
            return scan_stream(handle, text)
        if fmt in (ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.NUMPY_NPZ):
            return _scan_zip(handle, text)
        if fmt is ArtifactFormat.NUMPY:
            if limit is not None and size > limit:
                return [_not_scanned(text, size)]
            return _findings(scan_numpy(handle, text), text, "")
    return []
