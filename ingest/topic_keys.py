"""Opaque key ids: what the topics carry in place of an athlete id.

Each key owner (an athlete; a coach account's own aggregate) gets a random salt on first
use, and its key id is ``HMAC-SHA256(salt, owner id)``, cut to 128 bits.  The key id is the
Kafka record key (so an owner's records share a partition) and names, in the envelope, whose
key decrypts it.  Erasure deletes the owner's row (:func:`forget_athlete`): the salt is gone,
so the key id can neither be recomputed from a suspected athlete id nor looked up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading

from services.tables import ServiceTables, Tx

TABLE = "tl_topic_keys"
CACHED = 100_000


def create_topic_keys_table(db: ServiceTables) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(TABLE)} (owner_id TEXT PRIMARY KEY, "
               "salt_b64 TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE)")


def forget_athlete(tx: Tx, athlete_id: str) -> dict[str, int]:
    """Erasure: unlink the athlete from their key id; the rows deleted."""
    return {TABLE: tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE owner_id = %s",
                              (athlete_id,))}


def key_id_of(salt: bytes, owner_id: str) -> str:
    return hmac.new(salt, owner_id.encode(), hashlib.sha256).hexdigest()[:32]


class TopicKeys:
    """Key ids by owner (made on first use) and owners by key id, cached."""

    def __init__(self, db: ServiceTables) -> None:
        self.db = db
        self._by_owner: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()
        create_topic_keys_table(db)

    def key_id(self, owner_id: str) -> str:
        """The owner's key id, made (and stored) on first use."""
        with self._lock:
            found = self._by_owner.get(owner_id)
            if found is None:
                found = self._load(owner_id)
                if found is None:
                    salt = os.urandom(32)
                    self.db.execute(
                        f"INSERT INTO {self.db.name(TABLE)} (owner_id, salt_b64, key_id) "
                        "VALUES (%s, %s, %s) ON CONFLICT (owner_id) DO NOTHING",
                        (owner_id, base64.b64encode(salt).decode(), key_id_of(salt, owner_id)))
                    found = self._load(owner_id)  # another process may have won the race
                    assert found is not None
                if len(self._by_owner) >= CACHED:
                    self._by_owner.clear()
                self._by_owner[owner_id] = found
            return found

    def _load(self, owner_id: str) -> str | None:
        rows = self.db.query(f"SELECT key_id FROM {self.db.name(TABLE)} WHERE owner_id = %s",
                             (owner_id,))
        return str(rows[0]["key_id"]) if rows else None

    def owner_of(self, key_id: str) -> str | None:
        """Whose key id this is; None once they were erased (or if it was never ours).  A
        cached answer may outlive an erasure: the key ring, asked next, has the last word."""
        owner = self._by_key.get(key_id)
        if owner is None:
            rows = self.db.query(f"SELECT owner_id FROM {self.db.name(TABLE)} "
                                 "WHERE key_id = %s", (key_id,))
            if not rows:
                return None
            owner = self._by_key[key_id] = str(rows[0]["owner_id"])
            if len(self._by_key) > CACHED:
                self._by_key.clear()
        return owner
