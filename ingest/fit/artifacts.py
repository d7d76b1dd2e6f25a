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
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from ingest.fit.quarantine import Quarantine
from services.application import TrainingLog
from services.domain.errors import NotFound
from services.domain.session import TrainingSession
from services.keyring import KeyErased
from services.private_files import private_dir, write_private
from services.tables import ServiceTables, Tx

ARTIFACTS = "tl_artifacts"
REFS = "tl_artifact_refs"
WRITERS = 2  # threads writing files during a group commit (compression and I/O free the GIL)


class ArtifactStore:
    """Stored device files by SHA-256, with the athletes who refer to each (and its size,
    which their storage quota counts: ``services.quota``)."""

    def __init__(self, db: ServiceTables, quarantine: Quarantine, data_dir: Path) -> None:
        self.db = db
        self.root = data_dir / "artifacts"
        self.quarantine = quarantine
        self._threads: ThreadPoolExecutor | None = None
        create_tables(db)

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.fit.gz"

    def put(self, athlete_id: str, data: bytes) -> str:
        """Store a file for an athlete (once per content); returns its SHA-256.

        Inside a group commit (:mod:`services.shared_transaction`) a file is compressed and
        written by a thread beside this one, and the group's commit waits for it: the file
        is there before its reference is committed, as when written here."""
        digest = hashlib.sha256(data).hexdigest()
        # one transaction with the reference: on SQLite its write lock keeps an erasure from
        # deleting the file between the two
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO {tx.name(REFS)} (sha256, athlete_id, bytes) "
                       "VALUES (%s, %s, %s) ON CONFLICT (sha256, athlete_id) DO NOTHING",
                       (digest, athlete_id, len(data)))
            if self.db.is_postgres:
                tx.execute(f"INSERT INTO {tx.name(ARTIFACTS)} (sha256, gz) VALUES (%s, %s) "
                           "ON CONFLICT (sha256) DO NOTHING", (digest, _packed(data)))
            elif not (path := self._path(digest)).exists():
                if self.db.shared.is_open():
                    self.db.shared.before_commit(
                        self._writer().submit(_write_file, path, data).result)
                else:
                    _write_file(path, data)
        return digest

    def _writer(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(WRITERS, "trainledger-artifacts")
        return self._threads

    def stored_bytes(self, athlete_id: str) -> int:
        """The size of the device files kept for the athlete (each file once; files stored
        before sizes were recorded count 0)."""
        rows = self.db.query(f"SELECT COALESCE(SUM(bytes), 0) AS n FROM {self.db.name(REFS)} "
                             "WHERE athlete_id = %s", (athlete_id,))
        return int(rows[0]["n"])

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


def _packed(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=0)  # 4x faster than 6, 3 % larger


def _write_file(path: Path, data: bytes) -> None:
    """Write a stored file whole or not at all (a name of its own, then renamed)."""
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")  # two writers of one file
    packed = _packed(data)
    try:
        write_private(tmp, packed)
    except FileNotFoundError:  # the folder's first file
        private_dir(path.parent)
        write_private(tmp, packed)
    tmp.replace(path)


def create_tables(db: ServiceTables) -> None:
    if db.is_postgres:
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(ARTIFACTS)} "
                   "(sha256 TEXT PRIMARY KEY, gz BYTEA NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(REFS)} (sha256 TEXT NOT NULL, "
               "athlete_id TEXT NOT NULL, bytes BIGINT NOT NULL DEFAULT 0, "
               "PRIMARY KEY (sha256, athlete_id))")
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
        try:  # requests as earlier versions stored them: JSON with the file in base64
            data = base64.b64decode(json.loads(_raw(row["payload"])).get("data_b64", ""))
        except (ValueError, TypeError, AttributeError):
            continue
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
    quarantine = Quarantine(data_dir / "quarantine")
    if loose := quarantine.loose_files():
        quarantine.file_loose(loose, _fit_imports(db, ("rejected",)))


def _raw(payload: Any) -> str | bytes:
    """A stored payload as ``json.loads`` takes it (TEXT before, bytes now)."""
    return payload if isinstance(payload, str | bytes) else bytes(payload)
