"""Device files, kept per athlete: the stored files, shared by hash, and the quarantine.

A file is stored once, by SHA-256 (gzip-compressed: in the data directory's ``artifacts/``,
or in table ``tl_artifacts`` on PostgreSQL), and ``tl_artifact_refs`` says which athletes
imported it.  Erasing an athlete removes their references and the bytes nobody else refers
to.  Rejected files go to ``quarantine/<athlete id>/``, deleted with their athlete.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from services.application import TrainingLog
from services.domain.errors import NotFound
from services.domain.session import TrainingSession
from services.keyring import KeyErased
from services.tables import ServiceTables, Tx

ARTIFACTS = "tl_artifacts"
REFS = "tl_artifact_refs"


def athlete_folder(root: Path, athlete_id: str) -> Path:
    """``root/<athlete id>``; refuses an id that is not a plain name."""
    if not athlete_id or athlete_id in (".", "..") or Path(athlete_id).name != athlete_id:
        raise ValueError(f"not an athlete id: {athlete_id!r}")
    return root / athlete_id


class Quarantine:
    """Rejected files with their reason beside them, in a folder per athlete."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "quarantine"

    def keep(self, athlete_id: str, name: str, data: bytes, reason: str) -> Path:
        folder = athlete_folder(self.root, athlete_id)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        path = folder / f"{digest[:16]}-{Path(name).name or 'upload.fit'}"
        path.write_bytes(data)
        path.with_name(path.name + ".reason.txt").write_text(reason + "\n")
        return path

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's rejected files (erasure); ``tx`` is not needed."""
        folder = athlete_folder(self.root, athlete_id)
        if not folder.is_dir():
            return {"quarantine": 0}
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        return {"quarantine": count}

    def loose_files(self) -> list[Path]:
        """Files kept before quarantines were per athlete: directly in ``quarantine/``."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir()
                if p.is_file() and not p.name.endswith(".reason.txt")]

    def file_loose(self, loose: list[Path], imports: list[dict[str, Any]]) -> int:
        """Upgrade: move each loose file (and its reason) to the folder of the athlete whose
        rejected import holds the same bytes and name; returns how many are left where they
        were (no such import)."""
        owners: dict[str, str] = {}
        for row in imports:
            request = json.loads(row["payload"])
            data = base64.b64decode(request.get("data_b64", ""))
            name = Path(str(request.get("name") or "upload.fit")).name or "upload.fit"
            owners[f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"] = row["athlete_id"]
        left = 0
        for path in loose:
            owner = owners.get(path.name)
            if owner is None:
                left += 1
                continue
            folder = athlete_folder(self.root, owner)
            folder.mkdir(parents=True, exist_ok=True)
            reason = path.with_name(path.name + ".reason.txt")
            if reason.exists():
                reason.replace(folder / reason.name)
            path.replace(folder / path.name)
        return left


class ArtifactStore:
    """Stored device files by SHA-256, with the athletes who refer to each."""

    def __init__(self, db: ServiceTables, data_dir: Path) -> None:
        self.db = db
        self.root = data_dir / "artifacts"
        self.quarantine = Quarantine(data_dir)
        create_tables(db)

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.fit.gz"

    def put(self, athlete_id: str, data: bytes) -> str:
        """Store a file for an athlete (once per content); returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        # one transaction with the reference: on SQLite its write lock keeps an erasure from
        # deleting the file between the two
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO {tx.name(REFS)} (sha256, athlete_id) VALUES (%s, %s) "
                       "ON CONFLICT (sha256, athlete_id) DO NOTHING", (digest, athlete_id))
            if self.db.is_postgres:
                tx.execute(f"INSERT INTO {tx.name(ARTIFACTS)} (sha256, gz) VALUES (%s, %s) "
                           "ON CONFLICT (sha256) DO NOTHING", (digest, packed))
            elif not self._path(digest).exists():
                path = self._path(digest)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(packed)
                tmp.replace(path)
        return digest

    def get(self, digest: str) -> bytes | None:
        if self.db.is_postgres:
            rows = self.db.query(f"SELECT gz FROM {self.db.name(ARTIFACTS)} "
                                 "WHERE sha256 = %s", (digest,))
            return gzip.decompress(bytes(rows[0]["gz"])) if rows else None
        path = self._path(digest)
        return gzip.decompress(path.read_bytes()) if path.exists() else None

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Remove the athlete's references, and the files nobody refers to any more."""
        digests = [r["sha256"] for r in tx.query(
            f"SELECT sha256 FROM {tx.name(REFS)} WHERE athlete_id = %s", (athlete_id,))]
        refs = tx.execute(f"DELETE FROM {tx.name(REFS)} WHERE athlete_id = %s", (athlete_id,))
        deleted = 0
        for digest in digests:
            if tx.query(f"SELECT 1 AS x FROM {tx.name(REFS)} WHERE sha256 = %s", (digest,)):
                continue
            deleted += self._delete(tx, digest)
        return {REFS: refs, "artifacts": deleted}

    def _delete(self, tx: Tx, digest: str) -> int:
        if self.db.is_postgres:
            return tx.execute(f"DELETE FROM {tx.name(ARTIFACTS)} WHERE sha256 = %s", (digest,))
        path = self._path(digest)
        if not path.exists():
            return 0
        path.unlink()
        return 1


