"""Symlinks in folders given to `trainledger import` or `watch` are skipped and reported, never
followed (a planted ``token.fit -> admin-token`` was read and copied into the quarantine); a
file named on the command line is read even through a symlink: the user chose it."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_broker import TansuBroker
from support_files import invalid_fit, run_cli

from ingest.fit.batch import import_files
from ingest.fit.watch import FolderWatcher
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime
from services.workers import Workers

SECRET = "tla_secret-that-must-stay-home"


def planted(folder: Path, target: Path) -> Path:
    """A folder holding links to ``target`` and to a folder beside it, and one real file."""
    folder.mkdir(parents=True)
    (folder / "token.fit").symlink_to(target)
    (folder / "nested").symlink_to(target.parent, target_is_directory=True)
    invalid_fit(folder, "real.fit")
    return folder


def quarantined(data_dir: Path) -> str:
    folder = data_dir / "quarantine"
    if not folder.exists():
        return ""
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_import_skips_symlinks_in_a_folder_and_says_why(settings: Settings,
                                                        tmp_path: Path) -> None:
    settings = replace(settings, data_dir=tmp_path / "data", admin_token=SECRET)
    assert run_cli(settings, "athletes", "add", "Lin").returncode == 0
    secrets = tmp_path / "private"
    secrets.mkdir()
    (secrets / "admin-token").write_text(SECRET + "\n")
    folder = planted(tmp_path / "drop", secrets / "admin-token")

    done = run_cli(settings, "import", str(folder), "--json")
    assert "Traceback" not in done.stderr
    results = {Path(r["file"]).name: r for r in json.loads(done.stdout)}
    assert results["token.fit"]["status"] == "skipped"
    assert "symbolic link, not followed" in results["token.fit"]["reason"]
    assert results["nested"]["status"] == "skipped"
    assert results["real.fit"]["status"] == "rejected"  # read: it is a file, not a link
    assert SECRET not in quarantined(settings.data_dir)

    text = run_cli(settings, "import", str(folder))
    assert f"skipped   {folder / 'token.fit'}: a symbolic link, not followed" in text.stdout


def test_a_symlink_named_on_the_command_line_is_read(settings: Settings, tmp_path: Path) -> None:
    settings = replace(settings, data_dir=tmp_path / "data", admin_token=SECRET)
    assert run_cli(settings, "athletes", "add", "Lin").returncode == 0
    link = tmp_path / "chosen.fit"
    link.symlink_to(invalid_fit(tmp_path))
    done = run_cli(settings, "import", str(link), "--json")
    (result,) = json.loads(done.stdout)
    assert result["status"] == "rejected"  # decoded: the bytes behind the link were read
    assert "symbolic link" not in result["reason"]
    assert done.returncode == 1


def test_a_watched_folder_reports_a_symlink_once_and_never_reads_it(runtime: Runtime,
                                                                     tmp_path: Path) -> None:
    athlete_id = str(runtime.app.register_athlete(Context(Source("admin")), {"name": "W"}).id)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    device = planted(tmp_path / "GARMIN" / "Activity", secret)
    (device / "real.fit").unlink()
    reports: list[dict[str, object]] = []
    watcher = FolderWatcher(runtime, athlete_id, tmp_path / "GARMIN", reports.append)
    for _ in range(3):
        assert watcher.scan() == []
    assert sorted((Path(str(r["file"])).name, r["status"]) for r in reports) == [
        ("nested", "skipped"), ("token.fit", "skipped")]
    assert SECRET not in quarantined(runtime.settings.data_dir)


def test_a_file_swapped_for_a_symlink_after_it_was_found_is_not_read(runtime: Runtime,
                                                                       tmp_path: Path) -> None:
    athlete_id = str(runtime.app.register_athlete(Context(Source("admin")), {"name": "S"}).id)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    swapped = tmp_path / "A1.FIT"
    swapped.symlink_to(secret)  # a regular file when listed, a link when read
    (result,) = import_files(runtime, Source("device", principal_id="watch"), athlete_id,
                             [swapped])
    assert result["status"] == "skipped"
    assert SECRET not in quarantined(runtime.settings.data_dir)


@pytest.mark.kafka
def test_with_kafka_a_symlink_is_skipped_before_the_intake_topic(
    settings: Settings, kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    rt = open_runtime(replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                              events_topic=f"test.events.{os.urandom(4).hex()}"))
    workers = Workers(rt).start()
    try:
        athlete_id = str(rt.app.register_athlete(Context(Source("admin")), {"name": "K"}).id)
        secret = tmp_path / "secret.txt"
        secret.write_text(SECRET + "\n")
        folder = planted(tmp_path / "drop", secret)
        link = folder / "token.fit"
        results = import_files(rt, Source("admin", principal_id="cli"), athlete_id,
                               [link, folder / "real.fit"], timeout=60)
        assert [r["status"] for r in results] == ["skipped", "rejected"]
        assert SECRET not in quarantined(rt.settings.data_dir)
        queued = rt.tables.query(f"SELECT published FROM {rt.tables.name('tl_imports')}")
        assert [r["published"] for r in queued] == [1]  # the real file only, over the topic
    finally:
        workers.stop()
        rt.close()
