"""One-time sign-in links: a device signs in with a token of its own, listed with its last
use and revocable; a link opens once, and not after it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime, open_runtime
from services.tokens import DEVICE_LABEL


def issue(client: TestClient, athlete_id: str, headers: dict[str, str]) -> str:
    r = client.post(f"/athletes/{athlete_id}/sign-in-links", headers=headers)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"].endswith(f"/sign-in#{link['secret']}")
    return str(link["secret"])


def test_a_link_signs_one_device_in_once(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    secret = issue(client, athlete_id, ADMIN)
    r = client.post(f"/sign-in/{secret}")  # no bearer token: the secret is the credential
    assert r.status_code == 201, r.text
    device = r.json()
    assert device["athlete_id"] == athlete_id
    assert device["token"] != token
    assert client.get("/me", headers=bearer(device["token"])).json()["athlete_ids"] == [
        athlete_id]
    again = client.post(f"/sign-in/{secret}")
    assert again.status_code == 404, again.text
    assert "new one" in again.json()["detail"]

    listed = client.get(f"/athletes/{athlete_id}/tokens", headers=bearer(token)).json()
    [mine] = [t for t in listed if t["token_id"] == device["token_id"]]
    assert mine["label"] == DEVICE_LABEL
    assert mine["last_used_at"] is not None
    # signing out: the device revokes its own token
    out = client.delete(f"/tokens/{device['token_id']}", headers=bearer(device["token"]))
    assert out.status_code == 204, out.text
    assert client.get("/me", headers=bearer(device["token"])).status_code == 401
    assert client.get("/me", headers=bearer(token)).status_code == 200


def test_a_coach_issues_a_link_and_an_expired_one_is_refused(client: TestClient,
                                                              runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    coach = client.post("/coaches", json={"name": "K"}, headers=ADMIN).json()
    assert client.post(f"/athletes/{athlete_id}/sign-in-links",
                       headers=bearer(coach["token"])).status_code == 404  # no access yet
    client.post(f"/athletes/{athlete_id}/grants", json={"coach_id": coach["coach"]["coach_id"]},
                headers=bearer(token))
    secret = issue(client, athlete_id, bearer(coach["token"]))
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    runtime.tables.execute(f"UPDATE {runtime.tables.name('tl_sign_in_links')} "
                           "SET expires_at = %s", (past,))
    r = client.post(f"/sign-in/{secret}")
    assert r.status_code == 404, r.text
    assert client.post("/sign-in/not-a-secret").status_code == 404


def test_a_store_from_before_sign_in_links_gets_them_on_first_start(settings: Settings) -> None:
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt)) as client:
            athlete_id, token = new_athlete(client)
        for table in ("tl_token_uses", "tl_sign_in_links"):  # the shape of an older store
            rt.tables.execute(f"DROP TABLE {rt.tables.name(table)}")
    finally:
        rt.close()
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt)) as client:
            listed = client.get(f"/athletes/{athlete_id}/tokens", headers=bearer(token))
            assert listed.status_code == 200, listed.text
            secret = issue(client, athlete_id, bearer(token))
            assert client.post(f"/sign-in/{secret}").status_code == 201
    finally:
        rt.close()
