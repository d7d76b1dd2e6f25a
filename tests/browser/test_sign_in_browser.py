"""Signing a phone in by link, in the browser, on SQLite and PostgreSQL, at 375 and 1280 px.

The admin creates a link on ``/devices`` (shown as text and as a QR code that decodes to it);
a second browser opens it and lands on ``/week`` signed in with a device token of its own
(the secret never in a request's URL, no raw token kept); the device is listed with its last
use; revoking it signs that browser out with a clear message; a used link says what to do;
Sign out revokes the device's token on the server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from conftest import PG_URL, drop_schema, require_postgres
from support_browser import assert_fits_a_phone, browser, open_fresh
from support_qr import decode_pixels

from bench.dashboard_screenshot import DemoService, demo_service

__all__ = ["browser"]  # the fixture, imported for pytest

#: the browser logs each refused request (a revoked token, a used link) as a console error
REFUSALS = r"status of (401|404)"

#: the shown QR code's pixels, drawn on a canvas: (width, height, green channel)
QR_PIXELS_JS = """(img) => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const out = new Array(c.width * c.height);
  for (let i = 0; i < out.length; i++) out[i] = d[i * 4 + 1];
  return [c.width, c.height, out];
}"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_service(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    """The demo service on a store of each kind (PostgreSQL: a schema of its own)."""
    schema = None
    if request.param == "postgres":
        require_postgres()
        schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    url = f"{PG_URL}?schema={schema}" if schema else None
    try:
        with demo_service(tmp_path_factory.mktemp("sign-in"), database_url=url) as svc:
            yield svc
    finally:
        if schema:
            drop_schema(schema)


def stored(page: Any) -> dict[str, str]:
    return dict(page.evaluate("() => Object.assign({}, localStorage)"))


def me(svc: DemoService, token: str) -> httpx.Response:
    return httpx.get(f"{svc.url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def issue_link(admin: Any, svc: DemoService) -> str:
    """Create a link on the admin's /devices page; its URL, checked against its QR code."""
    admin.click("#issue-link")
    admin.wait_for_selector("#link:not([hidden])")
    url = admin.inner_text("#link-url").strip()
    assert url.startswith(f"{svc.url}/sign-in#"), url
    admin.wait_for_function("() => document.getElementById('link-qr').complete && "
                            "document.getElementById('link-qr').naturalWidth > 0")
    width, height, green = admin.eval_on_selector("#link-qr", QR_PIXELS_JS)
    pixels = np.array(green, dtype=np.uint8).reshape(height, width)
    assert decode_pixels(pixels) == url  # what the phone's camera reads
    return url


def sign_in_by_link(browser: Any, svc: DemoService, url: str, width: int,
                    problems: list[str]) -> tuple[Any, dict[str, Any]]:
    """Open the link in a browser of its own; the page and the device it keeps."""
    phone = open_fresh(browser, svc, "/week", None, width, problems, allow=REFUSALS)
    requests: list[Any] = []
    phone.on("request", lambda r: requests.append(r))
    phone.goto(url)
    phone.wait_for_url(f"{svc.url}/week")
    phone.wait_for_selector("#app:not([hidden])")
    secret = urlsplit(url).fragment
    assert phone.evaluate("() => location.hash") == ""
    posted = [r for r in requests if r.method == "POST" and r.url == f"{svc.url}/sign-in"]
    assert [json.loads(r.post_data)["secret"] for r in posted] == [secret]  # in the body
    for r in requests:  # never in a URL (nor, so, in an access log)
        assert secret not in urlsplit(r.url)._replace(fragment="").geturl(), r.url
    device = json.loads(stored(phone)["trainledger.device"])
    assert secret not in json.dumps(stored(phone))
    return phone, device


@pytest.mark.parametrize("width", [375, 1280])
def test_a_phone_signs_in_by_link_is_listed_and_revoked(browser: Any,
                                                        store_service: DemoService,
                                                        width: int) -> None:
    svc, problems = store_service, []
    admin = open_fresh(browser, svc, "/devices", svc.admin_token, width, problems)
    admin.wait_for_selector("#app:not([hidden])")
    assert admin.input_value("#athlete") == svc.athlete_id  # the demo's only athlete
    # the pasted admin token was exchanged: the browser keeps a device token, not it
    assert svc.admin_token not in json.dumps(stored(admin))
    assert json.loads(stored(admin)["trainledger.device"])["role"] == "admin"

    url = issue_link(admin, svc)
    if width == 375:
        assert_fits_a_phone(admin)

    phone, device = sign_in_by_link(browser, svc, url, width, problems)
    assert device["token"] not in (svc.athlete_token, svc.admin_token)
    assert me(svc, device["token"]).json()["athlete_ids"] == [svc.athlete_id]
    assert phone.is_hidden("#signin")

    # the device is on the athlete's list, with its last use
    admin.reload()
    row = admin.locator(f"li.device[data-token-id='{device['token_id']}']")
    row.wait_for()
    assert "(sign-in link)" in row.inner_text()
    assert row.locator(".last-used").inner_text() != "never"
    if width == 375:
        assert_fits_a_phone(admin)

    # revoked from the admin's page: the phone is signed out at its next request
    row.locator("button.revoke").click()
    row.wait_for(state="detached")
    assert me(svc, device["token"]).status_code == 401
    phone.reload()
    phone.wait_for_selector("#signin:not([hidden])")
    assert "signed out" in phone.inner_text("#signin-error")
    assert "trainledger.device" not in stored(phone)
    assert phone.is_hidden("#app")

    # the link opens once: a second browser is told what to do
    late = open_fresh(browser, svc, "/week", None, width, problems, allow=REFUSALS)
    late.goto(url)
    late.wait_for_selector("#link-problem:not([hidden])")
    assert late.evaluate("() => location.href") == f"{svc.url}/sign-in"  # not in the bar
    assert "used already or has expired" in late.inner_text("#link-error")
    assert "ask your coach or the admin for a new one" in late.inner_text("#link-error").lower()
    assert "trainledger.device" not in stored(late)
    if width == 375:
        assert_fits_a_phone(late)
    assert problems == []


