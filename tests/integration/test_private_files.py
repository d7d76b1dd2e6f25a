"""Everything trainledger writes is its user's only (files 0600, folders 0700): the data
directory with the database and keys, quarantine, artifacts, erasure log, admin token, backups
and exports; a data directory written before with 0755/0644 is tightened on the next start."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from support_files import invalid_fit, loosen, modes, not_private, usual_umask

from ingest.fit.importer import import_fit
from services.backup import backup
from services.config import Settings
from services.domain.base import Context, Source
from services.erasure import erase_athlete
from services.export import export_athlete
from services.runtime import open_runtime

ADMIN = Context(Source("admin"))


def test_everything_written_is_private_to_its_user(settings: Settings, tmp_path: Path) -> None:
    settings = replace(settings, data_dir=tmp_path / "data", admin_token=None)
    with usual_umask():
        rt = open_runtime(settings)
        try:
            settings.ensure_admin_token()
            kept = str(rt.app.register_athlete(ADMIN, {"name": "Kept"}).id)
            leaver = str(rt.app.register_athlete(ADMIN, {"name": "Leaver"}).id)
            bad = invalid_fit(tmp_path)
            rejected = import_fit(rt.app, rt.artifacts, Source("athlete", kept), kept,
                                  bad.read_bytes(), bad.name)
            assert rejected.status == "rejected"
            rt.artifacts.put(kept, b"a device file")
            erase_athlete(rt, leaver)
            backup(rt, tmp_path / "backups" / "monday")
            export_athlete(rt, kept, tmp_path / "exports" / kept)
            data = modes(settings.data_dir)
            written = {**data, **modes(tmp_path / "backups"), **modes(tmp_path / "exports")}
            loose = {p: m for p, m in written.items() if int(m, 8) & 0o077}
        finally:
            rt.close()
    names = {Path(p).name for p in data}
    assert {"admin-token", "erasures.log", "quarantine"} <= names, sorted(names)
    assert any(n.endswith(".reason.txt") for n in names)
    if settings.backend == "sqlite":
        assert {"trainledger.sqlite3", "trainledger.sqlite3-wal", "trainledger.sqlite3-shm",
                "artifacts"} <= names
    assert loose == {}
    assert {m for p, m in written.items() if Path(p).is_dir()} == {"0o700"}
    assert {m for p, m in written.items() if not Path(p).is_dir()} == {"0o600"}


def test_a_store_written_before_is_tightened_on_start(settings: Settings, tmp_path: Path) -> None:
    settings = replace(settings, data_dir=tmp_path / "data", admin_token=None)
    outside = tmp_path / "shared-notes.txt"
    outside.write_text("not ours\n")
    with usual_umask():
        rt = open_runtime(settings)
        athlete = str(rt.app.register_athlete(ADMIN, {"name": "Old"}).id)
        bad = invalid_fit(tmp_path)
        import_fit(rt.app, rt.artifacts, Source("athlete", athlete), athlete, bad.read_bytes())
        rt.close()
        settings.ensure_admin_token()
        os.symlink(outside, settings.data_dir / "link-to-outside")
        loosen(settings.data_dir)
        outside.chmod(0o644)
        assert not_private(settings.data_dir)  # as an old version left it
        open_runtime(settings).close()
    assert not_private(settings.data_dir) == {}
    assert oct(outside.stat().st_mode & 0o777) == "0o644"  # a symlink is not followed
