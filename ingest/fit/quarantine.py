"""Rejected device files, kept for inspection with their reason, within bounds.

Each entry is the file (``<sha256 prefix>-<name>``) and ``<file>.reason.txt``.  After each new
entry, entries older than ``max_days`` go, then the oldest until all of them together hold at
most ``max_bytes`` (a file larger than that on its own does not stay either).
"""

from __future__ import annotations

import hashlib
import time
from contextlib import suppress
from pathlib import Path

from services.private_files import private_dir, write_private

REASON_SUFFIX = ".reason.txt"
DAY = 86_400


class Quarantine:
    def __init__(self, folder: Path, max_bytes: int = 200 * 1024 * 1024,
                 max_days: int = 30) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_days = max_days

    def keep(self, name: str, data: bytes, reason: str) -> Path:
        """Store a rejected file and its reason, then trim the quarantine to its bounds."""
        digest = hashlib.sha256(data).hexdigest()
        private_dir(self.folder)
        path = self.folder / f"{digest[:16]}-{Path(name).name or 'upload.fit'}"
        write_private(path, data)
        write_private(path.with_name(path.name + REASON_SUFFIX), (reason + "\n").encode())
        self.trim()
        return path

    def entries(self) -> list[tuple[float, int, Path]]:
        """(modified, bytes with the reason, path) of each entry, oldest first."""
        found = []
        for path in self.folder.glob("*"):
            if path.name.endswith(REASON_SUFFIX) or not path.is_file():
                continue
            with suppress(FileNotFoundError):  # another process trimmed it meanwhile
                stat = path.stat()
                reason = path.with_name(path.name + REASON_SUFFIX)
                size = stat.st_size + (reason.stat().st_size if reason.exists() else 0)
                found.append((stat.st_mtime, size, path))
        return sorted(found)

    def trim(self) -> int:
        """Drop expired entries, then the oldest while over the size bound; returns how many."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        oldest_kept = time.time() - self.max_days * DAY
        dropped = 0
        for modified, size, path in entries:
            if modified >= oldest_kept and total <= self.max_bytes:
                break
            for item in (path, path.with_name(path.name + REASON_SUFFIX)):
                item.unlink(missing_ok=True)
            total -= size
            dropped += 1
        return dropped
