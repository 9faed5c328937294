"""Is a Hugging Face model pinned to a commit? A branch or tag can be moved under you; a commit
cannot. Used by files discovery (for model folders) and by code discovery (for
``from_pretrained("org/name", revision=...)`` calls)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from garrison.supplychain.findings import FindingKind, Severity, SupplyChainFinding

COMMIT = re.compile(r"^[0-9a-f]{40}$")
_METADATA_DIR = os.path.join(".cache", "huggingface", "download")


def is_commit(revision: str | None) -> bool:
    return bool(revision) and bool(COMMIT.fullmatch(revision.strip().lower()))  # type: ignore[union-attr]


def check_hf_reference(
    repo_id: str, revision: str | None, *, location: str
) -> SupplyChainFinding | None:
    """A finding when code loads ``repo_id`` without a commit; None when it is pinned.

    ``location`` is where the reference is (``app/model.py:12``). ``revision`` is the value of the
    call's ``revision=`` argument as written, or None when there is none.
    """
    if is_commit(revision):
        return None
    what = "no revision" if not revision else f"revision {revision!r}, a branch or tag"
    return SupplyChainFinding(
        FindingKind.UNPINNED_MODEL,
        Severity.MEDIUM,
        location,
        f"{repo_id} is loaded with {what}; pin it to a 40-character commit hash so the weights "
        "cannot change without a code change",
        name=repo_id,
    )


@dataclass(frozen=True)
class Revision:
    commit: str
    how: str


def _read_small(path: str, limit: int = 4096) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _git_head(folder: str) -> Revision | None:
    head = _read_small(os.path.join(folder, ".git", "HEAD"))
    if head is None:
        return None
    head = head.strip()
    if is_commit(head):
        return Revision(head, ".git/HEAD (detached)")
    if head.startswith("ref: "):
        ref = head[5:].strip()
        value = _read_small(os.path.join(folder, ".git", *ref.split("/")))
        if value and is_commit(value.strip()):
            return Revision(value.strip(), f".git/{ref}")
        packed = _read_small(os.path.join(folder, ".git", "packed-refs"), 1024 * 1024) or ""
        for line in packed.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and is_commit(parts[0]):
                return Revision(parts[0], ".git/packed-refs")
    return None


def folder_revision(folder: str | os.PathLike[str]) -> Revision | None:
    """The commit a downloaded model folder came from, when the download recorded it:
    ``huggingface_hub``'s ``local_dir`` metadata (first line of each ``.metadata`` file) or a
    git clone's HEAD."""
    root = os.fspath(folder)
    meta_dir = os.path.join(root, _METADATA_DIR)
    try:
        entries = sorted(e for e in os.listdir(meta_dir) if e.endswith(".metadata"))
    except OSError:
        entries = []
    for entry in entries:
        text = _read_small(os.path.join(meta_dir, entry), 256)
        first = (text or "").splitlines()[:1]
        if first and is_commit(first[0].strip()):
            return Revision(first[0].strip(), f"{_METADATA_DIR}/{entry}")
    return _git_head(root)


def unpinned_folder_finding(folder: str, repo_id: str) -> SupplyChainFinding:
    return SupplyChainFinding(
        FindingKind.UNPINNED_MODEL,
        Severity.LOW,
        folder,
        f"model folder {repo_id} records no commit it was downloaded from; re-download it with "
        "a pinned revision (or keep the Hugging Face cache layout, which records one)",
        name=repo_id,
    )