@pytest.mark.parametrize("width", [375, 1280])
def test_sign_out_revokes_the_devices_token(browser: Any, store_service: DemoService,
                                            width: int) -> None:
    svc, problems = store_service, []
    admin = open_fresh(browser, svc, "/devices", svc.admin_token, width, problems)
    admin.wait_for_selector("#app:not([hidden])")
    assert admin.input_value("#athlete") == svc.athlete_id  # the demo's only athlete
    phone, device = sign_in_by_link(browser, svc, issue_link(admin, svc), width, problems)
    phone.goto(f"{svc.url}/devices")
    mine = phone.locator(f"li.device[data-token-id='{device['token_id']}']")
    assert "this device" in mine.inner_text()
    if width == 375:
        assert_fits_a_phone(phone)
    phone.click("#signout")
    phone.wait_for_selector("#signin:not([hidden])")
    assert "token is revoked" in phone.inner_text("#signin-error")
    assert "trainledger.device" not in stored(phone)
    assert me(svc, device["token"]).status_code == 401
    assert me(svc, svc.athlete_token).status_code == 200  # the athlete's other tokens stay
    assert problems == []


def test_a_coach_issues_a_link_without_seeing_the_athletes_devices(
        browser: Any, store_service: DemoService) -> None:
    svc, problems = store_service, []
    admin = {"Authorization": f"Bearer {svc.admin_token}"}
    coach = httpx.post(f"{svc.url}/coaches", json={"name": "Coach K"}, headers=admin).json()
    httpx.post(f"{svc.url}/athletes/{svc.athlete_id}/grants", headers=admin,
               json={"coach_id": coach["coach"]["coach_id"]}).raise_for_status()
    page = open_fresh(browser, svc, "/devices", coach["token"], 1280, problems)
    page.wait_for_selector("#app:not([hidden])")
    assert "Only the athlete and the admin" in page.inner_text("#devices-note")
    assert page.locator("#devices li").count() == 0
    url = issue_link(page, svc)
    _, device = sign_in_by_link(browser, svc, url, 375, problems)
    assert me(svc, device["token"]).json()["athlete_ids"] == [svc.athlete_id]
    # the coach's own tokens: the pasted one, and this browser's device token it was
    # exchanged for
    own = page.locator("#own-devices li.device")
    assert own.count() == 2
    assert "first token" in own.nth(0).inner_text()
    assert "this device" in own.nth(1).inner_text()
    assert problems == []


@pytest.mark.parametrize("width", [375, 1280])
def test_signing_in_again_on_a_browser_keeps_one_device(browser: Any, store_service: DemoService,
                                                        width: int) -> None:
    """Two tabs of one browser both showing the sign-in form (one opened before the other
    signed in): the token pasted in each leaves one device token, listed once."""
    svc, problems = store_service, []
    admin = {"Authorization": f"Bearer {svc.admin_token}"}
    listed = httpx.get(f"{svc.url}/athletes/{svc.athlete_id}/tokens", headers=admin).json()
    others = {t["token_id"] for t in listed if not t["revoked_at"]}  # other browsers'
    first = open_fresh(browser, svc, "/devices", None, width, problems)
    second = first.context.new_page()
    second.goto(f"{svc.url}/week")
    second.wait_for_selector("#signin:not([hidden])")
    for tab in (first, second):
        tab.fill("#token", svc.athlete_token)
        tab.click("#signin-form button[type=submit]")
        tab.wait_for_selector("#app:not([hidden])")
    device = json.loads(stored(second)["trainledger.device"])
    first.reload()  # the first tab goes on with the device token the second one kept
    first.locator(f"li.device[data-token-id='{device['token_id']}']").wait_for()
    shown = first.locator("#devices li.device").evaluate_all(
        "(items) => items.map((li) => li.dataset.tokenId)")
    assert [t for t in shown if t not in others] == [device["token_id"]]  # this browser, once
    mine = first.locator(f"li.device[data-token-id='{device['token_id']}']")
    assert "this device" in mine.inner_text()
    if width == 375:
        assert_fits_a_phone(first)
    first.context.close()
    assert problems == []
