"""Streamed SHA-256 digests of artifacts, bounded by a size limit the caller chooses."""

from __future__ import annotations

import hashlib
import os

CHUNK = 1024 * 1024


def sha256_fd(fd: int, size: int, limit: int | None) -> str | None:
    """The hex SHA-256 of the open file ``fd`` of ``size`` bytes; None when ``size`` is over
    ``limit`` (None: no limit). Reads with ``os.pread`` so the caller's offset is left alone."""
    if limit is not None and size > limit:
        return None
    digest = hashlib.sha256()
    offset = 0
    while True:
        chunk = os.pread(fd, CHUNK, offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str], limit: int | None = None) -> str | None:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return sha256_fd(fd, os.fstat(fd).st_size, limit)
    finally:
        os.close(fd)
