"""Backup and restore of everything: the event store, the service tables (views, tokens, keys,
imports), stored device files and the quarantine.

A backup is a directory:

- ``manifest.json``: store kind, when, events, tables with their row counts, and each view's
  content hash at backup time;
- SQLite: ``trainledger.sqlite3``, an online copy made with SQLite's backup API (consistent
  while the service runs);
- PostgreSQL: ``tables/<table>.copy``, every table of the schema in COPY text format, read in
  one REPEATABLE READ transaction (one consistent snapshot);
- ``files/``: the data directory's ``artifacts/`` and ``quarantine/``, and the erasure ledger.

The athletes' keys are in the store only wrapped; the key file that opens them
(``keys/kek``, :mod:`services.key_file`) is never part of a backup.  A restore uses the key
file current at restore time: athletes erased since the backup have no KEK in it and stay
unreadable, everyone else restores.  Never keep an older copy of the key file.

Restore goes into an empty store (a fresh data directory or schema), then erases again every
athlete named in the erasure ledgers (the backup's and the target's): an athlete erased after
the backup was taken stays erased (:mod:`services.erasure`).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from projections.read_model import LAYOUT_TABLE
from services import slot_backfill
from services.config import Settings, postgres_env
from services.erasure import LEDGER, ErasureIncomplete, erased_ids, reapply
from services.key_file import FOLDER, NAME
from services.private_files import DIR_MODE, tighten
from services.runtime import Runtime, open_runtime

FILES = ("artifacts", "quarantine")
SQLITE_NAME = "trainledger.sqlite3"


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason."""


@dataclass
class RestoreReport:
    events: int
    tables: dict[str, int]
    erased_again: int


def _pg_connect(settings: Settings) -> psycopg.Connection[Any]:
    env = postgres_env(settings.database_url or "")
    return psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                           port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                           password=env["POSTGRES_PASSWORD"] or None)


def _pg_tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                        "table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                        (schema,)).fetchall()
    return [r[0] for r in rows]


def backup(rt: Runtime, dest: Path) -> dict[str, Any]:
    """Write a backup of ``rt``'s store and files into ``dest`` (must not exist)."""
    if dest.exists():
        raise BackupError(f"{dest}: already exists; back up into a new directory")
    dest.mkdir(mode=DIR_MODE, parents=True)
    manifest: dict[str, Any] = {
        "format": 1, "store": rt.settings.backend,
        "created_at": datetime.now(UTC).isoformat(),
        "events": int(rt.app.recorder.max_notification_id() or 0),
        "view_hashes": {name: view.content_hash(rt.tables) for name, view in rt.views.items()},
    }
    if rt.tables.is_postgres:
        manifest["tables"] = _backup_postgres(rt, dest / "tables")
    else:
        source = sqlite3.connect(rt.settings.data_dir / SQLITE_NAME)
        target = sqlite3.connect(dest / SQLITE_NAME)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    files = dest / "files"
    for name in FILES:
        if (rt.settings.data_dir / name).is_dir():
            shutil.copytree(rt.settings.data_dir / name, files / name)
    ledger = rt.settings.data_dir / LEDGER
    if ledger.exists():
        files.mkdir(exist_ok=True)
        shutil.copy2(ledger, files / LEDGER)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    tighten(dest)  # keys and ciphertext: the owner's only, whatever the copies' modes were
    return manifest


def _backup_postgres(rt: Runtime, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True)
    counts = {}
    schema = rt.tables.schema
    with _pg_connect(rt.settings) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            for table in _pg_tables(conn, schema):
                rows = 0
                with (folder / f"{table}.copy").open("wb") as out, conn.cursor().copy(
                        sql.SQL("COPY {}.{} TO STDOUT").format(
                            sql.Identifier(schema), sql.Identifier(table))) as copy:
                    for data in copy:
                        out.write(data)
                        rows += bytes(data).count(b"\n")
                counts[table] = rows
    return counts


