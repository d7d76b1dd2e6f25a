"""Archive uploads through the API, in parts past the 64 MiB request limit: create, PUT parts
with Content-Range (a part at the wrong offset says where to go on from), finish; the files
are applied by the intake worker and the upload reports each one; the quota holds."""

from __future__ import annotations

import os
import random
import time
import zipfile
from typing import Any

from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from support_archives import garmin_export, other_bytes, runs, strava_export, zipped
from support_slots import ok, served

from services.api.routes_imports import MAX_FIT_UPLOAD
from services.runtime import Runtime

MIB = 1024 * 1024


def upload(client: TestClient, athlete_id: str, token: str, archive: bytes,
           part: int) -> dict[str, Any]:
    made = ok(client.post(f"/athletes/{athlete_id}/archives",
                          json={"name": "export.zip", "size": len(archive)},
                          headers=bearer(token)), 201)
    url = f"/archives/{made['upload_id']}"
    for start in range(0, len(archive), part):
        chunk = archive[start:start + part]
        answer = ok(client.put(url, content=chunk, headers=bearer(token, **{
            "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(archive)}"})))
        assert answer["received"] == start + len(chunk)
    return made


def settled(client: TestClient, upload_id: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        answer = ok(client.get(f"/archives/{upload_id}", headers=bearer(token)))
        if "pending" not in answer["counts"] or time.monotonic() > deadline:
            return dict(answer)
        time.sleep(0.2)


def test_an_archive_uploaded_in_parts_is_imported_by_the_intake(runtime: Runtime) -> None:
    fits = runs(12)
    with served(runtime) as client:
        athlete_id, token = new_athlete(client, "Parts")
        archive = garmin_export(fits)
        made = ok(client.post(f"/athletes/{athlete_id}/archives",
                              json={"name": "garmin.zip", "size": len(archive)},
                              headers=bearer(token)), 201)
        url = f"/archives/{made['upload_id']}"
        half = len(archive) // 2
        first = ok(client.put(url, content=archive[:half], headers=bearer(token, **{
            "Content-Range": f"bytes 0-{half - 1}/{len(archive)}"})))
        assert (first["received"], first["status"]) == (half, "receiving")
        # a retried first part, and a part past a gap: each says where to go on from
        for start in (0, half + 10):
            part = archive[start:start + 100]
            again = client.put(url, content=part, headers=bearer(token, **{
                "Content-Range": f"bytes {start}-{start + 99}/{len(archive)}"}))
            assert again.status_code == 409, again.text
            assert f"send from byte {half}" in again.json()["detail"]
        early = client.post(url + "/finish", headers=bearer(token))
        assert early.status_code == 409
        assert f"has {half} of its {len(archive)} bytes" in early.json()["detail"]
        # the rest without Content-Range: added at the end
        ok(client.put(url, content=archive[half:], headers=bearer(token)))
        finished = ok(client.post(url + "/finish", headers=bearer(token)), 202)
        assert finished["status"] == "finished"
        assert len(finished["entries"]) == 12
        assert all(e["import_id"] for e in finished["entries"])
        done = settled(client, made["upload_id"], token)
        assert done["counts"] == {"imported": 12}, done["entries"][:2]
        assert len(runtime.directory.list("session", athlete_id, limit=100)) == 12

        # the Strava copies of four of them: one session each still
        strava = upload(client, athlete_id, token,
                        strava_export([other_bytes(f) for f in fits[:4]]), 700)
        ok(client.post(f"/archives/{strava['upload_id']}/finish", headers=bearer(token)), 202)
        assert settled(client, strava["upload_id"], token)["counts"] == {
            "duplicate": 4, "skipped": 3}
        assert len(runtime.directory.list("session", athlete_id, limit=100)) == 12
        again = client.post(f"/archives/{strava['upload_id']}/finish", headers=bearer(token))
        assert again.status_code == 409


def test_an_archive_past_the_request_limit_goes_in_parts(runtime: Runtime) -> None:
    noise = random.Random(7).randbytes(MAX_FIT_UPLOAD + MIB)  # incompressible: a photo
    archive = zipped({"activities/1.fit": runs(1, serial=3_900_000_555)[0],
                      "media/photo.jpg": noise}, zipfile.ZIP_STORED)
    assert len(archive) > MAX_FIT_UPLOAD
    with served(runtime) as client:
        athlete_id, token = new_athlete(client, "Big")
        whole = client.post(f"/athletes/{athlete_id}/archives",
                            json={"size": len(archive)}, headers=bearer(token))
        too_big = client.put(f"/archives/{whole.json()['upload_id']}", content=archive,
                             headers=bearer(token))
        assert too_big.status_code == 413
        made = upload(client, athlete_id, token, archive, 32 * MIB)
        ok(client.post(f"/archives/{made['upload_id']}/finish", headers=bearer(token)), 202)
        assert settled(client, made["upload_id"], token)["counts"] == {"imported": 1}


def test_archive_uploads_count_against_the_quota_and_bad_ones_are_refused(
        runtime: Runtime) -> None:
    with served(runtime) as client:
        athlete_id, token = new_athlete(client, "Quota")
        over = client.post(f"/athletes/{athlete_id}/archives",
                           json={"size": runtime.settings.quota_bytes + 1},
                           headers=bearer(token))
        assert over.status_code == 413, over.text
        assert "storage quota" in over.json()["detail"]
        half = runtime.settings.quota_bytes // 2 + 1
        first = client.post(f"/athletes/{athlete_id}/archives", json={"size": half},
                            headers=bearer(token))
        assert first.status_code == 201
        ok(client.put(f"/archives/{first.json()['upload_id']}", content=b"x" * 1000,
                      headers=bearer(token)))
        # received bytes count: a second upload of the rest no longer fits
        rest = runtime.settings.quota_bytes - 999
        assert client.post(f"/athletes/{athlete_id}/archives", json={"size": rest},
                           headers=bearer(token)).status_code == 413
        gone = client.delete(f"/archives/{first.json()['upload_id']}", headers=bearer(token))
        assert gone.status_code == 204
        assert client.post(f"/athletes/{athlete_id}/archives", json={"size": rest},
                           headers=bearer(token)).status_code == 201
        assert client.get(f"/archives/{first.json()['upload_id']}",
                          headers=bearer(token)).status_code == 404

        bad = upload(client, athlete_id, token, b"PK this is no zip", 100)
        refused = client.post(f"/archives/{bad['upload_id']}/finish", headers=bearer(token))
        assert refused.status_code == 422
        assert "export.zip: not a readable zip archive" in refused.json()["detail"]
        wrong = client.put(f"/archives/{'0' * 32}", content=b"x", headers=bearer(token))
        assert wrong.status_code == 404
        _, other_token = new_athlete(client, "Other")
        theirs = client.get(f"/archives/{bad['upload_id']}", headers=bearer(other_token))
        assert theirs.status_code == 404
        live = ok(client.post(f"/athletes/{athlete_id}/archives", json={"size": 10},
                              headers=bearer(token)), 201)
        lying = client.put(f"/archives/{live['upload_id']}", content=b"abc",
                           headers=bearer(token, **{"Content-Range": "bytes 0-9/10"}))
        assert lying.status_code == 422
        assert "does not describe this part of 3 bytes" in lying.json()["detail"]
        past = client.put(f"/archives/{live['upload_id']}", content=b"x" * 11,
                          headers=bearer(token))
        assert past.status_code == 422
        assert "past the upload's size of 10" in past.json()["detail"]


def test_a_retried_create_is_the_same_upload_and_an_erasure_takes_the_parts(
        runtime: Runtime) -> None:
    with served(runtime) as client:
        athlete_id, token = new_athlete(client, "Retry")
        key = {"Idempotency-Key": "archive-1"}
        body = {"name": "export.zip", "size": 100}
        first = ok(client.post(f"/athletes/{athlete_id}/archives", json=body,
                               headers=bearer(token, **key)), 201)
        again = ok(client.post(f"/athletes/{athlete_id}/archives", json=body,
                               headers=bearer(token, **key)), 201)
        assert again["upload_id"] == first["upload_id"]
        reused = client.post(f"/athletes/{athlete_id}/archives", json={**body, "size": 99},
                             headers=bearer(token, **key))
        assert reused.status_code == 422
        assert "Idempotency-Key" in reused.json()["detail"]
        ok(client.put(f"/archives/{first['upload_id']}", content=b"x" * 50,
                      headers=bearer(token)))
        folder = runtime.settings.data_dir / "uploads" / athlete_id
        assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".zip"]
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        # untouched for over a week: dropped when another upload starts
        week_ago = time.time() - 8 * 24 * 3600
        os.utime(folder / f"{first['upload_id']}.zip", (week_ago, week_ago))
        ok(client.post(f"/athletes/{athlete_id}/archives", json={"size": 10},
                       headers=bearer(token)), 201)
        assert client.get(f"/archives/{first['upload_id']}",
                          headers=bearer(token)).status_code == 404
        erased = client.delete(f"/athletes/{athlete_id}", headers=ADMIN)
        assert erased.status_code in (200, 202, 204), erased.text
        assert not folder.exists()
