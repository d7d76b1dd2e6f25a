"""What the service shows to whom: the database password is never printed, `/health` tells a
probe only that it is up, `/redoc` loads nothing from a CDN, a request naming another host
(DNS rebinding, a spoofed ``Host``) is refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN, ADMIN_TOKEN, bearer, new_athlete
from fastapi.testclient import TestClient
from support_serve import serving

from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime


def test_health_tells_a_probe_only_that_it_is_up(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health", headers=bearer("tlk_garbage")).json() == {"status": "ok"}
    _, token = new_athlete(client, "Probe")
    mine = client.get("/health", headers=bearer(token)).json()
    assert set(mine) == {"status", "view_lag", "parked"}
    assert set(mine["view_lag"]) == set(runtime.view_lag())
    admin = client.get("/health", headers=ADMIN).json()
    assert admin["store"] == runtime.settings.backend
    assert admin["delivery"] == "in-process"
    assert "view_lag" in admin


def test_redoc_is_served_from_vendored_files(client: TestClient) -> None:
    page = client.get("/redoc")
    assert page.status_code == 200
    assert "/static/vendor/redoc/redoc.standalone.js" in page.text
    # the bundle's hard-coded logo on cdn.redoc.ly is refused by the browser
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]
    assert "http://" not in page.text
    assert "https://" not in page.text
    script = client.get("/static/vendor/redoc/redoc.standalone.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000


def test_a_request_for_another_host_is_refused(runtime: Runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        assert client.get("/health").status_code == 200  # Host: testserver
        for host in ("localhost:8000", "127.0.0.1"):
            assert client.get("/health", headers={"Host": host}).status_code == 200
        refused = client.get("/health", headers={"Host": "rebound.attacker.example"})
        assert refused.status_code == 400
        assert "host" in refused.text.lower()
    proxied = replace(runtime.settings, allowed_hosts=("train.example.org",))
    with TestClient(create_app(replace(runtime, settings=proxied)),
                    base_url="https://train.example.org") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"Host": "localhost"}).status_code == 400


def test_allowed_hosts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("TRAINLEDGER_ALLOWED_HOSTS", " train.example.org, 10.0.0.5 ")
    assert Settings.from_env(tmp_path).allowed_hosts == ("train.example.org", "10.0.0.5")
    monkeypatch.delenv("TRAINLEDGER_ALLOWED_HOSTS")
    assert "localhost" in Settings.from_env(tmp_path).allowed_hosts


def test_serve_masks_the_database_password_and_refuses_other_hosts(
    settings: Settings, tmp_path: Path
) -> None:
    password = "hunter2-not-for-logs"
    if settings.database_url:  # trust authentication here: any password is accepted
        settings = replace(settings, database_url=settings.database_url.replace(
            "postgres@", f"postgres:{password}@"))
    with serving(settings, "--host", "127.0.0.1") as served:
        assert password not in served.banner
        assert "hosts:       127.0.0.1, localhost, testserver" in served.banner
        if settings.database_url:
            assert "postgres:***@" in served.banner
        assert httpx.get(f"{served.url}/health").json() == {"status": "ok"}
        detail = httpx.get(f"{served.url}/health", headers=ADMIN).json()
        assert detail["store"] == settings.backend
        evil = httpx.get(f"{served.url}/health", headers={"Host": "rebound.attacker.example"})
        assert evil.status_code == 400
    assert ADMIN_TOKEN not in served.banner
