"""The audit trail: every change, who made it, when, before and after, in a hash chain.

Other pillars call ``record`` from their write paths, inside the same transaction as the change.
"""

from garrison.audit.trail import (
    AuditEntry,
    Break,
    ChainHead,
    Verification,
    canonical_json,
    chain_head,
    entries,
    export,
    record,
    verify,
)

__all__ = [
    "AuditEntry",
    "Break",
    "ChainHead",
    "Verification",
    "canonical_json",
    "chain_head",
    "entries",
    "export",
    "record",
    "verify",
]