def restore(src: Path, settings: Settings, ledgers: tuple[Path, ...] = ()) -> RestoreReport:
    """Restore the backup in ``src`` into the (empty) store ``settings`` names, then erase
    again the athletes named in the backup's ledger, the target data directory's and
    ``ledgers`` (data directories holding an ``erasures.log``, e.g. the lost store's).

    The keys open with the current key file: the target data directory's, else the first
    of ``ledgers`` that has one (it is copied in)."""
    manifest_path = src / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{src}: not a trainledger backup (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("store") != settings.backend:
        raise BackupError(f"{src}: a {manifest.get('store')} backup cannot be restored into "
                          f"a {settings.backend} store")
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.backend == "sqlite" and (data_dir / SQLITE_NAME).exists():
        raise BackupError(f"{data_dir / SQLITE_NAME}: exists; restore into an empty "
                          "data directory")
    _take_key_file(data_dir, ledgers)
    if settings.backend == "sqlite":
        shutil.copy2(src / SQLITE_NAME, data_dir / SQLITE_NAME)
    for name in FILES:
        if (src / "files" / name).is_dir():
            shutil.copytree(src / "files" / name, data_dir / name, dirs_exist_ok=True)
    ledger = sorted({athlete for folder in (src / "files", data_dir, *ledgers)
                     for athlete in erased_ids(folder)})
    rt = open_runtime(settings, finish_erasures=False)  # reapply() does, after the rows
    try:
        tables = _restore_postgres(rt, src / "tables") if settings.backend == "postgres" else {}
        rt.keys.upgrade()  # a backup from before the key file holds clear keys
        if ledger:  # pending until reapply() has finished each (else: the next start does)
            with (data_dir / LEDGER).open("w") as f:
                for athlete_id in ledger:
                    f.write(json.dumps({"athlete_id": athlete_id, "state": "started"}) + "\n")
        try:
            again = reapply(rt, ledger)
        except ErasureIncomplete as exc:
            raise BackupError(f"{data_dir}: restored, but {exc}") from exc
        events = int(rt.app.recorder.max_notification_id() or 0)
    finally:
        rt.close()
    return RestoreReport(events, tables, again)


def _take_key_file(data_dir: Path, ledgers: tuple[Path, ...]) -> None:
    """The current key file into the target data directory (0700 folder, 0600 file)."""
    target = data_dir / FOLDER / NAME
    if target.exists():
        return
    source = next((d / FOLDER / NAME for d in ledgers if (d / FOLDER / NAME).exists()), None)
    if source is None:
        raise BackupError(f"{target}: no key file; restore needs the current one: pass the "
                          "store's data directory (restore --erasures DIR), or copy its "
                          f"{FOLDER}/{NAME} into the target first")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o600)


def _columns(conn: psycopg.Connection[Any], schema: str, table: str, path: Path) -> list[str]:
    """The table's columns the backup has: a backup made before a column was added (e.g.
    ``tl_athlete_keys.wrapped``) holds the first ones only."""
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
        "table_name = %s ORDER BY ordinal_position", (schema, table)).fetchall()]
    with path.open("rb") as f:
        first = f.readline()
    return columns[:first.count(b"\t") + 1] if first else columns


#: tables a new store fills itself on first start (replaced by the backup's rows)
SEEDED = frozenset({LAYOUT_TABLE, slot_backfill.TABLE})


def _restore_postgres(rt: Runtime, folder: Path) -> dict[str, int]:
    schema = rt.tables.schema
    counts = {}
    with _pg_connect(rt.settings) as conn, conn.transaction():
        present = set(_pg_tables(conn, schema))
        for table in present - SEEDED:
            if conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(
                    sql.Identifier(schema), sql.Identifier(table))).fetchone() == (True,):
                raise BackupError(f"schema {schema}: table {table} is not empty; restore "
                                  "into an empty schema")
        for path in sorted(folder.glob("*.copy")):
            table = path.stem
            if table not in present:  # a table the restored version does not create itself
                raise BackupError(f"{path}: no table {table} in {schema} to restore into")
            conn.execute(sql.SQL("DELETE FROM {}.{}").format(sql.Identifier(schema),
                                                             sql.Identifier(table)))
            with conn.cursor().copy(sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
                    sql.Identifier(schema), sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, _columns(conn, schema, table,
                                                                    path))))) as copy:
                copy.write(path.read_bytes())
            counts[table] = path.read_bytes().count(b"\n")
        if not (folder / f"{slot_backfill.TABLE}.copy").exists():  # an earlier version's
            conn.execute(sql.SQL("DELETE FROM {}.{}").format(  # events: upgrade on next start
                sql.Identifier(schema), sql.Identifier(slot_backfill.TABLE)))
        # serial columns (the store's notification ids) continue after the restored rows
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE "
                "table_schema = %s AND column_default LIKE 'nextval%%'", (schema,)).fetchall():
            conn.execute(sql.SQL(
                "SELECT setval(pg_get_serial_sequence({}, {}), "
                "COALESCE((SELECT MAX({}) FROM {}.{}), 0) + 1, false)").format(
                sql.Literal(f'"{schema}".{table}'), sql.Literal(column), sql.Identifier(column),
                sql.Identifier(schema), sql.Identifier(table)))
    return counts
