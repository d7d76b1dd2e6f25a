"""A store from before device files were per athlete and erasures resumable: on first start
its files get their athletes, and an erasure the earlier version left half-done is finished."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import UTC, datetime

from conftest import ADMIN
from fastapi.testclient import TestClient
from fit_fixtures import activity

from ingest.fit.artifacts import REFS
from ingest.fit.importer import fit_payload, import_fit
from services.api.app import create_app
from services.config import Settings
from services.domain.base import Context, Source
from services.erasure import LEDGER, erase_athlete, ledger_states
from services.runtime import open_runtime


def test_an_old_store_gets_file_references_and_its_half_done_erasure_finished(
        settings: Settings) -> None:
    rt = open_runtime(settings)
    admin = Context(Source("admin"))
    first, second, half = (str(rt.app.register_athlete(admin, {"name": name}).id)
                           for name in ("First", "Second", "Half-erased HALF-4410"))
    shared = activity(datetime(2026, 9, 1, 6, tzinfo=UTC), serial=4242)
    for athlete_id in (first, second):
        assert import_fit(rt.app, rt.artifacts, Source("athlete", athlete_id), athlete_id,
                          shared, "shared.fit").status == "imported"
    request = rt.imports.submit(first, "fit", fit_payload("bad.fit", b"not FIT: first's"),
                                Source("athlete", first))
    rt.intake.process(request.import_id)
    assert rt.imports.get(request.import_id).status == "rejected"  # type: ignore[union-attr]
    rt.artifacts.quarantine.keep(second, "cli.fit", b"not FIT: imported from the CLI", "bad")
    rt.tables.execute(  # the request as the earlier version kept it: JSON, the file in base64
        f"UPDATE {rt.tables.name('tl_imports')} SET payload = %s WHERE import_id = %s",
        (json.dumps({"name": "bad.fit", "data_b64": base64.b64encode(
            b"not FIT: first's").decode()}).encode(), request.import_id))
    rt.tokens.issue("athlete", half)
    rt.feed.catch_up_all()
    # what the earlier version left: no references, one flat quarantine, and an erasure whose
    # key was destroyed but whose rows were not deleted
    rt.tables.execute(f"DROP TABLE {rt.tables.name(REFS)}")
    quarantine = settings.data_dir / "quarantine"
    for path in list(quarantine.rglob("*.*")):
        shutil.move(path, quarantine / path.name)
    for folder in (first, second):
        (quarantine / folder).rmdir()
    rt.keys.erase(half)
    (settings.data_dir / LEDGER).write_text(json.dumps(  # and a line torn by a crash
        {"athlete_id": half, "erased_at": datetime.now(UTC).isoformat()}) + '\n{"athlete_')
    rt.close()

    rt = open_runtime(settings)
    try:
        assert ledger_states(settings.data_dir)[half] == "done"
        assert rt.directory.list("athlete", half) == []
        assert not rt.tokens.list_for(half)
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            listed = client.get("/athletes", headers=ADMIN)
            assert listed.status_code == 200, listed.text
            assert {a["athlete_id"] for a in listed.json()} == {first, second}
        moved = sorted(p.name for p in (quarantine / first).iterdir())
        assert len(moved) == 2  # the file and its reason, in its athlete's folder now
        left = sorted(p.name for p in quarantine.iterdir() if p.is_file())
        assert len(left) == 2  # no import names its athlete: kept where it was

        report = erase_athlete(rt, first)
        assert report.artifacts_deleted == 0
        assert rt.artifacts.get(hashlib.sha256(shared).hexdigest()) == shared  # still the second's
        assert not (quarantine / first).exists()
        assert erase_athlete(rt, second).artifacts_deleted == 1
        assert rt.artifacts.get(hashlib.sha256(shared).hexdigest()) is None
    finally:
        rt.close()
