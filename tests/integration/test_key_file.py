"""Destroyed keys stay destroyed on disk (issue #12, point 3).

The data keys are stored only wrapped with a per-athlete KEK from the key file
(``keys/kek``); erasure rewrites that file without the athlete's KEK.  Before, the clear key
stayed in the PostgreSQL table file and WAL, the SQLite WAL, and every backup: it decrypted
all of the athlete's events after the erasure.
"""

from __future__ import annotations

import base64
import contextlib
import os
import stat
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.exceptions import InvalidTag
from support_cli import run_cli
from support_erasure import another_store
from support_keys import (
    assert_keys_wrapped,
    backup_key_rows,
    files_under,
    forms,
    key_rows,
    opens,
    pg_disk_bytes,
)
from support_workers import ROOT, worker_env

from services.backup import backup, restore
from services.config import Settings
from services.domain.base import Context, Source
from services.domain.errors import NotFound
from services.erasure import erase_athlete
from services.key_file import KeyFile, KeyFileError, master_key
from services.keyring import KeyErased, unwrap
from services.runtime import Runtime, open_runtime

MARKER = "IBEX-2290-private"
SESSION = {"exercise_id": "squat.back_squats", "reps": 5, "load": 100.0}


def athlete_with_history(rt: Runtime, name: str) -> tuple[str, list[Any]]:
    """An athlete with a session of three sets; returns (id, their stored events)."""
    ctx = Context(Source("admin"))
    athlete_id = str(rt.app.register_athlete(ctx, {"name": name}).id)
    session = rt.app.start_session(ctx, athlete_id, datetime(2026, 11, 20, 18, tzinfo=UTC),
                                   title=f"{name} {MARKER}")
    for i in range(3):
        rt.app.log_set(Context(Source("admin"), f"{name}-{i}"), str(session.id), SESSION)
    stored = [*rt.app.recorder.select_events(UUID(athlete_id)),
              *rt.app.recorder.select_events(session.id)]
    return athlete_id, stored


def test_an_erased_key_opens_nothing_on_disk_nor_in_an_older_backup(
    settings: Settings, tmp_path: Path,
) -> None:
    rt = open_runtime(settings)
    leaver, leaver_events = athlete_with_history(rt, "Lena")
    stayer, _ = athlete_with_history(rt, "Sam")
    data_key = rt.keys.key(leaver)
    kek = KeyFile(settings.data_dir).read().keks[leaver]
    assert all(opens(data_key, e) for e in leaver_events)
    backup(rt, tmp_path / "backup")  # taken before the erasure
    erase_athlete(rt, leaver)

    # the data key and its KEK are nowhere on disk: data dir, key file, backup, server files
    secrets = [*forms(data_key), *forms(kek)]
    on_disk = {**files_under(settings.data_dir), **files_under(tmp_path / "backup")}
    if rt.tables.is_postgres:
        on_disk[Path("<pg table file and WAL>")] = pg_disk_bytes(rt)
    for path, data in on_disk.items():
        assert not any(s in data for s in secrets), f"{path} holds the erased key"
    # an attacker's best try: every KEK left in the key file against every wrapped or clear
    # key in the live table and the older backup
    keks = list(KeyFile(settings.data_dir).read().keks.values())
    rows = key_rows(rt) + backup_key_rows(tmp_path / "backup")
    candidates = [base64.b64decode(r["key_b64"]) for r in rows if r.get("key_b64")]
    for row in rows:
        for candidate_kek in keks:
            if row.get("wrapped"):
                with contextlib.suppress(InvalidTag):
                    candidates.append(unwrap(candidate_kek, row["owner_id"], row["wrapped"]))
    assert candidates, "the other athletes' keys do open"
    assert not any(opens(key, e) for key in candidates for e in leaver_events)
    rt.close()

    # that backup still restores everyone else; the leaver stays unreadable
    with another_store(settings, tmp_path) as target:
        restore(tmp_path / "backup", target, ledgers=(settings.data_dir,))
        with closing(open_runtime(target)) as restored:
            assert restored.app.athlete(stayer).profile["name"] == "Sam"
            with pytest.raises(NotFound):
                restored.app.athlete(leaver)
            for stored in leaver_events:
                with pytest.raises(KeyErased):
                    restored.app.mapper.to_domain_event(stored)


