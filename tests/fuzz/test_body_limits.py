"""Request size limits: 1 MiB for any body, 64 MiB for a FIT upload and 16 MiB for each of its
files (services/api/app.py MAX_BODY, routes_imports.py MAX_FIT_UPLOAD / MAX_FIT_FILE). Over a
limit the answer is 413 with a JSON reason, whether the request announced its length or
streamed past the limit, and nothing is recorded or queued."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import by_name, ultra

from services.api.app import MAX_BODY
from services.api.routes_imports import MAX_FIT_FILE, MAX_FIT_UPLOAD
from services.runtime import Runtime
from services.workers import Workers

MIB = 1024 * 1024


def state(runtime: Runtime) -> tuple[int, int]:
    """(events recorded, import requests queued)."""
    imports = runtime.tables.query(f"SELECT COUNT(*) AS n FROM {runtime.tables.name('tl_imports')}")
    return int(runtime.app.recorder.max_notification_id() or 0), int(imports[0]["n"])


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:200]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "Too Large" in body["detail"]
    assert str(MAX_BODY) in body["detail"]
    assert str(MAX_FIT_UPLOAD) in body["detail"]
    assert body["errors"] == []


@pytest.fixture(scope="module")
def intake(runtime: Runtime) -> Iterator[None]:
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield
    workers.stop()


def test_a_json_body_over_1_mib_is_413_json(client: TestClient, runtime: Runtime) -> None:
    before = state(runtime)
    assert_413(client.post("/athletes", json={"name": "x" * MIB}, headers=ADMIN))
    assert state(runtime) == before


def test_a_body_streaming_past_1_mib_is_413_json(client: TestClient, runtime: Runtime) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    before = state(runtime)
    assert_413(client.post("/athletes", content=chunks(),
                           headers={**ADMIN, "Content-Type": "application/json"}))
    assert state(runtime) == before


@pytest.mark.usefixtures("intake")
def test_a_fit_upload_may_be_over_1_mib(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Big")
    data = ultra().data
    assert len(data) > MAX_BODY
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 60},
                    files=[("files", ("kona.fit", data))], headers=bearer(token))
    assert r.status_code == 202, r.text[:300]
    assert [a["status"] for a in r.json()] == ["imported"]


def test_a_fit_upload_over_64_mib_is_413_json(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Huge")
    before = state(runtime)
    half = b"\0" * (MAX_FIT_UPLOAD // 2)
    r = client.post(f"/athletes/{athlete_id}/imports/fit",
                    files=[("files", ("a.fit", half)), ("files", ("b.fit", half))],
                    headers=bearer(token))
    assert_413(r)
    assert state(runtime) == before


def test_a_fit_upload_streaming_past_64_mib_is_413_json(client: TestClient,
                                                        runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Stream")
    boundary = "fuzzboundary"

    def chunks() -> Iterator[bytes]:
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
               'filename="a.fit"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
        for _ in range(MAX_FIT_UPLOAD // MIB + 1):
            yield b"\0" * MIB
        yield f"\r\n--{boundary}--\r\n".encode()

    before = state(runtime)
    r = client.post(f"/athletes/{athlete_id}/imports/fit", content=chunks(), headers={
        **bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert_413(r)
    assert state(runtime) == before


@pytest.mark.usefixtures("intake")
def test_a_fit_file_over_16_mib_is_rejected_alone(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Heavy")
    good = by_name("strength").data
    _, queued = state(runtime)
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30}, files=[
        ("files", ("huge.fit", b"\0" * (MAX_FIT_FILE + 1))), ("files", ("good.fit", good))],
        headers=bearer(token))
    assert r.status_code == 202, r.text[:300]
    huge, fine = r.json()
    assert huge["status"] == "rejected"
    assert f"larger than {MAX_FIT_FILE} bytes" in huge["reason"]
    assert huge["request"] is None  # never queued
    assert fine["status"] == "imported"
    assert state(runtime)[1] == queued + 1
