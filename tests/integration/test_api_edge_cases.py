"""API edge cases and tokens (issue #12, Low): list offsets beyond 64 bits, NaN and infinite
numbers, formulas in CSV exports, coach names, authentication before the body is read, coach
token listing and retried athlete creation."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from support_limits import body_read_by

from services.api.app import create_app
from services.runtime import Runtime


@pytest.mark.parametrize("what", ["sessions", "observations"])
@pytest.mark.parametrize("offset", [2**63, 2**64 + 5, 10**30])
def test_a_huge_offset_is_422_naming_it(client: TestClient, what: str, offset: int) -> None:
    athlete_id, token = new_athlete(client)
    r = client.get(f"/athletes/{athlete_id}/{what}", params={"offset": offset},
                   headers=bearer(token))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["offset"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_numbers_are_refused(client: TestClient, number: str) -> None:
    athlete_id, token = new_athlete(client)
    goal = client.post(f"/athletes/{athlete_id}/goals", headers=bearer(token), json={
        "title": "Squat", "metric": {"kind": "e1rm", "exercise_id": "squat.back_squats"},
        "target_value": 140, "unit": "kg"})
    assert goal.status_code == 201, goal.text
    goal_id = goal.json()["goal_id"]
    json_headers = {**bearer(token), "Content-Type": "application/json"}
    cases = [(f"/goals/{goal_id}/achieve", f'{{"value": {number}}}', "value"),
             (f"/athletes/{athlete_id}/observations",
              f'{{"metric": "hrv", "value": {number}, "unit": "ms", '
              '"observed_at": "2026-11-20T07:00:00+00:00"}', "value"),
             (f"/athletes/{athlete_id}/goals",
              f'{{"title": "x", "metric": {{"kind": "e1rm", "exercise_id": '
              f'"squat.back_squats"}}, "target_value": {number}}}', "target_value")]
    for path, body, field in cases:
        r = client.post(path, content=body, headers=json_headers)
        assert r.status_code == 422, (path, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.text
    assert client.get(f"/goals/{goal_id}", headers=bearer(token)).json()["status"] == "active"


def test_csv_cells_that_could_run_as_formulas_are_defused(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    titles = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "Squat"]
    for title in titles:
        r = client.post(f"/athletes/{athlete_id}/goals", headers=bearer(token), json={
            "title": title, "metric": {"kind": "e1rm", "exercise_id": "squat.back_squats"},
            "target_value": 140, "start_value": -5, "unit": "kg"})
        assert r.status_code == 201, r.text
    r = client.get(f"/athletes/{athlete_id}/export/goals.csv", headers=bearer(token))
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["title"] for row in rows) == sorted(
        ["'" + t if t[0] in "=+-@" else t for t in titles])
    assert {row["target_value"] for row in rows} == {"140.0"}  # numbers stay numbers
    assert {row["start_value"] for row in rows} == {"-5.0"}


def test_only_a_coachs_athletes_and_the_admin_read_the_coachs_name(client: TestClient) -> None:
    coach = client.post("/coaches", json={"name": "Coach Carter"}, headers=ADMIN)
    assert coach.status_code == 201, coach.text
    coach_id = coach.json()["coach"]["coach_id"]
    athlete_id, token = new_athlete(client)
    assert client.get(f"/coaches/{coach_id}", headers=bearer(token)).status_code == 404
    r = client.post(f"/athletes/{athlete_id}/grants", json={"coach_id": coach_id},
                    headers=bearer(token))
    assert r.status_code == 201, r.text
    r = client.get(f"/coaches/{coach_id}", headers=bearer(token))
    assert r.status_code == 200
    assert r.json()["name"] == "Coach Carter"
    assert client.get(f"/coaches/{coach_id}", headers=ADMIN).status_code == 200
    coach_token = coach.json()["token"]
    assert client.get(f"/coaches/{coach_id}", headers=bearer(coach_token)).status_code == 200


@pytest.mark.parametrize("headers", [{}, bearer("tlk_not-a-token"), {"Authorization": "x"}])
def test_an_unauthenticated_upload_is_401_before_its_body_is_read(
    runtime: Runtime, client: TestClient, headers: dict[str, str]
) -> None:
    athlete_id, _ = new_athlete(client)
    app = create_app(runtime)
    multipart = {"content-type": "multipart/form-data; boundary=b", **headers}
    status, read = body_read_by(app, "POST", f"/athletes/{athlete_id}/imports/fit", multipart,
                                chunks=60)  # 60 MiB
    assert status == 401
    assert read == 0
    status, read = body_read_by(app, "POST", "/athletes", {
        "content-type": "application/json", **headers}, chunks=1, chunk_size=1000)
    assert (status, read) == (401, 0)


def test_the_admin_lists_a_coachs_tokens_without_secrets(client: TestClient) -> None:
    coach = client.post("/coaches", json={"name": "Coach Tokens"}, headers=ADMIN).json()
    coach_id = coach["coach"]["coach_id"]
    more = client.post(f"/coaches/{coach_id}/tokens", json={"label": "tablet"}, headers=ADMIN)
    assert more.status_code == 201, more.text
    r = client.get(f"/coaches/{coach_id}/tokens", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert [t["label"] for t in r.json()] == ["first token", "tablet"]
    assert [t["token_id"] for t in r.json()] == [coach["token_id"], more.json()["token_id"]]
    assert coach["token"] not in r.text
    assert more.json()["token"] not in r.text
    assert all(set(t) == {"token_id", "role", "principal_id", "label", "created_at",
                          "revoked_at", "last_used_at"} for t in r.json())
    assert client.get(f"/coaches/{coach_id}/tokens",
                      headers=bearer(coach["token"])).status_code == 200
    _, athlete_token = new_athlete(client)
    assert client.get(f"/coaches/{coach_id}/tokens",
                      headers=bearer(athlete_token)).status_code == 404


@pytest.mark.parametrize("what", ["athletes", "coaches"])
def test_a_retried_creation_leaves_one_live_first_token(client: TestClient, what: str) -> None:
    headers = {**ADMIN, "Idempotency-Key": f"create-{what}-once"}
    body = {"name": "Retried"}
    first = client.post(f"/{what}", json=body, headers=headers)
    again = client.post(f"/{what}", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    key = "athlete" if what == "athletes" else "coach"
    principal_id = first.json()[key][f"{key}_id"]
    assert again.json()[key][f"{key}_id"] == principal_id
    tokens = client.get(f"/{what}/{principal_id}/tokens", headers=ADMIN).json()
    live = [t["token_id"] for t in tokens if t["revoked_at"] is None]
    assert live == [again.json()["token_id"]]
    assert client.get("/me", headers=bearer(first.json()["token"])).status_code == 401
    me = client.get("/me", headers=bearer(again.json()["token"]))
    assert me.status_code == 200
    assert me.json()["principal_id"] == principal_id
