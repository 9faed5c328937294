"""Supply-chain findings: what is wrong with a model artifact, how badly, and where exactly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FindingKind(StrEnum):
    UNSAFE_IMPORT = "unsafe_import"
    """A pickle imports a global on picklescan's deny-list (os.system, builtins.exec, …)."""
    SUSPICIOUS_IMPORT = "suspicious_import"
    """A pickle imports a global on neither list: unknown code runs at load."""
    FORMAT_MISMATCH = "format_mismatch"
    """The content is not what the name says (a pickle called model.safetensors)."""
    UNPINNED_MODEL = "unpinned_model"
    """A Hugging Face model used or stored without a commit: what is loaded can change."""
    CODE_IN_MODEL = "code_in_model"
    """A Keras Lambda layer: serialized Python run when the model is deserialized."""
    SCAN_ERROR = "scan_error"
    """The pickle stream broke part-way; what was read before the break is reported."""
    NOT_SCANNED = "not_scanned"
    """Over the size limit: the artifact was identified but its pickle stream was not read."""


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return ("info", "low", "medium", "high", "critical").index(self.value)


@dataclass(frozen=True)
class SupplyChainFinding:
    kind: FindingKind
    severity: Severity
    path: str
    """The file (or folder, or ``file:line`` for a code reference) the finding is about."""
    message: str
    member: str = ""
    """The archive member holding the pickle (``archive/data.pkl``), when inside a ZIP."""
    module: str = ""
    name: str = ""
    """The imported global, for import findings: ``posix`` / ``system``."""

    @property
    def dangerous(self) -> bool:
        """A verdict that blocks: a deny-listed import runs attacker-chosen code at load."""
        return self.kind is FindingKind.UNSAFE_IMPORT

    @property
    def fingerprint(self) -> str:
        """Stable identity across scans, so a re-scan updates a finding instead of adding one."""
        text = "\x1f".join((self.kind.value, self.path, self.member, self.module, self.name))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def global_name(self) -> str:
        return f"{self.module}.{self.name}" if self.module else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "dangerous": self.dangerous,
            "path": self.path,
            "member": self.member,
            "global": self.global_name,
            "message": self.message,
        }
