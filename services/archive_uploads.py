"""Export archives uploaded in parts, past the API's 64 MiB request limit.

An upload is created with the archive's size, filled by parts in order (each part says where
it starts; a part that does not start where the upload ends is refused with the offset to go
on from, so a broken upload resumes), then finished: its FIT files are queued for the intake
and the archive is deleted.  Files: ``<data dir>/uploads/<athlete id>/<upload id>.zip`` and
``.json`` (name, size, and once finished each entry's answer), private to the user; the bytes
received count against the athlete's storage quota until the upload is finished or deleted
(or, untouched for a week, dropped when the athlete starts another).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.domain.errors import InvalidValue, NotFound, RequestKeyReused, StateConflict
from services.private_files import private_dir, write_private
from services.tables import Tx

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
STALE_S = 7 * 24 * 3600  # an upload no part reached for a week is dropped


@dataclass
class Upload:
    upload_id: str
    athlete_id: str
    name: str
    size: int
    received: int = 0
    status: str = "receiving"  # receiving | finished
    entries: list[dict[str, Any]] = field(default_factory=list)


class ArchiveUploads:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "uploads"

    def _folder(self, athlete_id: str) -> Path:
        return self.root / str(uuid.UUID(athlete_id))

    def archive(self, upload: Upload) -> Path:
        return self._folder(upload.athlete_id) / f"{upload.upload_id}.zip"

    def _meta(self, upload: Upload) -> Path:
        return self._folder(upload.athlete_id) / f"{upload.upload_id}.json"

    def _save(self, upload: Upload) -> None:
        data = asdict(upload)
        data.pop("received")
        write_private(self._meta(upload), json.dumps(data).encode())

    def create(self, athlete_id: str, name: str, size: int,
               request_id: str | None = None) -> Upload:
        """A new upload; with ``request_id`` (an Idempotency-Key) a retry answers the upload
        it created, and the key reused for another upload raises."""
        if request_id is not None:
            upload_id = uuid.uuid5(uuid.NAMESPACE_URL, f"trainledger:archive:{request_id}").hex
            with suppress(NotFound):
                found = self.get(upload_id)
                if (found.athlete_id, found.name, found.size) != (athlete_id, name, size):
                    raise RequestKeyReused("Idempotency-Key was already used for another "
                                           "upload", "Idempotency-Key")
                return found
        self.drop_stale(athlete_id)
        upload = Upload(upload_id if request_id else uuid.uuid4().hex, athlete_id, name, size)
        private_dir(self.root)
        private_dir(self._folder(athlete_id))
        write_private(self.archive(upload), b"")
        self._save(upload)
        return upload

    def get(self, upload_id: str) -> Upload:
        """The upload, or NotFound (an id of another form names none)."""
        found = (list(self.root.glob(f"*/{upload_id}.json"))
                 if UPLOAD_ID.fullmatch(upload_id) and self.root.is_dir() else [])
        if not found:
            raise NotFound("no such upload")
        upload = Upload(**json.loads(found[0].read_bytes()))
        path = self.archive(upload)
        upload.received = path.stat().st_size if path.exists() else upload.size
        return upload

    def append(self, upload: Upload, start: int, data: bytes) -> Upload:
        """Add a part at ``start``, which must be where the upload ends (checked under a lock
        on the file, so that two parts sent at once cannot both land)."""
        if upload.status != "receiving":
            raise StateConflict("the upload is finished")
        with open(self.archive(upload), "ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            received = os.fstat(f.fileno()).st_size
            if start != received:
                raise StateConflict(f"this part starts at byte {start}, the upload has "
                                    f"{received}: send from byte {received}", "Content-Range")
            if received + len(data) > upload.size:
                raise InvalidValue(f"this part ends at byte {received + len(data)}, past the "
                                   f"upload's size of {upload.size}", "Content-Range")
            f.write(data)
            upload.received = received + len(data)
        return upload

    def reading(self, upload: Upload) -> Path:
        """The complete archive, renamed while its files are queued: it no longer counts
        against the quota (its files do, as they are queued)."""
        if upload.status != "receiving":
            raise StateConflict("the upload is finished")
        if upload.received != upload.size:
            raise StateConflict(f"the upload has {upload.received} of its {upload.size} bytes: "
                                f"send from byte {upload.received}")
        path = self.archive(upload).with_suffix(".reading")
        if not path.exists():  # else a finish that stopped half-way: it goes on
            self.archive(upload).rename(path)
        return path

    def finish(self, upload: Upload, entries: list[dict[str, Any]]) -> Upload:
        """Keep each entry's answer; the archive goes."""
        upload.status, upload.entries = "finished", entries
        self._save(upload)
        self.archive(upload).with_suffix(".reading").unlink(missing_ok=True)
        upload.received = upload.size
        return upload

    def delete(self, upload: Upload) -> None:
        for suffix in (".zip", ".reading", ".json"):
            self.archive(upload).with_suffix(suffix).unlink(missing_ok=True)

    def drop_stale(self, athlete_id: str, max_age_s: float = STALE_S) -> int:
        """Delete the athlete's unfinished uploads no part reached for ``max_age_s``, so that
        an abandoned one stops counting against the quota; returns how many went."""
        folder = self._folder(athlete_id)
        stale = [p for p in folder.glob("*.zip")
                 if time.time() - p.stat().st_mtime > max_age_s] if folder.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
        return len(stale)

    def stored_bytes(self, athlete_id: str) -> int:
        """The bytes of the athlete's unfinished uploads (they count against the quota)."""
        folder = self._folder(athlete_id)
        return sum(p.stat().st_size for p in folder.glob("*.zip")) if folder.is_dir() else 0

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's uploads (erasure); ``tx`` is not needed."""
        folder = self._folder(athlete_id)
        if not folder.is_dir():
            return {"uploads": 0}
        count = sum(1 for p in folder.glob("*.json"))
        shutil.rmtree(folder)
        return {"uploads": count}
