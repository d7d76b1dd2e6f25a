"""Bearer tokens: only their SHA-256 is stored; the token itself is shown once, at issue.

Tokens carry 256 bits of randomness, so a fast hash is enough (nothing to brute-force) and
lookup by hash needs no secret comparison; the admin token from configuration is compared
with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import uuid4

from services.tables import ServiceTables, Tx

Role = Literal["admin", "athlete", "coach"]
CACHE_SECONDS = 5.0
#: a token's last use is written at most this often (per token and process)
USE_RECORD_SECONDS = 60.0
#: how long a one-time sign-in link can be opened
SIGN_IN_LINK_MINUTES = 15
DEVICE_LABEL = "device (sign-in link)"
#: ``kind`` of a device's own token (from a sign-in link or an exchanged pasted token)
DEVICE = "device"
PREFIX = {"athlete": "tlk_", "coach": "tlc_", "admin": "tla_"}


#: (marker in a User-Agent, name), first match wins: Edge and Chrome also say "Safari"
BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
           ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux"))


def device_label(user_agent: str | None, how: str) -> str:
    """A short name for a device from its User-Agent: ``Chrome on Android (how)``."""
    ua = user_agent or ""
    browser = next((name for mark, name in BROWSERS if mark in ua), "a browser")
    system = next((name for mark, name in SYSTEMS if mark in ua), None)
    return f"{browser} on {system} ({how})" if system else f"{browser} ({how})"


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
    last_used_at: str | None = None


class TokenStore:
    def __init__(self, tables: ServiceTables, admin_token: str | None) -> None:
        self.tables = tables
        self.table = tables.name("tl_tokens")
        self._admin_hash = token_hash(admin_token) if admin_token else None
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._recorded: dict[str, float] = {}  # token id -> when its use was last written
        self.use_record_seconds = USE_RECORD_SECONDS
        tables.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
            "principal_id TEXT NOT NULL, label TEXT, created_at TEXT NOT NULL, revoked_at TEXT)"
        )
        tables.execute(
            f"CREATE INDEX IF NOT EXISTS tl_tokens_principal ON {self.table} (principal_id)"
        )
        # tables added later: stores created before them get them on their first start
        self.uses = tables.name("tl_token_uses")
        tables.execute(f"CREATE TABLE IF NOT EXISTS {self.uses} ("
                       "token_id TEXT PRIMARY KEY, last_used_at TEXT NOT NULL)")
        self._add_kind_column()
        self.links = tables.name("tl_sign_in_links")
        tables.execute(
            f"CREATE TABLE IF NOT EXISTS {self.links} (secret_hash TEXT PRIMARY KEY, "
            "athlete_id TEXT NOT NULL, issued_by TEXT NOT NULL, created_at TEXT NOT NULL, "
            "expires_at TEXT NOT NULL, used_at TEXT)")

    def _add_kind_column(self) -> None:
        """Stores from before ``kind``: add it, and mark the device tokens they hold by the
        labels :func:`device_label` gave them."""
        if "kind" in self.tables.columns("tl_tokens"):
            return
        exists = "IF NOT EXISTS " if self.tables.is_postgres else ""  # two processes starting
        with self.tables.transaction() as tx:
            tx.execute(f"ALTER TABLE {self.table} ADD COLUMN {exists}kind TEXT")
            tx.execute(f"UPDATE {self.table} SET kind = %s WHERE label LIKE %s OR label LIKE %s",
                       (DEVICE, "%(sign-in link)", "%(signed in with a token)"))

    def issue(self, role: Role, principal_id: str, label: str | None = None) -> tuple[str, str]:
        """Create a token; returns (token_id, token).  The token is not stored."""
        token = PREFIX[role] + secrets.token_urlsafe(32)
        token_id = str(uuid4())
        with self.tables.transaction() as tx:
            self._insert(tx, token, token_id, role, principal_id, label, None)
        return token_id, token

    def _insert(self, tx: Tx, token: str, token_id: str, role: Role, principal_id: str,
                label: str | None, kind: str | None) -> None:
        tx.execute(
            f"INSERT INTO {self.table} (token_hash, token_id, role, principal_id, label, "
            "created_at, kind) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (token_hash(token), token_id, role, principal_id, label,
             datetime.now(UTC).isoformat(), kind),
        )

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
        if row["role"] == "admin" and row["principal_id"] != self._admin_device_owner():
            return None  # a device token of an earlier admin token: gone with it
        principal = Principal(row["role"], row["principal_id"] if row["role"] != "admin"
                              else None, row["token_id"])
        self._record_use(row["token_id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (principal, time.monotonic() + CACHE_SECONDS)
        return principal

    def _record_use(self, token_id: str) -> None:
        """Write the token's last use, unless this process did within a minute."""
        now = time.monotonic()
        if now - self._recorded.get(token_id, -math.inf) < self.use_record_seconds:
            return
        self.tables.execute(
            f"INSERT INTO {self.uses} (token_id, last_used_at) VALUES (%s, %s) "
            "ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at",
            (token_id, datetime.now(UTC).isoformat()))
        if len(self._recorded) > 10_000:
            self._recorded.clear()
        self._recorded[token_id] = now

    def _admin_device_owner(self) -> str | None:
        """The ``principal_id`` of the admin's device tokens: tied to the configured admin
        token, so that replacing it also ends the devices signed in with it."""
        return f"admin:{self._admin_hash[:16]}" if self._admin_hash else None

    def owner_of(self, principal: Principal) -> str | None:
        """The ``principal_id`` the principal's tokens are stored under."""
        return self._admin_device_owner() if principal.role == "admin" else principal.principal_id

    def issue_device(self, principal: Principal, label: str,
                     replaces: str | None = None) -> tuple[str, str, str | None]:
        """A device token for whoever holds ``principal``'s token (a pasted token is
        exchanged for one, so that the browser never keeps the token itself), as (token_id,
        token, replaced).  ``replaces``: the device token the browser held until now (it signs
        in again), revoked in the same transaction if it is a live device token of the same
        owner; ``replaced`` is its id, None when there was none to revoke."""
        owner = self.owner_of(principal)
        if owner is None:
            raise ValueError("no principal to issue a device token for")
        token = PREFIX[principal.role] + secrets.token_urlsafe(32)
        token_id, replaced = str(uuid4()), None
        with self.tables.transaction() as tx:
            if replaces:
                rows = tx.query(f"SELECT token_id FROM {self.table} WHERE token_hash = %s "
                                "AND principal_id = %s AND role = %s AND kind = %s "
                                "AND revoked_at IS NULL",
                                (token_hash(replaces), owner, principal.role, DEVICE))
                if rows:
                    replaced = str(rows[0]["token_id"])
                    tx.execute(f"UPDATE {self.table} SET revoked_at = %s WHERE token_id = %s",
                               (datetime.now(UTC).isoformat(), replaced))
            self._insert(tx, token, token_id, principal.role, owner, label, DEVICE)
        if replaced is not None:
            self._forget_cached(replaced)
        return token_id, token, replaced

    def list_for(self, principal_id: str) -> list[TokenInfo]:
        rows = self.tables.query(
            f"SELECT t.token_id, role, principal_id, label, created_at, revoked_at, "
            f"last_used_at FROM {self.table} t LEFT JOIN {self.uses} u "
            "ON u.token_id = t.token_id WHERE principal_id = %s ORDER BY created_at",
            (principal_id,),
        )
        return [TokenInfo(**row) for row in rows]

    def issue_sign_in_link(self, athlete_id: str, issued_by: str) -> tuple[str, datetime]:
        """A one-time secret that signs a device in as the athlete; returns it (only its
        hash is stored) and when it expires."""
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + timedelta(minutes=SIGN_IN_LINK_MINUTES)
        self.tables.execute(
            f"INSERT INTO {self.links} (secret_hash, athlete_id, issued_by, created_at, "
            "expires_at) VALUES (%s, %s, %s, %s, %s)",
            (token_hash(secret), athlete_id, issued_by, now.isoformat(), expires.isoformat()))
        return secret, expires

    def redeem_sign_in_link(self, secret: str,
                            label: str = DEVICE_LABEL) -> tuple[str, str, str] | None:
        """Use a sign-in link once: a device token of its own for its athlete, as
        (athlete_id, token_id, token); None when unknown, used or expired."""
        digest, now = token_hash(secret), datetime.now(UTC).isoformat()
        token = PREFIX["athlete"] + secrets.token_urlsafe(32)
        token_id = str(uuid4())
        with self.tables.transaction() as tx:
            rows = tx.query(f"SELECT athlete_id FROM {self.links} WHERE secret_hash = %s "
                            "AND used_at IS NULL AND expires_at > %s", (digest, now))
            if not rows or tx.execute(f"UPDATE {self.links} SET used_at = %s WHERE "
                                      "secret_hash = %s AND used_at IS NULL",
                                      (now, digest)) != 1:
                return None
            athlete_id = str(rows[0]["athlete_id"])
            self._insert(tx, token, token_id, "athlete", athlete_id, label, DEVICE)
        return athlete_id, token_id, token

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
        tx.execute(f"DELETE FROM {self.uses} WHERE token_id IN (SELECT token_id FROM "
                   f"{self.table} WHERE principal_id = %s)", (athlete_id,))
        links = tx.execute(f"DELETE FROM {self.links} WHERE athlete_id = %s", (athlete_id,))
        return {"tl_tokens": tx.execute(f"DELETE FROM {self.table} WHERE principal_id = %s",
                                        (athlete_id,)), "tl_sign_in_links": links}

    def _forget_cached(self, token_id: str) -> None:
        for digest, (principal, _) in list(self._cache.items()):
            if principal.token_id == token_id:
                self._cache.pop(digest, None)

    def revoke(self, token_id: str) -> bool:
        """Revoke a token; False when it was unknown or already revoked."""
        self._forget_cached(token_id)
        return (
            self.tables.execute(
                f"UPDATE {self.table} SET revoked_at = %s "
                "WHERE token_id = %s AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), token_id),
            )
            == 1
        )
