"""Helpers for the key-file tests: what an attacker finds on disk, and whether it opens an
athlete's stored events."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from conftest import PG_URL
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.keyed_mapper import PREFIX
from services.runtime import Runtime

KEY_TABLE = "tl_athlete_keys"


def forms(secret: bytes) -> list[bytes]:
    """A key as it could sit in a file: raw bytes or base64."""
    return [secret, base64.b64encode(secret)]


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def pg_disk_bytes(rt: Runtime, wal_files: int = 4) -> bytes:
    """After a CHECKPOINT: the key table's data file and the newest WAL segments, as the
    server keeps them (``pg_read_binary_file``: needs a superuser)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        path = conn.execute("SELECT pg_relation_filepath(%s)",
                            (f'"{rt.tables.schema}".{KEY_TABLE}',)).fetchone()
        assert path is not None
        assert path[0]
        out = [conn.execute("SELECT pg_read_binary_file(%s)", (path[0],)).fetchone()[0]]
        names = [r[0] for r in conn.execute(
            "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' "
            "ORDER BY modification DESC LIMIT %s", (wal_files,)).fetchall()]
        for name in names:
            out.append(conn.execute("SELECT pg_read_binary_file(%s)",
                                    (f"pg_wal/{name}",)).fetchone()[0])
    return b"".join(bytes(b) for b in out)


def key_rows(rt: Runtime) -> list[dict[str, Any]]:
    return rt.tables.query(f"SELECT * FROM {rt.tables.name(KEY_TABLE)}")


def backup_key_rows(backup_dir: Path) -> list[dict[str, Any]]:
    """The key table's rows as a backup holds them (SQLite file or COPY text)."""
    copy = backup_dir / "tables" / f"{KEY_TABLE}.copy"
    if copy.exists():
        columns = ("owner_id", "key_b64", "created_at", "erased_at", "wrapped")
        rows = []
        for line in copy.read_text().splitlines():
            values = [None if v == r"\N" else v for v in line.split("\t")]
            rows.append(dict(zip(columns, values, strict=False)))
        return rows
    conn = sqlite3.connect(backup_dir / "trainledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {KEY_TABLE}")]
    finally:
        conn.close()


def opens(key: bytes, stored: Any) -> bool:
    """Whether ``key`` decrypts this stored event (``services.keyed_mapper``'s layout)."""
    state: bytes = stored.state
    if not state.startswith(PREFIX):
        return True
    sealed = state[state.index(b":", len(PREFIX)) + 1:]
    associated = f"{stored.originator_id}/{stored.originator_version}".encode()
    try:
        AESGCM(key).decrypt(sealed[:12], sealed[12:], associated)
    except (InvalidTag, ValueError):
        return False
    return True


def assert_keys_wrapped(rt: Runtime, kept: str, erased: str | None = None) -> None:
    """No clear key left in the key table; ``kept``'s key wrapped, ``erased``'s gone."""
    rows = {r["owner_id"]: r for r in key_rows(rt)}
    assert all(r["key_b64"] is None for r in rows.values())
    assert rows[kept]["wrapped"]
    if erased is not None:
        assert rows[erased]["wrapped"] is None