def create_tables(db: ServiceTables) -> None:
    if db.is_postgres:
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(ARTIFACTS)} "
                   "(sha256 TEXT PRIMARY KEY, gz BYTEA NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(REFS)} (sha256 TEXT NOT NULL, "
               "athlete_id TEXT NOT NULL, PRIMARY KEY (sha256, athlete_id))")
    db.execute(f"CREATE INDEX IF NOT EXISTS tl_artifact_refs_athlete ON {db.name(REFS)} "
               "(athlete_id)")


def reference_existing(app: TrainingLog, db: ServiceTables) -> int | None:
    """Upgrade, before ``tl_artifact_refs`` exists: create it, with a reference from each
    readable session naming a stored file and each accepted FIT import; returns how many
    (None: nothing to do)."""
    if db.exists(REFS):
        return None
    refs: set[tuple[str, str]] = set()
    topic = get_topic(TrainingSession.DeviceRecorded)
    start = 1
    while batch := app.recorder.select_notifications(start, 500, topics=[topic]):
        for notification in batch:
            try:
                event = app.mapper.to_domain_event(notification)
                athlete_id = app.session(event.originator_id).athlete_id
            except (KeyErased, NotFound):
                continue  # an erased athlete's: nobody to refer to it
            digest = (getattr(event, "summary", None) or {}).get("artifact_sha256")
            if digest:
                refs.add((digest, athlete_id))
        start = batch[-1].id + 1
    for row in _fit_imports(db, ("imported", "duplicate")):
        data = base64.b64decode(json.loads(row["payload"]).get("data_b64", ""))
        refs.add((hashlib.sha256(data).hexdigest(), row["athlete_id"]))
    create_tables(db)
    with db.transaction() as tx:
        tx.executemany(f"INSERT INTO {tx.name(REFS)} (sha256, athlete_id) VALUES (%s, %s) "
                       "ON CONFLICT (sha256, athlete_id) DO NOTHING", sorted(refs))
    return len(refs)


def _fit_imports(db: ServiceTables, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    if not db.exists("tl_imports"):
        return []
    return db.query(f"SELECT athlete_id, payload FROM {db.name('tl_imports')} WHERE "
                    f"kind = 'fit' AND status IN ({', '.join(['%s'] * len(statuses))})",
                    statuses)


def upgrade_device_files(app: TrainingLog, db: ServiceTables, data_dir: Path) -> None:
    """Stores from before device files were per athlete: references, quarantine folders."""
    reference_existing(app, db)
    quarantine = Quarantine(data_dir)
    if loose := quarantine.loose_files():
        quarantine.file_loose(loose, _fit_imports(db, ("rejected",)))
