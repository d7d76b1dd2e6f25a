"""Rejected device files, kept for inspection with their reason, per athlete and bounded.

Each entry is the file (``<athlete id>/<sha256 prefix>-<name>``) and ``<file>.reason.txt``,
private to trainledger's user.  After each new entry, entries older than ``max_days`` go,
then the oldest (of any athlete) until all of them together hold at most ``max_bytes`` (a
file larger than that on its own does not stay either).  An athlete's entries are erased
with them (``forget_athlete``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from services.private_files import private_dir, write_private
from services.tables import Tx

REASON_SUFFIX = ".reason.txt"
DAY = 86_400


def athlete_folder(root: Path, athlete_id: str) -> Path:
    """``root/<athlete id>``; refuses an id that is not a plain name."""
    if not athlete_id or athlete_id in (".", "..") or Path(athlete_id).name != athlete_id:
        raise ValueError(f"not an athlete id: {athlete_id!r}")
    return root / athlete_id


class Quarantine:
    def __init__(self, root: Path, max_bytes: int = 200 * 1024 * 1024,
                 max_days: int = 30) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_days = max_days

    def keep(self, athlete_id: str, name: str, data: bytes, reason: str) -> Path:
        """Store a rejected file and its reason, then trim the quarantine to its bounds."""
        folder = athlete_folder(self.root, athlete_id)
        private_dir(self.root)
        private_dir(folder)
        digest = hashlib.sha256(data).hexdigest()
        path = folder / f"{digest[:16]}-{Path(name).name or 'upload.fit'}"
        write_private(path, data)
        write_private(path.with_name(path.name + REASON_SUFFIX), (reason + "\n").encode())
        self.trim()
        return path

    def entries(self) -> list[tuple[float, int, Path]]:
        """(modified, bytes with the reason, path) of each entry, oldest first."""
        found = []
        for path in self.root.glob("*/*"):
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

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's rejected files (erasure); ``tx`` is not needed."""
        folder = athlete_folder(self.root, athlete_id)
        if not folder.is_dir():
            return {"quarantine": 0}
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        return {"quarantine": count}

    def loose_files(self) -> list[Path]:
        """Files kept before quarantines were per athlete: directly in the root."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir()
                if p.is_file() and not p.name.endswith(REASON_SUFFIX)]

    def file_loose(self, loose: list[Path], imports: list[dict[str, Any]]) -> int:
        """Upgrade: move each loose file (and its reason) to the folder of the athlete whose
        rejected import holds the same bytes and name (requests as earlier versions stored
        them: JSON with ``data_b64``); returns how many are left where they were."""
        owners: dict[str, str] = {}
        for row in imports:
            try:
                request = json.loads(_raw(row["payload"]))
                data = base64.b64decode(request.get("data_b64", ""))
            except (ValueError, TypeError, AttributeError):
                continue  # not a request of the earlier form
            name = Path(str(request.get("name") or "upload.fit")).name or "upload.fit"
            owners[f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"] = row["athlete_id"]
        left = 0
        for path in loose:
            owner = owners.get(path.name)
            if owner is None:
                left += 1
                continue
            folder = athlete_folder(self.root, owner)
            private_dir(folder)
            reason = path.with_name(path.name + REASON_SUFFIX)
            if reason.exists():
                reason.replace(folder / reason.name)
            path.replace(folder / path.name)
        return left


def _raw(payload: Any) -> str | bytes:
    """A stored payload as ``json.loads`` takes it (TEXT before, bytes now)."""
    return payload if isinstance(payload, str | bytes) else bytes(payload)
