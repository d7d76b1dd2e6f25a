"""Group commit of bulk imports (``services.group_commit``): the files of an archive share
one transaction per group, each file in a savepoint.  Other connections see a group only
once it commits, the view feed still sees every event; a corrupt file is named and its
group-mates imported; a file that fails is undone alone; a run stopped mid-group (an error,
or the process killed) and run again imports each activity once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support_archives import runs, statuses, strava_export

from ingest.fit.batch import import_archive
from ingest.fit.importer import fit_content_hash
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime
from services.workers import Workers

CLI = Source("admin", principal_id="test")
REPO = Path(__file__).resolve().parents[2]


def _athlete(rt: Runtime) -> str:
    return str(rt.app.register_athlete(Context(Source("admin")), {"name": "Group"}).id)


@contextmanager
def opened(settings: Settings, tmp_path: Path, export: bytes,
           ) -> Iterator[tuple[Runtime, str, Path]]:
    """A store with one athlete and ``export`` written beside it; the store closed after."""
    archive = tmp_path / "strava.zip"
    archive.write_bytes(export)
    rt = open_runtime(settings)
    try:
        yield rt, _athlete(rt), archive
    finally:
        rt.close()


def _decided(rt: Runtime) -> int:
    """Requests decided, as another connection sees them (read in a thread of its own)."""
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(int(rt.tables.query(
        f"SELECT COUNT(*) AS n FROM {rt.imports.table} WHERE status <> 'pending'")[0]["n"])))
    thread.start()
    thread.join()
    return seen[0]


def _sessions(rt: Runtime) -> int:
    """Sessions recorded (each test's store has one athlete), counted in the event log."""
    return sum(1 for n in rt.app.recorder.select_notifications(1, 100_000)
               if n.topic.endswith("TrainingSession.Started"))


def test_a_corrupt_file_mid_group_is_named_and_its_group_mates_are_imported(
        settings: Settings, tmp_path: Path) -> None:
    fits = runs(12)
    corrupt = bytearray(fits[6])
    corrupt[len(corrupt) // 2] ^= 0xFF  # a record's byte flipped: the CRC no longer matches
    export = strava_export([*fits[:6], bytes(corrupt), *fits[6:]])
    with opened(settings, tmp_path, export) as (rt, athlete_id, archive):
        results = import_archive(rt, CLI, athlete_id, archive)
        assert statuses(results) == {"imported": 12, "rejected": 1, "skipped": 3}
        (bad,) = [r for r in results if r["status"] == "rejected"]
        assert bad["file"] == "activities/5006.fit.gz"
        assert str(bad["reason"]).startswith("activities/5006.fit.gz: ")
        assert "CRC" in str(bad["reason"]), bad["reason"]
        assert _decided(rt) == 13
        assert _sessions(rt) == 12


def test_other_connections_see_a_group_once_committed_and_the_feed_sees_every_event(
        settings: Settings, tmp_path: Path) -> None:
    export = strava_export(runs(20), gpx=0, tcx=0)
    with opened(settings, tmp_path, export) as (rt, athlete_id, archive):
        workers = Workers(rt, relay=False, intake=False).start()  # the view feed of `serve`
        try:
            seen: list[tuple[int, int]] = []  # (files reported, decided as others see it)
            results = import_archive(
                rt, CLI, athlete_id, archive,
                progress=lambda i, name, r: seen.append((i, _decided(rt))))
            assert statuses(results) == {"imported": 20}
            assert any(visible < done for done, visible in seen), seen  # not a commit a file
            assert all(visible <= done for done, visible in seen), seen
            assert _decided(rt) == 20
            deadline = time.monotonic() + 30
            while any(rt.view_lag().values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(rt.view_lag().values()), rt.view_lag()
            assert len(rt.directory.list("session", athlete_id, limit=100)) == 20
        finally:
            workers.stop()


def _refuse_reference(rt: Runtime, digest: str) -> None:
    """A trigger making the database refuse one file's stored-file reference: a real
    failure in the middle of that file's import, after its events were written."""
    table = rt.tables.name("tl_artifact_refs")
    if rt.tables.is_postgres:
        schema = rt.tables.schema
        rt.tables.execute(f'CREATE FUNCTION "{schema}".refuse() RETURNS trigger AS $$ BEGIN '
                          f"IF NEW.sha256 = '{digest}' THEN RAISE EXCEPTION 'refused'; END IF; "
                          "RETURN NEW; END $$ LANGUAGE plpgsql")
        rt.tables.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW "
                          f'EXECUTE FUNCTION "{schema}".refuse()')
    else:
        rt.tables.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN NEW.sha256 = "
                          f"'{digest}' BEGIN SELECT RAISE(ABORT, 'refused'); END")


def test_a_file_failing_mid_import_is_undone_alone_and_a_run_again_imports_it_once(
        settings: Settings, tmp_path: Path) -> None:
    fits = runs(10)
    with opened(settings, tmp_path, strava_export(fits, gpx=0, tcx=0)) as (rt, athlete_id, archive):
        _refuse_reference(rt, fit_content_hash(fits[4]))
        reported: list[str] = []
        with pytest.raises(Exception, match="refused"):
            import_archive(rt, CLI, athlete_id, archive,
                           progress=lambda i, name, r: reported.append(r["status"]))
        assert reported == ["imported"] * 4
        assert _decided(rt) == 4  # its group-mates before it are kept
        assert _sessions(rt) == 4  # the failing file left no session behind

        rt.tables.execute("DROP TRIGGER refuse" + (
            f" ON {rt.tables.name('tl_artifact_refs')}" if rt.tables.is_postgres else ""))
        again = import_archive(rt, CLI, athlete_id, archive)
        assert statuses(again) == {"skipped": 4, "imported": 6}
        assert _sessions(rt) == 10


def test_an_import_stopped_mid_group_keeps_what_it_reported_and_resumes(
        settings: Settings, tmp_path: Path) -> None:
    export = strava_export(runs(15), gpx=0, tcx=0)
    with opened(settings, tmp_path, export) as (rt, athlete_id, archive):

        def stop_at_seventh(i: int, name: str, result: dict[str, object]) -> None:
            if i == 7:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            import_archive(rt, CLI, athlete_id, archive, progress=stop_at_seventh)
        assert _decided(rt) == 7
        again = import_archive(rt, CLI, athlete_id, archive)
        assert statuses(again) == {"skipped": 7, "imported": 8}
        assert _sessions(rt) == 15


KILLED_AT_SEVENTH = """
import os, sys
from pathlib import Path
from ingest.fit.batch import import_archive
from services.config import Settings
from services.domain.base import Source
from services.runtime import open_runtime
data_dir, url, athlete_id, archive = sys.argv[1:]
rt = open_runtime(Settings(data_dir=Path(data_dir), database_url=url or None,
                           admin_token="kill-test"))
def progress(i, name, result):
    if i == 7:
        os._exit(9)  # killed: no commit, no cleanup
import_archive(rt, Source("admin", principal_id="test"), athlete_id, Path(archive),
               progress=progress)
"""


def test_a_process_killed_mid_group_loses_only_that_group_and_a_run_again_redoes_it(
        settings: Settings, tmp_path: Path) -> None:
    export = strava_export(runs(15), gpx=0, tcx=0)
    with opened(settings, tmp_path, export) as (rt, athlete_id, archive):
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_AT_SEVENTH, str(settings.data_dir),
             settings.database_url or "", athlete_id, str(archive)],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
        assert killed.returncode == 9, killed.stderr
        decided = _decided(rt)
        assert decided <= 7
        assert _sessions(rt) == decided  # nothing half-written
        again = import_archive(rt, CLI, athlete_id, archive)
        expected = {"skipped": decided, "imported": 15 - decided}
        assert statuses(again) == {k: n for k, n in expected.items() if n}
        assert _sessions(rt) == 15
