"""One-time sign-in links: a device signs in with a token of its own, listed with its last
use and revocable; a link opens once, and not after it expires; its QR code reads back as the
link.  A pasted token is exchanged for a device token, so that a browser keeps only that."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from conftest import ADMIN, ADMIN_TOKEN, bearer, new_athlete
from fastapi.testclient import TestClient
from support_qr import decode_modules, svg_modules, svg_of

from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime, open_runtime

PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36")


def issue(client: TestClient, athlete_id: str, headers: dict[str, str]) -> str:
    r = client.post(f"/athletes/{athlete_id}/sign-in-links", headers=headers)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"].endswith(f"/sign-in#{link['secret']}")
    return str(link["secret"])


def test_a_link_signs_one_device_in_once(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    secret = issue(client, athlete_id, ADMIN)
    # no bearer token: the secret is the credential, in the body (not in the URL, not logged)
    r = client.post("/sign-in", json={"secret": secret}, headers={"User-Agent": PHONE_UA})
    assert r.status_code == 201, r.text
    device = r.json()
    assert device["athlete_id"] == athlete_id
    assert device["token"] != token
    assert device["label"] == "Chrome on Android (sign-in link)"
    assert client.get("/me", headers=bearer(device["token"])).json()["athlete_ids"] == [
        athlete_id]
    again = client.post("/sign-in", json={"secret": secret})
    assert again.status_code == 404, again.text
    assert "new one" in again.json()["detail"]
    assert client.post(f"/sign-in/{secret}").status_code in (401, 404, 405)  # not in a URL

    listed = client.get(f"/athletes/{athlete_id}/tokens", headers=bearer(token)).json()
    [mine] = [t for t in listed if t["token_id"] == device["token_id"]]
    assert mine["label"] == "Chrome on Android (sign-in link)"
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
    r = client.post("/sign-in", json={"secret": secret})
    assert r.status_code == 404, r.text
    assert "expired" in r.json()["detail"]
    assert client.post("/sign-in", json={"secret": "not-a-secret"}).status_code == 404
    assert client.post("/sign-in", json={}).status_code == 422


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
            assert client.post("/sign-in", json={"secret": secret}).status_code == 201
    finally:
        rt.close()


def test_the_qr_code_reads_back_as_the_link(client: TestClient) -> None:
    athlete_id, _ = new_athlete(client)
    link = client.post(f"/athletes/{athlete_id}/sign-in-links", headers=ADMIN).json()
    assert link["qr_svg"].startswith("data:image/svg+xml")
    assert svg_of(link["qr_svg"]).tag == "{http://www.w3.org/2000/svg}svg"
    modules = svg_modules(link["qr_svg"])
    assert decode_modules(modules) == link["url"]  # what a phone's camera reads
    code = segno.make(link["url"], error="m", micro=False)  # the same matrix as segno's own
    assert [row[4:-4] for row in modules[4:-4]] == [[bool(m) for m in row]
                                                    for row in code.matrix]
    assert all(not any(row) for row in modules[:4])  # the quiet zone


def test_a_pasted_token_is_exchanged_for_a_device_token(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    r = client.post("/tokens/device", json={}, headers=bearer(token, **{"User-Agent": PHONE_UA}))
    assert r.status_code == 201, r.text
    device = r.json()
    assert (device["role"], device["principal_id"]) == ("athlete", athlete_id)
    assert device["label"] == "Chrome on Android (signed in with a token)"
    assert client.get("/me", headers=bearer(device["token"])).json()["athlete_ids"] == [
        athlete_id]
    listed = client.get("/me/tokens", headers=bearer(device["token"])).json()
    assert device["token_id"] in {t["token_id"] for t in listed}
    # signing the device out leaves the pasted token alone
    assert client.delete(f"/tokens/{device['token_id']}",
                         headers=bearer(device["token"])).status_code == 204
    assert client.get("/me", headers=bearer(device["token"])).status_code == 401
    assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.post("/tokens/device", json={}, headers=bearer("tlk_nope")).status_code == 401
    assert client.post("/tokens/device", json={"label": "x" * 201},
                       headers=bearer(token)).status_code == 422


def exchange(client: TestClient, token: str, replaces: str | None = None) -> dict[str, Any]:
    r = client.post("/tokens/device", json={"replaces": replaces} if replaces else {},
                    headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def live_tokens(client: TestClient, athlete_id: str) -> set[str]:
    listed = client.get(f"/athletes/{athlete_id}/tokens", headers=ADMIN).json()
    return {t["token_id"] for t in listed if not t["revoked_at"]}


def test_signing_in_again_ends_the_browsers_device_token(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    before = live_tokens(client, athlete_id)
    first = exchange(client, token)
    assert first["replaced"] is None
    second = exchange(client, token, replaces=first["token"])
    assert second["replaced"] == first["token_id"]
    assert client.get("/me", headers=bearer(first["token"])).status_code == 401
    assert client.get("/me", headers=bearer(second["token"])).status_code == 200
    assert live_tokens(client, athlete_id) == before | {second["token_id"]}  # one per browser
    # a token from a sign-in link is a device token too
    linked = client.post("/sign-in", json={"secret": issue(client, athlete_id, ADMIN)}).json()
    third = exchange(client, token, replaces=linked["token"])
    assert third["replaced"] == linked["token_id"]

    # never revoked: the pasted token itself (not a device token), another athlete's device
    # token, one already revoked, an unknown one
    other_id, other_token = new_athlete(client, "Grace")
    others = exchange(client, other_token)
    for replaces in (token, others["token"], first["token"], "tlk_unknown"):
        assert exchange(client, token, replaces=replaces)["replaced"] is None, replaces
    assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.get("/me", headers=bearer(others["token"])).status_code == 200
    assert others["token_id"] in live_tokens(client, other_id)
    # nor a device token of the same athlete held by a coach's or the admin's sign-in
    assert exchange(client, ADMIN_TOKEN, replaces=third["token"])["replaced"] is None
    assert client.get("/me", headers=bearer(third["token"])).status_code == 200


def test_device_tokens_of_a_store_from_before_their_kind_are_recognised(
        settings: Settings) -> None:
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt)) as client:
            _, token = new_athlete(client)
            old = client.post("/tokens/device", json={}, headers=bearer(token)).json()
        rt.tables.execute(f"ALTER TABLE {rt.tables.name('tl_tokens')} DROP COLUMN kind")
    finally:
        rt.close()
    rt = open_runtime(settings)  # as an upgrade finds the store: the column comes back
    try:
        with TestClient(create_app(rt)) as client:
            assert exchange(client, token, replaces=old["token"])["replaced"] == old["token_id"]
    finally:
        rt.close()


def test_the_admins_device_tokens_end_with_the_admin_token(settings: Settings) -> None:
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt)) as client:
            r = client.post("/tokens/device", json={"label": "admin laptop"}, headers=ADMIN)
            assert r.status_code == 201, r.text
            device = r.json()
            assert (device["role"], device["principal_id"]) == ("admin", None)
            assert client.post("/athletes", json={"name": "Via device"},
                               headers=bearer(device["token"])).status_code == 201
            mine = client.get("/me/tokens", headers=bearer(device["token"])).json()
            assert [t["label"] for t in mine] == ["admin laptop"]
    finally:
        rt.close()
    rt = open_runtime(replace(settings, admin_token=ADMIN_TOKEN + "-rotated"))
    try:
        with TestClient(create_app(rt)) as client:
            assert client.get("/me", headers=bearer(device["token"])).status_code == 401
    finally:
        rt.close()


def test_last_use_is_written_at_most_once_a_minute(client: TestClient,
                                                   runtime: Runtime) -> None:
    _, token = new_athlete(client)
    device = client.post("/tokens/device", json={}, headers=bearer(token)).json()
    uses = runtime.tables.name("tl_token_uses")

    def last_use() -> str:
        rows = runtime.tables.query(f"SELECT last_used_at FROM {uses} WHERE token_id = %s",
                                    (device["token_id"],))
        return str(rows[0]["last_used_at"]) if rows else ""

    tokens = runtime.tokens
    assert tokens.authenticate(device["token"]) is not None
    first = last_use()
    assert first
    runtime.tables.execute(f"UPDATE {uses} SET last_used_at = %s WHERE token_id = %s",
                           ("2000-01-01T00:00:00+00:00", device["token_id"]))
    tokens._cache.clear()  # a cache miss: the token is looked up again within the minute
    assert tokens.authenticate(device["token"]) is not None
    assert last_use() == "2000-01-01T00:00:00+00:00"  # not written again
    tokens._cache.clear()
    tokens.use_record_seconds = 0.0  # as if the minute had passed
    try:
        assert tokens.authenticate(device["token"]) is not None
    finally:
        tokens.use_record_seconds = 60.0
    assert last_use() > first


def test_a_label_with_a_control_character_is_refused_naming_it(client: TestClient) -> None:
    """PostgreSQL cannot store a NUL: a token's label with one answered 500 there."""
    athlete_id, token = new_athlete(client)
    secret = issue(client, athlete_id, bearer(token))
    coach = client.post("/coaches", json={"name": "K"}, headers=ADMIN).json()
    for path, body, headers in [
            (f"/athletes/{athlete_id}/tokens", {"label": "x\u0000"}, bearer(token)),
            (f"/coaches/{coach['coach']['coach_id']}/tokens", {"label": "x\u0000"}, ADMIN),
            ("/tokens/device", {"label": "bell\u0007"}, bearer(token)),
            ("/sign-in", {"secret": secret, "label": "x\u0000"}, {})]:
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 422, (path, r.text)
        assert "label" in r.text, r.text
    # the link was not used up by the refused attempt
    assert client.post("/sign-in", json={"secret": secret}).status_code == 201
