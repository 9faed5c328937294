"""JSON-lines files: read once, or follow a growing file the way ``tail -F`` does.

Following survives the two things log shippers do to a file: truncation (the file shrinks under
us: start again from its beginning) and rotation (the name now points at a new file: finish the
old one, then read the new one from its beginning). Lines are only handed on once complete, so a
writer caught mid-line is never read as a broken event.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from garrison.monitoring.ingest.decode import OVERSIZED

MAX_LINE_BYTES = 8 * 1024 * 1024
READ_BYTES = 1024 * 1024


def read_lines(stream: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Complete lines of ``stream`` (the last may lack its newline), long lines cut off."""
    pending = b""
    skipping = False
    while True:
        chunk = stream.read(READ_BYTES)
        if not chunk:
            break
        if on_bytes is not None:
            on_bytes(len(chunk))
        lines, pending, skipping = _split(pending + chunk, skipping)
        yield from lines
    if pending and not skipping:
        yield pending


def _split(data: bytes, skipping: bool) -> tuple[list[bytes], bytes, bool]:
    """Complete lines of ``data``, the incomplete rest, and whether an oversized line goes on."""
    out: list[bytes] = []
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            break
        if skipping:
            skipping = False
        else:
            out.append(data[start:end] if end - start <= MAX_LINE_BYTES else OVERSIZED)
        start = end + 1
    rest = data[start:]
    if len(rest) > MAX_LINE_BYTES:
        if not skipping:
            out.append(OVERSIZED)
        return out, b"", True
    return out, (b"" if skipping else rest), skipping


@dataclass
class Follower:
    """Reads new complete lines from ``path`` each time ``poll`` is called."""

    path: Path
    from_start: bool = True
    _stream: BinaryIO | None = None
    _inode: tuple[int, int] | None = None
    _position: int = 0
    _pending: bytes = b""
    _skipping: bool = False

    def _open(self, *, at_end: bool) -> bool:
        try:
            stream = self.path.open("rb")
        except FileNotFoundError:
            return False
        stat = os.fstat(stream.fileno())
        self._stream = stream
        self._inode = (stat.st_dev, stat.st_ino)
        self._position = stat.st_size if at_end else 0
        stream.seek(self._position)
        self._pending = b""
        self._skipping = False
        return True

    def _read_available(self) -> list[bytes]:
        assert self._stream is not None
        lines: list[bytes] = []
        while True:
            chunk = self._stream.read(READ_BYTES)
            if not chunk:
                return lines
            self._position += len(chunk)
            found, self._pending, self._skipping = _split(self._pending + chunk, self._skipping)
            lines.extend(found)

    def poll(self) -> list[bytes]:
        if self._stream is None and not self._open(at_end=not self.from_start):
            return []
        lines = self._read_available()
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return lines  # rotated away and not yet recreated: keep the old file for now
        if (stat.st_dev, stat.st_ino) != self._inode:
            lines.extend(self._read_available())
            self.close()
            if self._open(at_end=False):
                lines.extend(self._read_available())
        elif stat.st_size < self._position:
            self.close()
            if self._open(at_end=False):
                lines.extend(self._read_available())
        return lines

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def follow(
    path: Path,
    *,
    interval: float = 0.2,
    max_seconds: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[list[bytes]]:
    """Batches of new lines from ``path`` until ``max_seconds`` pass or ``should_stop()``."""
    follower = Follower(path)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        while not should_stop():
            lines = follower.poll()
            if lines:
                yield lines
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(interval)
    finally:
        follower.close()
