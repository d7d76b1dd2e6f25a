"""Bearer tokens: only their SHA-256 is stored; the token itself is shown once, at issue.

Tokens carry 256 bits of randomness, so a fast hash is enough (nothing to brute-force) and
lookup by hash needs no secret comparison; the admin token from configuration is compared
with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import uuid4

from services.tables import ServiceTables, Tx

Role = Literal["admin", "athlete", "coach"]
CACHE_SECONDS = 5.0
PREFIX = {"athlete": "tlk_", "coach": "tlc_", "admin": "tla_"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    role: Role
    principal_id: str | None  # athlete or coach id; None for the admin
    token_id: str


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    role: Role
    principal_id: str
    label: str | None
    created_at: str
    revoked_at: str | None


class TokenStore:
    def __init__(self, tables: ServiceTables, admin_token: str | None) -> None:
        self.tables = tables
        self.table = tables.name("tl_tokens")
        self._admin_hash = token_hash(admin_token) if admin_token else None
        self._cache: dict[str, tuple[Principal, float]] = {}
        tables.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
            "principal_id TEXT NOT NULL, label TEXT, created_at TEXT NOT NULL, revoked_at TEXT)"
        )
        tables.execute(
            f"CREATE INDEX IF NOT EXISTS tl_tokens_principal ON {self.table} (principal_id)"
        )

    def issue(self, role: Role, principal_id: str, label: str | None = None) -> tuple[str, str]:
        """Create a token; returns (token_id, token).  The token is not stored."""
        token = PREFIX[role] + secrets.token_urlsafe(32)
        token_id = str(uuid4())
        self.tables.execute(
            f"INSERT INTO {self.table} (token_hash, token_id, role, principal_id, label, "
            "created_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (token_hash(token), token_id, role, principal_id, label, datetime.now(UTC).isoformat()),
        )
        return token_id, token

    def reissue(self, role: Role, principal_id: str, label: str) -> tuple[str, str]:
        """Issue a token that replaces the principal's live tokens labelled ``label`` (a
        retried creation): they are revoked in the same transaction."""
        token = PREFIX[role] + secrets.token_urlsafe(32)
        token_id = str(uuid4())
        now = datetime.now(UTC).isoformat()
        with self.tables.transaction() as tx:
            replaced = tx.query(f"SELECT token_id FROM {self.table} WHERE principal_id = %s "
                                "AND label = %s AND revoked_at IS NULL", (principal_id, label))
            tx.execute(f"UPDATE {self.table} SET revoked_at = %s WHERE principal_id = %s "
                       "AND label = %s AND revoked_at IS NULL", (now, principal_id, label))
            tx.execute(f"INSERT INTO {self.table} (token_hash, token_id, role, principal_id, "
                       "label, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                       (token_hash(token), token_id, role, principal_id, label, now))
        gone = {r["token_id"] for r in replaced}
        for digest, (principal, _) in list(self._cache.items()):
            if principal.token_id in gone:
                self._cache.pop(digest, None)
        return token_id, token

    def cached(self, token: str) -> Principal | None:
        """The principal from the in-process cache (no database access), if fresh."""
        digest = token_hash(token)
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return Principal("admin", None, "admin")
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def authenticate(self, token: str) -> Principal | None:
        """Who holds ``token`` (None: unknown or revoked).  Valid tokens are cached for
        ``CACHE_SECONDS``: a revocation here takes effect at once, in other processes within
        that time."""
        principal = self.cached(token)
        if principal is not None:
            return principal
        digest = token_hash(token)
        rows = self.tables.query(
            f"SELECT token_id, role, principal_id FROM {self.table} "
            "WHERE token_hash = %s AND revoked_at IS NULL",
            (digest,),
        )
        if not rows:
            return None
        row = rows[0]
        principal = Principal(row["role"], row["principal_id"], row["token_id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (principal, time.monotonic() + CACHE_SECONDS)
        return principal

    def list_for(self, principal_id: str) -> list[TokenInfo]:
        rows = self.tables.query(
            f"SELECT token_id, role, principal_id, label, created_at, revoked_at "
            f"FROM {self.table} WHERE principal_id = %s ORDER BY created_at",
            (principal_id,),
        )
        return [TokenInfo(**row) for row in rows]

    def get(self, token_id: str) -> TokenInfo | None:
        rows = self.tables.query(
            f"SELECT token_id, role, principal_id, label, created_at, revoked_at "
            f"FROM {self.table} WHERE token_id = %s",
            (token_id,),
        )
        return TokenInfo(**rows[0]) if rows else None

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's tokens and their cached lookups (erasure)."""
        for digest, (principal, _) in list(self._cache.items()):
            if principal.principal_id == athlete_id:
                self._cache.pop(digest, None)
        return {"tl_tokens": tx.execute(f"DELETE FROM {self.table} WHERE principal_id = %s",
                                        (athlete_id,))}

    def revoke(self, token_id: str) -> bool:
        """Revoke a token; False when it was unknown or already revoked."""
        for digest, (principal, _) in list(self._cache.items()):
            if principal.token_id == token_id:
                self._cache.pop(digest, None)
        return (
            self.tables.execute(
                f"UPDATE {self.table} SET revoked_at = %s "
                "WHERE token_id = %s AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), token_id),
            )
            == 1
        )
