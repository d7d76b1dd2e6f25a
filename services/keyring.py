"""Per-athlete data keys (AES-256-GCM), kept in our database.

Event payloads leave the store encrypted with their athlete's key, so destroying that key
(the right to erasure) makes every copy on the topic unreadable.  Keys are created on first
use; events without an athlete (coach accounts) use the key of their own aggregate.
"""

from __future__ import annotations

import base64
import os
import threading
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.tables import ServiceTables

TABLE = "tl_athlete_keys"


class KeyErased(LookupError):
    """The key was destroyed: the data it protected is gone for good."""


class KeyRing:
    def __init__(self, db: ServiceTables) -> None:
        self.db = db
        self._cache: dict[str, bytes] = {}
        self._ciphers: dict[str, AESGCM] = {}
        self._lock = threading.Lock()
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(TABLE)} (owner_id TEXT PRIMARY KEY, "
                   "key_b64 TEXT, created_at TEXT NOT NULL, erased_at TEXT)")

    def _load(self, owner_id: str) -> bytes | None:
        rows = self.db.query(f"SELECT key_b64, erased_at FROM {self.db.name(TABLE)} "
                             "WHERE owner_id = %s", (owner_id,))
        if not rows:
            return None
        if rows[0]["erased_at"] is not None:
            raise KeyErased(owner_id)
        return base64.b64decode(rows[0]["key_b64"])

    def key(self, owner_id: str, create: bool = False) -> bytes:
        with self._lock:
            if owner_id in self._cache:
                return self._cache[owner_id]
            key = self._load(owner_id)
            if key is None:
                if not create:
                    raise KeyErased(owner_id)
                self.db.execute(
                    f"INSERT INTO {self.db.name(TABLE)} (owner_id, key_b64, created_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT (owner_id) DO NOTHING",
                    (owner_id, base64.b64encode(AESGCM.generate_key(256)).decode(),
                     datetime.now(UTC).isoformat()),
                )
                key = self._load(owner_id)
                assert key is not None
            self._cache[owner_id] = key
            return key

    def _cipher(self, owner_id: str, create: bool = False) -> AESGCM:
        cipher = self._ciphers.get(owner_id)
        if cipher is None:
            cipher = self._ciphers[owner_id] = AESGCM(self.key(owner_id, create=create))
        return cipher

    def encrypt(self, owner_id: str, plaintext: bytes, associated: bytes) -> bytes:
        """nonce (12 bytes) + ciphertext; ``associated`` binds it to its envelope."""
        nonce = os.urandom(12)
        return nonce + self._cipher(owner_id, create=True).encrypt(nonce, plaintext, associated)

    def decrypt(self, owner_id: str, sealed: bytes, associated: bytes) -> bytes:
        return self._cipher(owner_id).decrypt(sealed[:12], sealed[12:], associated)

    def erase(self, owner_id: str) -> None:
        """Destroy the key for good (the row stays, to tell 'erased' from 'never existed')."""
        with self._lock:
            self._cache.pop(owner_id, None)
            self._ciphers.pop(owner_id, None)
            self.db.execute(
                f"INSERT INTO {self.db.name(TABLE)} AS k (owner_id, key_b64, created_at, "
                "erased_at) VALUES (%s, NULL, %s, %s) ON CONFLICT (owner_id) DO UPDATE "
                "SET key_b64 = NULL, erased_at = excluded.erased_at",
                (owner_id, datetime.now(UTC).isoformat(), datetime.now(UTC).isoformat()),
            )
