"""Backup and restore of everything, on both stores: a restored store replays to the same view
hashes, and an athlete erased after the backup was taken stays erased once it is restored."""

from __future__ import annotations

import hashlib
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from fit_fixtures import by_name
from support_erasure import another_store

from ingest.fit.importer import import_fit
from projections.replay import replay
from services.backup import BackupError, backup, restore
from services.cli_replay import scratch_tables
from services.config import Settings
from services.demo import seed_demo
from services.domain.base import Context, Source
from services.domain.errors import NotFound
from services.erasure import erase_athlete
from services.runtime import open_runtime


def rebuilt_hashes(settings: Settings, tmp_path: Path) -> dict[str, str]:
    rt = open_runtime(settings)
    try:
        scratch, target = scratch_tables(tmp_path)
        try:
            return {r.view: r.content_hash for r in
                    replay(rt.app, target, list(rt.views.values()))}
        finally:
            scratch.close()
    finally:
        rt.close()


def test_backup_restore_replays_to_the_same_views_and_keeps_erasures(
    settings: Settings, tmp_path: Path
) -> None:
    rt = open_runtime(settings)
    demo = seed_demo(rt.app, today=date(2026, 11, 1)).athlete_id
    other = str(rt.app.register_athlete(Context(Source("admin")), {"name": "Leaver"}).id)
    run = by_name("run")
    assert import_fit(rt.app, rt.artifacts, Source("athlete", other), other, run.data,
                      run.filename).status == "imported"
    rt.feed.catch_up_all()
    digest = hashlib.sha256(run.data).hexdigest()
    assert rt.artifacts.get(digest) is not None
    sessions = len(rt.directory.list("session", demo, limit=1000))
    manifest = backup(rt, tmp_path / "backup")
    with pytest.raises(BackupError):
        backup(rt, tmp_path / "backup")  # never over an existing backup
    live = {name: view.content_hash(rt.tables) for name, view in rt.views.items()}
    assert manifest["view_hashes"] == live
    erase_athlete(rt, other)  # after the backup was taken
    rt.close()

    with another_store(settings, tmp_path) as target:
        report = restore(tmp_path / "backup", target, ledgers=(settings.data_dir,))
        assert report.events == manifest["events"]
        assert report.erased_again == 1
        with pytest.raises(BackupError):
            restore(tmp_path / "backup", target)  # never over a store in use
        with closing(open_runtime(target)) as restored:
            assert restored.app.athlete(demo).profile["name"] == "Demo Athlete"
            with pytest.raises(NotFound):
                restored.app.athlete(other)
            assert restored.directory.list("session", other) == []
            assert restored.artifacts.get(digest) is None  # their device file is gone again
            assert len(restored.directory.list("session", demo, limit=1000)) == sessions
        # the restored store rebuilds to the views it had (the erased athlete left out)
        fresh = rebuilt_hashes(target, tmp_path / "replay-restored")
        original = rebuilt_hashes(settings, tmp_path / "replay-original")
        assert fresh == original
