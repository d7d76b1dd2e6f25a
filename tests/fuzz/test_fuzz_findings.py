"""What the fuzzing found, kept as plain tests: each input once answered a 500, or held a core
for a minute, or broke an athlete's views for good (RELIABILITY.md, "Fuzzing")."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.runtime import Runtime

SQUAT = "squat.back_squats"


def events(runtime: Runtime) -> int:
    return int(runtime.app.recorder.max_notification_id() or 0)


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text[:300]
    assert field in [e["field"] for e in response.json()["errors"]], response.text[:300]


def test_the_openapi_schema_documents_the_refusals(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "409", "413", "422", "503"):
                content = responses[status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_a_fit_upload_with_an_idempotency_key(client: TestClient) -> None:
    """Was a 500 ("Stream consumed"): the key's fingerprint re-read a multipart body that the
    form parser had consumed."""
    athlete_id, token = new_athlete(client, "Keyed")
    for _ in range(2):
        r = client.post(f"/athletes/{athlete_id}/imports/fit",
                        files=[("files", ("x.fit", b"not a fit file"))],
                        headers=bearer(token, **{"Idempotency-Key": "upload-1"}))
        assert r.status_code == 202, r.text[:300]
        assert [a["file"] for a in r.json()] == ["x.fit"]


@pytest.mark.parametrize("as_of", ["9999-12-31", "9999-12-31T23:00:00-05:00",
                                   "0001-01-01T00:00:00+05:00"])
@pytest.mark.parametrize("path", ["views/fatigue", "views/readiness/explain",
                                  "export/load.csv"])
def test_as_of_out_of_the_range_of_dates_is_422(client: TestClient, path: str,
                                                as_of: str) -> None:
    """Was a 500 (OverflowError turning the day's end or the instant into UTC)."""
    athlete_id, _ = new_athlete(client, "Asof")
    refused(client.get(f"/athletes/{athlete_id}/{path}", params={"as_of": as_of},
                       headers=ADMIN), "as_of")


@pytest.mark.parametrize("path", ["views/fatigue", "export/fatigue.csv"])
def test_as_of_far_ahead_is_422_at_once(client: TestClient, path: str) -> None:
    """Was a minute of CPU (fatigue view) and two (its CSV): a view walks every day up to
    as_of; a year ahead is allowed."""
    athlete_id, _ = new_athlete(client, "Ahead")
    started = time.perf_counter()
    refused(client.get(f"/athletes/{athlete_id}/{path}", params={"as_of": "9999-12-30"},
                       headers=ADMIN), "as_of")
    assert time.perf_counter() - started < 2
    r = client.get(f"/athletes/{athlete_id}/{path}", params={"as_of": "2027-06-01"},
                   headers=ADMIN)
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("path", ["events", "export/events.jsonl"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_since_and_until_out_of_the_range_of_dates_are_422(client: TestClient, path: str,
                                                          field: str) -> None:
    """Were a 500 (OverflowError turning them into UTC; for ``until`` a date's end too)."""
    athlete_id, _ = new_athlete(client, "Range")
    values = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"]
    for value in values + (["9999-12-31"] if field == "until" else []):
        refused(client.get(f"/athletes/{athlete_id}/{path}", params={field: value},
                           headers=ADMIN), field)


@pytest.mark.parametrize(("path", "body", "field"), [
    # every view of the athlete then walked 700,000 days: 15 s a request, for good
    ("sessions", {"started_at": "0118-02-14T01:15:19Z"}, "started_at"),
    ("sessions", {"started_at": "1899-12-31T12:00:00Z"}, "started_at"),
    ("observations", {"metric": "body_mass", "value": 80, "unit": "kg",
                      "observed_at": "0118-02-14T01:15:19Z"}, "observed_at"),
    # the readiness view then overflowed: a 500, for good
    ("plans", {"week_start": "9999-12-27"}, "week_start"),
    ("goals", {"title": "g", "metric": {"kind": "body_mass"}, "target_value": 70,
               "deadline": "9999-12-31"}, "deadline"),
])
def test_dates_out_of_a_training_log_are_refused(client: TestClient, runtime: Runtime,
                                                 path: str, body: dict[str, Any],
                                                 field: str) -> None:
    athlete_id, token = new_athlete(client, "Dates")
    before = events(runtime)
    refused(client.post(f"/athletes/{athlete_id}/{path}", json=body, headers=bearer(token)),
            field)
    assert events(runtime) == before
    for view in ("fatigue", "readiness"):
        assert client.get(f"/athletes/{athlete_id}/views/{view}",
                          headers=ADMIN).status_code == 200


def test_dates_at_the_edges_of_the_range_are_taken(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Edges")
    me = bearer(token)
    r = client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": "1900-01-01T00:00:00Z", "sets": [{"exercise_id": SQUAT, "reps": 5}]},
        headers=me)
    assert r.status_code == 201, r.text[:300]
    r = client.post(f"/athletes/{athlete_id}/plans", json={"week_start": "2999-12-23"},
                    headers=me)
    assert r.status_code == 201, r.text[:300]
    assert client.get(f"/athletes/{athlete_id}/views/readiness", headers=me).status_code == 200
