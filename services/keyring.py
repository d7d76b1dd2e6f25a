"""Per-athlete data keys (AES-256-GCM), stored in our database only wrapped.

Event payloads leave the store encrypted with their athlete's key, so destroying that key
(the right to erasure) makes every copy on the topic unreadable.  Keys are created on first
use; events without an athlete (coach accounts) use the key of their own aggregate.

The table ``tl_athlete_keys`` holds each data key wrapped (AES-256-GCM) with the owner's
key-encryption key, which lives in the key file (:mod:`services.key_file`), not in the
database.  Erasure takes the KEK out of the key file first, then marks the row erased: the
wrapped key left in old table pages, the WAL or a backup opens with nothing that remains.

Every process notices erasures made elsewhere through :meth:`KeyRing.refresh` (a ``stat`` of
the key file; the workers call it before each batch): a KEK gone from the file drops the
cached key and is logged in :attr:`KeyRing.erased`.
"""

from __future__ import annotations

import base64
import os
import threading
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.key_file import Keks, KeyFile, KeyFileError
from services.tables import ServiceTables

TABLE = "tl_athlete_keys"
GENERATION = "tl_key_file"  # the key file's generation, as last written: an older file is refused


class KeyErased(LookupError):
    """The key was destroyed: the data it protected is gone for good."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def wrap(kek: bytes, owner_id: str, key: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(kek).encrypt(nonce, key, owner_id.encode())).decode()


def unwrap(kek: bytes, owner_id: str, wrapped: str) -> bytes:
    sealed = base64.b64decode(wrapped)
    return AESGCM(kek).decrypt(sealed[:12], sealed[12:], owner_id.encode())


class KeyRing:
    def __init__(self, db: ServiceTables, key_file: KeyFile) -> None:
        self.db = db
        self.file = key_file
        self.table = db.name(TABLE)
        self._ciphers: dict[str, AESGCM] = {}
        self._lock = threading.RLock()
        #: owners whose KEK this process saw leave the key file, in order (see ErasureWatch)
        self.erased: list[str] = []
        db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (owner_id TEXT PRIMARY KEY, "
                   "key_b64 TEXT, created_at TEXT NOT NULL, erased_at TEXT, wrapped TEXT)")
        self._add_wrapped_column()
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(GENERATION)} "
                   "(id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)")
        with self.file.locked():
            self._keks = self.file.read()
            if not self.file.exists():
                self._refuse_without_file()
            self._refuse_older_file()
            if not self.file.exists() or self.file.unsealed:
                self._write(self._keks)
        self.migrated = self.upgrade()

    def upgrade(self) -> int:
        """Wrap keys stored in clear (a store or a restored backup from before the key
        file); returns how many.  Also drops KEKs of rows marked erased."""
        with self._lock, self.file.locked():
            self._take(self.file.read())
            migrated = self._wrap_clear_keys()
            self._drop_erased_keks()
        if migrated and self.db.is_postgres:
            self._vacuum()
        return migrated

    # ------------------------------------------------------------- start-up

    def _add_wrapped_column(self) -> None:
        """Stores from before the key file: add the ``wrapped`` column."""
        if self.db.is_postgres:
            self.db.execute(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS wrapped TEXT")
            return
        if "wrapped" not in self.db.columns(TABLE):
            self.db.execute(f"ALTER TABLE {self.table} ADD COLUMN wrapped TEXT")

    def _refuse_without_file(self) -> None:
        rows = self.db.query(f"SELECT COUNT(*) AS n FROM {self.table} "
                             "WHERE wrapped IS NOT NULL")
        if int(rows[0]["n"]):
            raise KeyFileError(
                f"{self.file.path}: missing, and the database holds {rows[0]['n']} wrapped "
                "keys: start with the data directory that holds the key file (never an "
                "older copy of it)")

    def _refuse_older_file(self) -> None:
        rows = self.db.query(f"SELECT generation FROM {self.db.name(GENERATION)} WHERE id = 1")
        if rows and int(rows[0]["generation"]) > self._keks.generation:
            if not self.file.exists():
                raise KeyFileError(f"{self.file.path}: missing (the store last wrote "
                                   f"generation {rows[0]['generation']}); put it back")
            raise KeyFileError(
                f"{self.file.path}: generation {self._keks.generation}, but the store last "
                f"wrote generation {rows[0]['generation']}: an older copy of the key file "
                "(it may still open erased athletes' keys: destroy it); use the current one")

    def _write(self, keks: Keks) -> None:
        """Rewrite the key file (under its lock) and record its new generation."""
        self.file.write(keks)
        self.db.execute(
            f"INSERT INTO {self.db.name(GENERATION)} (id, generation) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET generation = excluded.generation",
            (keks.generation,))

    def _vacuum(self) -> None:
        """PostgreSQL: rewrite the key table, so its file keeps no old clear-key tuples."""
        with self.db.datastore.get_connection() as conn:
            autocommit = conn.autocommit
            conn.autocommit = True
            try:
                conn.execute(f"VACUUM FULL {self.table}")
            finally:
                conn.autocommit = autocommit

    def _wrap_clear_keys(self) -> int:
        """Upgrade: keys stored in clear (``key_b64``) are wrapped, the clear column emptied."""
        rows = self.db.query(f"SELECT owner_id, key_b64 FROM {self.table} "
                             "WHERE key_b64 IS NOT NULL AND erased_at IS NULL")
        if not rows and not self.db.query(f"SELECT owner_id FROM {self.table} "
                                          "WHERE key_b64 IS NOT NULL LIMIT 1"):
            return 0
        wrapped = []
        for row in rows:
            kek = AESGCM.generate_key(256)
            self._keks.keks[row["owner_id"]] = kek
            wrapped.append((wrap(kek, row["owner_id"], base64.b64decode(row["key_b64"])),
                            row["owner_id"]))
        self._write(self._keks)  # the KEKs first: a crash here leaves clear keys only
        with self.db.transaction() as tx:
            if not self.db.is_postgres:  # overwrite the clear keys' old bytes in the file
                tx.execute("PRAGMA secure_delete = ON")
            tx.executemany(f"UPDATE {self.table} SET wrapped = %s, key_b64 = NULL "
                           "WHERE owner_id = %s", wrapped)
            tx.execute(f"UPDATE {self.table} SET key_b64 = NULL WHERE key_b64 IS NOT NULL")
        if not self.db.is_postgres:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(rows)

    def _drop_erased_keks(self) -> None:
        """A KEK still in the file for a row marked erased (a restore, an old crash): gone."""
        if not self._keks.keks:
            return
        erased = {r["owner_id"] for r in self.db.query(
            f"SELECT owner_id FROM {self.table} WHERE erased_at IS NOT NULL")}
        stale = erased & set(self._keks.keks)
        if stale:
            for owner in stale:
                del self._keks.keks[owner]
            self._write(self._keks)

    # ------------------------------------------------------------- keys

    def refresh(self) -> None:
        """Take in the key file if another process rewrote it (a ``stat`` when it did not):
        keys whose KEK left the file are dropped here too, and logged in ``erased``."""
        if not self.file.changed():
            return
        with self._lock:
            self._take(self.file.read())

    def _take(self, keks: Keks) -> None:
        gone = set(self._keks.keks) - set(keks.keks)
        for owner in sorted(gone):
            self._ciphers.pop(owner, None)
            self.erased.append(owner)
        self._keks = keks

    def _row(self, owner_id: str) -> dict[str, str | None] | None:
        rows = self.db.query(f"SELECT wrapped, erased_at FROM {self.table} "
                             "WHERE owner_id = %s", (owner_id,))
        if rows and rows[0]["erased_at"] is not None:
            raise KeyErased(owner_id)
        return rows[0] if rows else None

    def _create(self, owner_id: str) -> None:
        with self.file.locked():
            self._take(self.file.read())
            if self._row(owner_id) is not None:
                return  # another process created it meanwhile
            kek = AESGCM.generate_key(256)
            self._keks.keks[owner_id] = kek
            self._write(self._keks)
            self.db.execute(
                f"INSERT INTO {self.table} (owner_id, wrapped, created_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (owner_id) DO NOTHING",
                (owner_id, wrap(kek, owner_id, AESGCM.generate_key(256)), _now()))

    def key(self, owner_id: str, create: bool = False) -> bytes:
        """The owner's data key; raises KeyErased if it was destroyed (or never made and
        ``create`` is false)."""
        with self._lock:
            row = self._row(owner_id)
            if row is None:
                if not create:
                    raise KeyErased(owner_id)
                self._create(owner_id)
                row = self._row(owner_id)
            if owner_id not in self._keks.keks and self.file.changed():
                self._take(self.file.read())  # made by another process since we read it
            kek = self._keks.keks.get(owner_id)
            if row is None or row["wrapped"] is None or kek is None:
                raise KeyErased(owner_id)  # its KEK is gone: erased
            try:
                return unwrap(kek, owner_id, row["wrapped"])
            except InvalidTag as exc:
                raise KeyErased(owner_id) from exc

    def _cipher(self, owner_id: str, create: bool = False) -> AESGCM:
        cipher = self._ciphers.get(owner_id)
        if cipher is None:
            cipher = AESGCM(self.key(owner_id, create=create))
            with self._lock:
                self._ciphers[owner_id] = cipher
        return cipher

    def encrypt(self, owner_id: str, plaintext: bytes, associated: bytes) -> bytes:
        """nonce (12 bytes) + ciphertext; ``associated`` binds it to its envelope."""
        nonce = os.urandom(12)
        return nonce + self._cipher(owner_id, create=True).encrypt(nonce, plaintext, associated)

    def decrypt(self, owner_id: str, sealed: bytes, associated: bytes) -> bytes:
        return self._cipher(owner_id).decrypt(sealed[:12], sealed[12:], associated)

    def live(self, owner_id: str) -> bool:
        """Whether the store holds a key row for the owner not marked erased (a restored
        backup holds those of athletes erased since, their KEK gone from the file)."""
        rows = self.db.query(f"SELECT erased_at FROM {self.table} WHERE owner_id = %s",
                             (owner_id,))
        return bool(rows) and rows[0]["erased_at"] is None

    def erase(self, owner_id: str) -> bool:
        """Destroy the key for good: its KEK leaves the key file (the old file overwritten),
        then the row is marked erased (it stays, to tell 'erased' from 'never existed').
        Returns whether the row was not marked erased yet."""
        with self._lock, self.file.locked():
            rows = self.db.query(f"SELECT erased_at FROM {self.table} WHERE owner_id = %s",
                                 (owner_id,))
            fresh = bool(rows) and rows[0]["erased_at"] is None
            keks = self.file.read()
            keks.keks.pop(owner_id, None)
            self._write(keks)
            self._take(keks)
            if owner_id not in self.erased:
                self.erased.append(owner_id)
            self._ciphers.pop(owner_id, None)
            self.db.execute(
                f"INSERT INTO {self.table} AS k (owner_id, key_b64, wrapped, created_at, "
                "erased_at) VALUES (%s, NULL, NULL, %s, %s) ON CONFLICT (owner_id) DO UPDATE "
                "SET key_b64 = NULL, wrapped = NULL, erased_at = excluded.erased_at",
                (owner_id, _now(), _now()),
            )
            return fresh
