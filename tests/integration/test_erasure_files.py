"""Device files and erasure: files shared by hash stay for the athletes still using them; an
erased athlete's imported and rejected files are gone, also from backups and restores."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import activity
from support_erasure import another_store, every_file, running_intake, upload_fit

from ingest.fit.importer import import_fit
from services.backup import backup, restore
from services.config import Settings
from services.domain.base import Context, Source
from services.erasure import erase_athlete
from services.runtime import Runtime, open_runtime


@pytest.fixture
def intake(runtime: Runtime) -> Iterator[None]:
    with running_intake(runtime):
        yield


def a_fit_file() -> bytes:
    """An activity file no other test made (its own serial and start)."""
    serial = int.from_bytes(os.urandom(3), "big") + 1
    start = datetime(2026, 10, 1, 7, tzinfo=UTC) + timedelta(minutes=serial % 50_000)
    return activity(start, serial=serial)


def device_digest(runtime: Runtime, session_id: str) -> str:
    device = runtime.app.session(session_id).device or {}
    return str(device["artifact_sha256"])


@pytest.mark.usefixtures("intake")
def test_erasing_one_athlete_keeps_a_file_another_athlete_imported_too(
    client: TestClient, runtime: Runtime,
) -> None:
    data = a_fit_file()
    leaver, leaver_token = new_athlete(client, "Leaver")
    stayer, stayer_token = new_athlete(client, "Stayer")
    first = upload_fit(client, bearer(leaver_token), leaver, "ride.fit", data)
    second = upload_fit(client, bearer(stayer_token), stayer, "ride.fit", data)
    assert first["status"] == second["status"] == "imported", (first, second)
    session_id = second["request"]["result"]["session_ids"][0]  # type: ignore[index]
    digest = device_digest(runtime, session_id)
    assert digest == hashlib.sha256(data).hexdigest()

    r = client.delete(f"/athletes/{leaver}", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["artifacts_deleted"] == 0  # still the stayer's

    assert runtime.artifacts.get(digest) == data
    assert client.get(f"/sessions/{session_id}", headers=bearer(stayer_token)).status_code == 200
    r = client.delete(f"/athletes/{stayer}", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["artifacts_deleted"] == 1  # nobody refers to it any more
    assert runtime.artifacts.get(digest) is None


@pytest.mark.usefixtures("intake")
def test_an_athletes_rejected_files_leave_the_quarantine_with_them(
    client: TestClient, runtime: Runtime,
) -> None:
    marker = f"QUARANTINED-{os.urandom(4).hex()}"
    leaver, leaver_token = new_athlete(client, "Leaver")
    stayer, stayer_token = new_athlete(client, "Stayer")
    for athlete_id, token in ((leaver, leaver_token), (stayer, stayer_token)):
        answer = upload_fit(client, bearer(token), athlete_id, f"{marker}-{athlete_id}.fit",
                            f"not a FIT file {marker} {athlete_id}".encode())
        assert answer["status"] == "rejected", answer
    quarantine = runtime.settings.data_dir / "quarantine"

    def mentions(athlete_id: str) -> list[str]:
        return [name for name, data in every_file(quarantine).items()
                if athlete_id in name or athlete_id.encode() in data]

    assert mentions(leaver)
    assert mentions(stayer)
    assert client.delete(f"/athletes/{leaver}", headers=ADMIN).status_code == 200
    assert mentions(leaver) == []
    assert mentions(stayer)  # another athlete's rejected file stays for inspection


def test_backups_and_restores_hold_none_of_an_erased_athletes_files(
    settings: Settings, tmp_path: Path,
) -> None:
    rt = open_runtime(settings)
    admin = Context(Source("admin"))
    leaver = str(rt.app.register_athlete(admin, {"name": "Leaver"}).id)
    stayer = str(rt.app.register_athlete(admin, {"name": "Stayer"}).id)
    own, shared = a_fit_file(), a_fit_file()
    rejected = b"not a FIT file: the leaver's " + os.urandom(8).hex().encode()
    for athlete_id, data, name in ((leaver, own, "own.fit"), (leaver, shared, "shared.fit"),
                                   (stayer, shared, "shared.fit"),
                                   (leaver, rejected, "leaver-secret.fit")):
        result = import_fit(rt.app, rt.artifacts, Source("athlete", athlete_id), athlete_id,
                            data, name)
        assert result.status == ("rejected" if data is rejected else "imported"), result
    backup(rt, tmp_path / "before")  # taken before the erasure: restoring it erases again
    erase_athlete(rt, leaver)
    backup(rt, tmp_path / "after")
    rt.close()

    own_digest = hashlib.sha256(own).hexdigest()
    after = every_file(tmp_path / "after")
    assert not any(own_digest in name or "leaver-secret" in name for name in after)
    assert not any(own_digest.encode() in data or rejected in data for data in after.values())
    for taken in ("before", "after"):
        with another_store(settings, tmp_path / taken) as target:
            restore(tmp_path / taken, target, ledgers=(settings.data_dir,))
            with closing(open_runtime(target)) as restored:
                assert restored.artifacts.get(own_digest) is None, taken
                assert restored.artifacts.get(hashlib.sha256(shared).hexdigest()) == shared
                files = every_file(target.data_dir)
                assert not any("leaver-secret" in name or rejected in data
                               for name, data in files.items()), taken
