"""Whole-archive import (``trainledger import EXPORT.zip``): a Garmin Connect export and a
Strava bulk export, built in the test from our own FIT fixtures, go through the import path
of every file (request table, content hash, activity identity), so the same run in both is
one session; hostile entries are refused by name, nothing is written outside the store; the
storage quota holds; a run killed mid-way and started again imports each activity once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from support_archives import (
    garmin_export,
    hostile_export,
    other_bytes,
    runs,
    statuses,
    strava_export,
)
from support_files import cli_command, run_cli

from ingest.fit.batch import import_archive
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime

CLI = Source("admin", principal_id="test")


def _athlete(rt: Runtime, name: str) -> str:
    return str(rt.app.register_athlete(Context(Source("admin")), {"name": name}).id)


def _sessions(rt: Runtime, athlete_id: str) -> int:
    return len(rt.directory.list("session", athlete_id, limit=10_000))


def test_garmin_then_strava_export_gives_each_activity_one_session(
        runtime: Runtime, tmp_path: Path) -> None:
    athlete_id = _athlete(runtime, "Archive")
    fits = runs(50)
    garmin = tmp_path / "garmin.zip"
    garmin.write_bytes(garmin_export(fits))
    results = import_archive(runtime, CLI, athlete_id, garmin)
    assert statuses(results) == {"imported": 50}, [r for r in results
                                                    if r["status"] != "imported"][:3]
    assert all(r["file"].startswith("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part")
               for r in results)
    assert _sessions(runtime, athlete_id) == 50

    # Strava's copies of ten of those runs are other bytes (no hash match), plus five new runs
    strava = tmp_path / "strava.zip"
    strava.write_bytes(strava_export([other_bytes(f) for f in fits[:10]]
                                     + runs(5, serial=3_900_000_777)))
    results = import_archive(runtime, CLI, athlete_id, strava)
    assert statuses(results) == {"duplicate": 10, "imported": 5, "skipped": 3}
    by_file = {r["file"]: r for r in results}
    assert by_file["activities/5000.fit.gz"]["status"] == "duplicate"
    assert "activities/5002.fit" in by_file  # plain .fit beside .fit.gz
    assert "GPX/TCX" in str(by_file["activities/8000.tcx.gz"]["reason"])
    assert _sessions(runtime, athlete_id) == 55

    # the same archive again: every file was decided before, and says so
    again = import_archive(runtime, CLI, athlete_id, strava)
    assert statuses(again) == {"skipped": 18}
    assert "done by an earlier archive import (imported, import " in str(
        {r["file"]: r for r in again}["activities/5010.fit.gz"]["reason"])
    assert _sessions(runtime, athlete_id) == 55


def test_the_cli_refuses_hostile_entries_by_name_and_writes_nothing_outside(
        settings: Settings, tmp_path: Path) -> None:
    added = run_cli(settings, "athletes", "add", "Hostile")
    assert added.returncode == 0, added.stderr
    work = tmp_path / "cwd" / "deeper"
    work.mkdir(parents=True)
    archive = work / "export.zip"
    archive.write_bytes(hostile_export(runs(1)[0], bomb_bytes=4_000_000))
    argv, env = cli_command(settings, "import", str(archive),
                            TRAINLEDGER_MAX_FIT_FILE="1000000")
    done = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    for line in ("../escape.fit: a path climbing out of the archive (..), refused",
                 "activities/../../escape2.fit: a path climbing out of the archive (..), refused",
                 "/etc/absolute.fit: an absolute path, refused",
                 "activities/link.fit: a symbolic link, refused",
                 "activities/bomb.fit: 4000000 bytes decompressed, over "
                 "TRAINLEDGER_MAX_FIT_FILE (1000000 bytes)",
                 "activities/bomb.fit.gz: decompresses to over TRAINLEDGER_MAX_FIT_FILE "
                 "(1000000 bytes)"):
        assert f"rejected  {line}" in out, out
    assert "rejected  activities/liar.fit: unreadable entry (Bad CRC-32" in out
    assert "created   session" in out
    assert "from activities/good.fit" in out
    assert "imported: 1  rejected: 7" in out
    # the CLI ran in cwd/deeper: an extracted ../ entry would land in cwd or above
    assert sorted(p.name for p in (tmp_path / "cwd").rglob("*")) == ["deeper", "export.zip"]
    assert not [p for p in tmp_path.rglob("*")
                if p.name.endswith(("escape.fit", "escape2.fit", "absolute.fit", "link.fit"))]
    assert "\r" not in done.stderr  # progress on a terminal only


def test_progress_shows_on_a_terminal(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "store", admin_token="tla_progress")
    assert run_cli(settings, "athletes", "add", "Tty").returncode == 0
    archive = tmp_path / "strava.zip"
    archive.write_bytes(strava_export(runs(3), gpx=1, tcx=0))
    argv, env = cli_command(settings, "import", str(archive))
    leader, follower = os.openpty()
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=follower) as done:
        os.close(follower)
        out, _ = done.communicate(timeout=120)
        shown = b""
        with suppress(OSError):  # EIO once the process is gone and the pty drained
            while chunk := os.read(leader, 4096):
                shown += chunk
    os.close(leader)
    assert done.returncode == 0, out
    assert b"\r     4 entries  skipped   activities/7000.gpx" in shown, shown
    assert b"imported: 3  skipped: 1" in out


def test_not_a_zip_is_named_with_a_clear_reason(settings: Settings, tmp_path: Path) -> None:
    assert run_cli(settings, "athletes", "add", "Nozip").returncode == 0
    fake = tmp_path / "export.zip"
    fake.write_bytes(b"PK but not really a zip")
    done = run_cli(settings, "import", str(fake))
    assert done.returncode == 1
    assert f"rejected  {fake}: not a readable zip archive" in done.stdout
    assert "Traceback" not in done.stderr


def test_archive_files_count_against_the_quota(settings: Settings, tmp_path: Path) -> None:
    fits = runs(5)
    rt = open_runtime(replace(settings, quota_bytes=2 * len(fits[0]) + 100))
    try:
        athlete_id = _athlete(rt, "Quota")
        archive = tmp_path / "garmin.zip"
        archive.write_bytes(garmin_export(fits, parts=1))
        results = import_archive(rt, CLI, athlete_id, archive)
        assert statuses(results) == {"imported": 2, "rejected": 3}
        assert "storage quota of" in str(results[-1]["reason"])
        assert str(results[-1]["reason"]).startswith(str(results[-1]["file"]))
        assert _sessions(rt, athlete_id) == 2
    finally:
        rt.close()


def _decided(rt: Runtime) -> int:
    rows = rt.imports.db.query(f"SELECT COUNT(*) AS n FROM {rt.imports.table} "
                               "WHERE status <> 'pending'")
    return int(rows[0]["n"])


FILES = 100


def test_an_import_killed_mid_way_and_run_again_imports_each_activity_once(
        settings: Settings, tmp_path: Path) -> None:
    fits = runs(FILES)  # more than a group (64 files): a commit comes mid-way
    archive = tmp_path / "garmin.zip"
    archive.write_bytes(garmin_export(fits))
    rt = open_runtime(settings)
    try:
        athlete_id = _athlete(rt, "Killed")
        argv, env = cli_command(settings, "import", str(archive), "--json")
        with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as first:
            deadline = time.monotonic() + 60
            while _decided(rt) < 5 and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.communicate()
        assert first.returncode == -signal.SIGKILL
        done_before = _decided(rt)
        assert 5 <= done_before < FILES, done_before  # killed mid-way

        again = run_cli(settings, "import", str(archive), "--json")
        assert again.returncode == 0, again.stderr
        results = json.loads(again.stdout)
        counts = statuses(results)
        assert counts["skipped"] >= done_before
        assert counts["skipped"] + counts.get("imported", 0) \
            + counts.get("duplicate", 0) == FILES, counts
        assert all("done by an earlier archive import" in r["reason"]
                   for r in results if r["status"] == "skipped")
        assert _sessions(rt, athlete_id) == FILES
        third = json.loads(run_cli(settings, "import", str(archive), "--json").stdout)
        assert statuses(third) == {"skipped": FILES}
        assert _sessions(rt, athlete_id) == FILES
    finally:
        rt.close()


def test_with_no_intake_running_one_timeout_bounds_the_wait(settings: Settings,
                                                             tmp_path: Path) -> None:
    """With Kafka configured, the intake applies the files; when it is not running the
    import waits ``timeout`` once, not once per file, and says what is still queued."""
    rt = open_runtime(replace(settings, kafka_bootstrap="127.0.0.1:9"))
    try:
        athlete_id = _athlete(rt, "Queued")
        archive = tmp_path / "garmin.zip"
        archive.write_bytes(garmin_export(runs(6), parts=1))
        started = time.monotonic()
        results = import_archive(rt, CLI, athlete_id, archive, timeout=1.0)
        assert time.monotonic() - started < 4
        assert statuses(results) == {"pending": 6}
        assert "is `trainledger intake` running?" in str(results[0]["reason"])
        assert _decided(rt) == 0
    finally:
        rt.close()
