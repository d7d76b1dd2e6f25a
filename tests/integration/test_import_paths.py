"""One path for every import: the same FIT file through the CLI, the upload API and the watched
folder becomes one session; each path after the first answers ``duplicate`` by the file's
own hash, against the request table (``tl_imports``) the CLI now writes too.  The result
lists the sessions with their load source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ADMIN
from fit_samples import corpus_dir, require_corpus
from support_files import run_cli
from support_slots import ok, served

from ingest.fit.watch import FolderWatcher
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import open_runtime

RUN = "GoldenCheetah/3386684871.fit"


def test_cli_upload_and_watched_folder_give_one_session(settings: Settings,
                                                         tmp_path: Path) -> None:
    require_corpus()
    rt = open_runtime(settings)
    try:
        athlete_id = str(rt.app.register_athlete(Context(Source("admin")), {"name": "P"}).id)
    finally:
        rt.close()
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(corpus_dir() / RUN, drop / "morning-run.fit")

    done = run_cli(settings, "import", str(drop), "--athlete", athlete_id, "--json")
    assert done.returncode == 0, done.stderr
    (by_cli,) = json.loads(done.stdout)
    assert by_cli["status"] == "imported", by_cli
    (session_id,) = by_cli["session_ids"]
    assert by_cli["sessions"] == [{"session_id": session_id, "status": "created",
                                   "load_source": "none"}]  # no max HR in the profile yet
    text = run_cli(settings, "import", str(drop), "--athlete", athlete_id)
    assert "duplicate: 1" in text.stdout, text.stdout

    rt = open_runtime(settings)
    try:
        with served(rt) as client:
            upload = ok(client.post(
                f"/athletes/{athlete_id}/imports/fit", params={"wait": 20}, headers=ADMIN,
                files=[("files", ("renamed.fit", (drop / "morning-run.fit").read_bytes()))]),
                202)
            (answer,) = upload
            assert answer["status"] == "duplicate", answer
            assert answer["reason"] == f"same content as import {by_cli['import_id']}"
            assert answer["request"]["result"]["session_ids"] == [session_id]
            assert answer["request"]["result"]["sessions"] == [
                {"session_id": session_id, "status": "existing", "load_source": "none"}]

            watched = tmp_path / "GARMIN" / "Activity"
            watched.mkdir(parents=True)
            shutil.copy(drop / "morning-run.fit", watched / "2026-11-24-07-00-00.fit")
            watcher = FolderWatcher(rt, athlete_id, watched)
            assert watcher.scan() == []  # settling
            (seen,) = watcher.scan()
            assert seen["status"] == "duplicate", seen
            assert seen["session_ids"] == [session_id]
            assert [s["status"] for s in seen["sessions"]] == ["existing"]

            sessions = ok(client.get(f"/athletes/{athlete_id}/sessions", headers=ADMIN))
            assert [s["session_id"] for s in sessions] == [session_id]
        requests = rt.tables.query(f"SELECT status FROM {rt.tables.name('tl_imports')} "
                                   "ORDER BY submitted_at")
        assert [r["status"] for r in requests] == ["imported", "duplicate", "duplicate",
                                                   "duplicate"]
    finally:
        rt.close()


def test_the_same_activity_in_other_bytes_is_a_duplicate_by_identity(
        settings: Settings, tmp_path: Path) -> None:
    """The file chained twice (other hash, same activity) is recognised
    by the activity's identity, on the CLI as on the upload."""
    require_corpus()
    rt = open_runtime(settings)
    try:
        athlete_id = str(rt.app.register_athlete(Context(Source("admin")), {"name": "Q"}).id)
        data = (corpus_dir() / RUN).read_bytes()
        with served(rt) as client:
            (first,) = ok(client.post(f"/athletes/{athlete_id}/imports/fit",
                                      params={"wait": 20}, headers=ADMIN,
                                      files=[("files", ("a.fit", data))]), 202)
            assert first["status"] == "imported", first
            assert first["request"]["result"]["sessions"][0]["status"] == "created"
    finally:
        rt.close()
    (tmp_path / "b.fit").write_bytes(data + data)
    done = run_cli(settings, "import", str(tmp_path / "b.fit"), "--athlete", athlete_id,
                   "--json")
    (again,) = json.loads(done.stdout)
    assert again["status"] == "duplicate", again
    assert again["session_ids"] == first["request"]["result"]["session_ids"]
    assert again["sessions"][0]["status"] == "existing"