def test_the_key_file_is_private_and_rewritten_on_erasure(settings: Settings) -> None:
    with closing(open_runtime(settings)) as rt:
        leaver, _ = athlete_with_history(rt, "Lena")
        key_file = KeyFile(settings.data_dir)
        before = key_file.read()
        old_copy = key_file.path.read_bytes()
        assert stat.S_IMODE(key_file.folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(key_file.path.stat().st_mode) == 0o600
        erase_athlete(rt, leaver)
        after = key_file.read()
        assert leaver in before.keks
        assert leaver not in after.keks
        assert after.generation > before.generation
        assert stat.S_IMODE(key_file.path.stat().st_mode) == 0o600
        assert sorted(p.name for p in key_file.folder.iterdir()) == ["kek", "kek.lock"]
    # an older copy of the key file put back (it still holds the leaver's KEK) is refused
    key_file.path.write_bytes(old_copy)
    with pytest.raises(KeyFileError, match="older copy"):
        open_runtime(settings)


def test_a_master_key_seals_the_key_file(settings: Settings) -> None:
    secret = base64.b64encode(os.urandom(32)).decode()
    sealed = replace(settings, master_key=secret)
    with closing(open_runtime(sealed)) as rt:
        athlete_id, _ = athlete_with_history(rt, "Mia")
        kek = KeyFile(settings.data_dir, master_key(secret)).read().keks[athlete_id]
    raw = (settings.data_dir / "keys" / "kek").read_bytes()
    assert b"keks" not in raw
    assert not any(s in raw for s in forms(kek))
    with pytest.raises(KeyFileError, match="TRAINLEDGER_MASTER_KEY"):
        KeyFile(settings.data_dir).read()  # without it
    with pytest.raises(KeyFileError, match="does not open"):
        open_runtime(replace(settings, master_key=base64.b64encode(os.urandom(32)).decode()))
    with closing(open_runtime(sealed)) as reopened:
        assert reopened.app.athlete(athlete_id).profile["name"] == "Mia"


def test_a_missing_or_wrong_key_file_is_refused_with_a_reason(settings: Settings) -> None:
    with closing(open_runtime(settings)) as rt:
        athlete_with_history(rt, "Noor")
    path = settings.data_dir / "keys" / "kek"
    bad = run_cli(replace(settings, master_key="not base64!"), "athletes", "list")
    assert bad.returncode == 2, bad.stderr
    assert "TRAINLEDGER_MASTER_KEY" in bad.stderr
    path.write_text("{not json")
    damaged = run_cli(settings, "athletes", "list")
    assert damaged.returncode == 2, damaged.stderr
    assert str(path) in damaged.stderr
    path.unlink()
    missing = run_cli(settings, "athletes", "list")
    assert missing.returncode == 2, missing.stderr
    assert str(path) in missing.stderr
    assert "missing" in missing.stderr
    for result in (bad, damaged, missing):
        assert "Traceback" not in result.stderr


def old_shape(rt: Runtime) -> None:
    """Rewrite the key table as earlier versions kept it: clear keys, no ``wrapped``."""
    db = rt.tables
    rows = [(r["owner_id"], base64.b64encode(rt.keys.key(r["owner_id"])).decode()
             if r["erased_at"] is None else None, r["created_at"], r["erased_at"])
            for r in key_rows(rt)]
    with db.transaction() as tx:
        tx.execute(f"DROP TABLE {tx.name('tl_athlete_keys')}")
        tx.execute(f"DROP TABLE {tx.name('tl_key_file')}")
        tx.execute(f"CREATE TABLE {tx.name('tl_athlete_keys')} (owner_id TEXT PRIMARY KEY, "
                   "key_b64 TEXT, created_at TEXT NOT NULL, erased_at TEXT)")
        tx.executemany(f"INSERT INTO {tx.name('tl_athlete_keys')} VALUES (%s, %s, %s, %s)",
                       rows)


def test_an_old_store_with_clear_keys_is_wrapped_on_first_start(
    settings: Settings,
) -> None:
    rt = open_runtime(settings)
    athlete_id, events = athlete_with_history(rt, "Olga")
    gone, _ = athlete_with_history(rt, "Gus")
    erase_athlete(rt, gone)
    data_key = rt.keys.key(athlete_id)
    old_shape(rt)
    rt.close()
    (settings.data_dir / "keys" / "kek").unlink()  # earlier versions had no key file
    (settings.data_dir / "keys" / "kek.lock").unlink()
    (settings.data_dir / "keys").rmdir()

    with closing(open_runtime(settings)) as upgraded:
        assert upgraded.keys.migrated == 1
        assert upgraded.app.athlete(athlete_id).profile["name"] == "Olga"
        assert all(opens(upgraded.keys.key(athlete_id), e) for e in events)
        with pytest.raises(NotFound):
            upgraded.app.athlete(gone)
        assert_keys_wrapped(upgraded, athlete_id, erased=gone)
        if not upgraded.tables.is_postgres:  # the clear key is gone from the file and WAL
            store = settings.data_dir / "trainledger.sqlite3"
            for path in (store, store.with_name(store.name + "-wal")):
                assert not path.exists() or not any(
                    s in path.read_bytes() for s in forms(data_key)), path
    with closing(open_runtime(settings)) as again:  # a second start changes nothing
        assert again.keys.migrated == 0
        assert again.app.athlete(athlete_id).profile["name"] == "Olga"


def test_a_backup_from_before_the_key_file_restores_with_wrapped_keys(
    settings: Settings, tmp_path: Path,
) -> None:
    rt = open_runtime(settings)
    stayer, events = athlete_with_history(rt, "Pia")
    leaver, _ = athlete_with_history(rt, "Gus")
    old_shape(rt)  # the store as an earlier version kept it: its backup holds clear keys
    backup(rt, tmp_path / "backup")
    rt.close()
    rt = open_runtime(settings)  # upgraded; then the leaver goes
    erase_athlete(rt, leaver)
    rt.close()

    with another_store(settings, tmp_path) as target:
        report = restore(tmp_path / "backup", target, ledgers=(settings.data_dir,))
        assert report.erased_again == 1
        with closing(open_runtime(target)) as restored:
            assert restored.app.athlete(stayer).profile["name"] == "Pia"
            assert all(opens(restored.keys.key(stayer), e) for e in events)
            with pytest.raises(NotFound):
                restored.app.athlete(leaver)
            assert_keys_wrapped(restored, stayer)


REGISTER = """
import sys
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import open_runtime
rt = open_runtime(Settings.from_env())
for i in range(int(sys.argv[1])):
    athlete = rt.app.register_athlete(Context(Source("admin")), {"name": f"{sys.argv[2]}-{i}"})
    print(athlete.id, flush=True)
rt.close()
"""


def test_processes_creating_keys_at_once_lose_none(settings: Settings) -> None:
    """Each new key adds a KEK to the shared key file: writers in several processes at once
    (a lock file) must not drop each other's KEKs, or those athletes would read as erased."""
    open_runtime(settings).close()
    procs = [subprocess.Popen([sys.executable, "-c", REGISTER, "15", f"p{n}"], cwd=ROOT,
                              env=worker_env(settings), stdout=subprocess.PIPE, text=True)
             for n in range(3)]
    ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        ids += out.split()
    assert len(ids) == 45
    with closing(open_runtime(settings)) as rt:
        assert sorted(rt.app.athlete(i).profile["name"] for i in ids) == sorted(
            f"p{n}-{i}" for n in range(3) for i in range(15))
        assert set(ids) <= set(KeyFile(settings.data_dir).read().keks)
