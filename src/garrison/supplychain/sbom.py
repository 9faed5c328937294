"""Whether a software bill of materials ships next to an artifact (CycloneDX or SPDX)."""

from __future__ import annotations

import os

_SUFFIXES = (
    ".cdx.json",
    ".cdx.xml",
    ".spdx.json",
    ".spdx",
    ".spdx.yaml",
    ".spdx.yml",
    ".spdx.rdf",
    ".spdx.xml",
)
_NAMES = frozenset({"bom.json", "bom.xml", "sbom.json", "sbom.xml", "aibom.json", "mlbom.json"})
_MARKERS = (b"CycloneDX", b"bomFormat", b"spdxVersion", b"SPDXVersion", b"cyclonedx")
PROBE_BYTES = 4096


def is_sbom_name(name: str) -> bool:
    lower = name.lower()
    return lower in _NAMES or lower.endswith(_SUFFIXES)


def _declares_sbom(path: str) -> bool:
    # A file called bom.json can be anything; the format's own keys say it is a BOM.
    try:
        with open(path, "rb") as handle:
            head = handle.read(PROBE_BYTES)
    except OSError:
        return False
    return any(marker in head for marker in _MARKERS)


def find_sboms(folder: str | os.PathLike[str], names: frozenset[str] | None = None) -> list[str]:
    """Paths of the SBOM files in ``folder`` (not its subfolders)."""
    root = os.fspath(folder)
    if names is None:
        try:
            names = frozenset(os.listdir(root))
        except OSError:
            return []
    found = []
    for name in sorted(names):
        if is_sbom_name(name):
            path = os.path.join(root, name)
            if _declares_sbom(path):
                found.append(path)
    return found
