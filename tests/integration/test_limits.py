"""Limits (issue #12, point 9): a storage quota per athlete, a bounded quarantine, import
payloads stored as bytes and dropped once decided, and a rate limit per token on writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, bearer, new_athlete
from fit_fixtures import by_name, write_all
from support_limits import import_rows, served, upload

from services.config import Settings

STRENGTH = by_name("strength").data


def device_files(folder: Path) -> list[Path]:
    """Four activity files of our own (``fit_fixtures``), written to ``folder``."""
    return write_all(folder / "device", ["run", "ride", "strength", "hrv"])


def test_an_upload_over_the_quota_is_413_naming_the_quota(settings: Settings) -> None:
    first, second = device_files(settings.data_dir)[:2]
    quota = first.stat().st_size + 100
    with served(replace(settings, quota_bytes=quota)) as (rt, client):
        athlete_id, token = new_athlete(client)
        r = upload(client, athlete_id, token, (first.name, first.read_bytes()))
        assert [a["status"] for a in r.json()] == ["imported"], r.text
        queued = len(import_rows(rt, athlete_id))

        r = upload(client, athlete_id, token, (second.name, second.read_bytes()))
        assert r.status_code == 413, r.text
        assert f"storage quota of {quota} bytes" in r.json()["detail"]
        assert len(import_rows(rt, athlete_id)) == queued  # nothing queued
        r = client.post(f"/athletes/{athlete_id}/imports", headers=bearer(token), json={
            "sessions": [{"started_at": "2026-11-20T18:00:00+00:00", "title": "x" * 200}]})
        assert r.status_code == 413, r.text

        other_id, other_token = new_athlete(client, "Other")  # the quota is per athlete
        r = upload(client, other_id, other_token, (first.name, first.read_bytes()))
        assert [a["status"] for a in r.json()] == ["imported"], r.text


def test_the_cli_import_names_each_file_over_the_quota(settings: Settings) -> None:
    files = device_files(settings.data_dir)
    run = [sys.executable, "-m", "services.cli", "--data-dir", str(settings.data_dir)]
    env: dict[str, Any] = {"TRAINLEDGER_ADMIN_TOKEN": "x", "PATH": "/usr/bin:/bin",
                           "TRAINLEDGER_QUOTA_BYTES": str(files[0].stat().st_size)}
    if settings.database_url:
        env["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    added = subprocess.run([*run, "athletes", "add", "Cli"], capture_output=True, text=True,
                           env=env, check=False)
    assert added.returncode == 0, added.stderr
    done = subprocess.run([*run, "import", *map(str, files)], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 1, done.stderr
    for path in files[1:]:
        line = next(x for x in done.stdout.splitlines() if str(path) in x)
        assert line.startswith("rejected"), done.stdout
        assert "storage quota" in line, done.stdout
    assert "imported: 1" in done.stdout

    bad = subprocess.run([*run, "import", files[0].name], capture_output=True, text=True,
                         env={**env, "TRAINLEDGER_QUOTA_BYTES": "lots"}, check=False)
    assert bad.returncode != 0
    assert "TRAINLEDGER_QUOTA_BYTES" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_queued_upload_is_stored_as_bytes(settings: Settings) -> None:
    data = STRENGTH
    with served(settings, intake=False) as (rt, client):
        athlete_id, token = new_athlete(client)
        r = upload(client, athlete_id, token, ("strength.fit", data), wait=0)
        assert r.status_code == 202, r.text
        [row] = import_rows(rt, athlete_id)
        assert row["stored_as"] in ("blob", "bytea")
        assert bytes(row["payload"]).endswith(data)  # the file itself, not its base64
        assert row["size"] < len(data) + 200


def test_a_decided_import_keeps_no_payload(settings: Settings) -> None:
    data = STRENGTH
    with served(settings) as (rt, client):
        athlete_id, token = new_athlete(client)
        r = upload(client, athlete_id, token, ("strength.fit", data), ("again.fit", data),
                   ("notes.txt", b"not a fit file"))
        assert [a["status"] for a in r.json()] == ["imported", "duplicate", "rejected"]
        r = client.post(f"/athletes/{athlete_id}/imports", headers=bearer(token), json={
            "sessions": [{"started_at": "2026-11-20T18:00:00+00:00", "title": "Squat"}]})
        done = client.get(f"/imports/{r.json()['import_id']}", params={"wait": 20},
                          headers=bearer(token))
        assert done.json()["status"] == "imported", done.text
        rows = import_rows(rt, athlete_id)
        assert [row["status"] for row in rows] == ["imported", "duplicate", "rejected",
                                                  "imported"]
        assert [row["size"] for row in rows] == [0, 0, 0, 0]
        assert rt.imports.pending_bytes(athlete_id) == 0


def bad_file(i: int, size: int) -> tuple[str, bytes]:
    return f"bad{i}.fit", f"not a FIT file #{i} ".encode().ljust(size, b".")


def quarantined(folder: Path) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in folder.glob("*.fit"))


def test_the_quarantine_keeps_the_newest_files_within_its_size(settings: Settings) -> None:
    size = 10_000
    bounded = replace(settings, quarantine_bytes=3 * size + 3 * 200)
    with served(bounded) as (_, client):
        athlete_id, token = new_athlete(client)
        folder = settings.data_dir / "quarantine" / athlete_id
        for i in range(5):
            r = upload(client, athlete_id, token, bad_file(i, size))
            assert r.json()[0]["status"] == "rejected", r.text
        assert quarantined(folder) == ["bad2.fit", "bad3.fit", "bad4.fit"]
        assert sum(p.stat().st_size for p in folder.iterdir()) <= bounded.quarantine_bytes
        assert len(list(folder.glob("*.reason.txt"))) == 3


def test_the_quarantine_drops_files_older_than_its_age(settings: Settings) -> None:
    with served(replace(settings, quarantine_days=30)) as (_, client):
        athlete_id, token = new_athlete(client)
        folder = settings.data_dir / "quarantine" / athlete_id
        upload(client, athlete_id, token, bad_file(0, 100), bad_file(1, 100))
        old = time.time() - 31 * 86_400
        for path in folder.glob("*bad0.fit*"):
            os.utime(path, (old, old))
        upload(client, athlete_id, token, bad_file(2, 100))
        assert quarantined(folder) == ["bad1.fit", "bad2.fit"]


def test_writes_over_the_rate_limit_get_429_with_retry_after(settings: Settings) -> None:
    limited = replace(settings, write_burst=3, write_rate=6)  # one every 10 s
    with served(limited, intake=False) as (_, client):
        athlete_id, token = new_athlete(client)
        _, other_token = new_athlete(client, "Other")  # the admin is not limited
        observation = {"metric": "resting_hr", "value": 50, "unit": "bpm",
                       "observed_at": "2026-11-20T07:00:00+00:00"}
        url = f"/athletes/{athlete_id}/observations"
        for _ in range(3):
            r = client.post(url, json=observation, headers=bearer(token))
            assert r.status_code == 201, r.text
        r = client.post(url, json=observation, headers=bearer(token))
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 10
        assert "3 at once, then 6 a minute" in r.json()["detail"]
        assert upload(client, athlete_id, token, bad_file(0, 10), wait=0).status_code == 429
        assert client.get(url, headers=bearer(token)).status_code == 200  # reads are not
        second = client.post(f"/athletes/{athlete_id}/tokens", json={}, headers=ADMIN)
        assert second.status_code == 201, second.text  # per token: a new token has its own
        r = client.post(url, json=observation, headers=bearer(second.json()["token"]))
        assert r.status_code == 201, r.text
        assert other_token


@pytest.mark.parametrize("kind", ["fit", "sessions"])
def test_a_store_with_base64_payloads_opens_and_imports_them(settings: Settings,
                                                              kind: str) -> None:
    """An old store: ``payload`` TEXT, a FIT upload as base64 JSON (pending), a decided one."""
    import base64

    data = STRENGTH
    with served(settings, intake=False) as (rt, client):
        athlete_id, _ = new_athlete(client)
        table = rt.tables.name("tl_imports")
        rt.tables.execute(f"DROP TABLE {table}")
        rt.tables.execute(
            f"CREATE TABLE {table} (import_id TEXT PRIMARY KEY, athlete_id TEXT NOT NULL, "
            "kind TEXT NOT NULL, content_hash TEXT NOT NULL, payload TEXT NOT NULL, "
            "source TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, result TEXT NOT NULL, "
            "published INTEGER NOT NULL, submitted_at TEXT NOT NULL, finished_at TEXT)")
        if kind == "fit":
            payload = json.dumps({"name": "old.fit", "salvage": False,
                                  "data_b64": base64.b64encode(data).decode()})
        else:
            payload = json.dumps({"sessions": [
                {"started_at": "2026-11-20T18:00:00+00:00", "title": "Old"}]})
        source = json.dumps({"kind": "admin", "principal_id": None, "token_id": "admin"})
        for import_id, status in (("old-pending", "pending"), ("old-done", "rejected")):
            rt.tables.execute(
                f"INSERT INTO {table} (import_id, athlete_id, kind, content_hash, payload, "
                "source, status, result, published, submitted_at) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, '{}', 0, %s)",
                (import_id, athlete_id, kind, import_id, payload, source, status,
                 f"2026-11-20T00:00:0{len(status)}"))
    with served(settings) as (rt, client):  # first start of the new version: migrated
        deadline = time.monotonic() + 30
        while (found := rt.imports.get("old-pending")) and found.status == "pending":
            assert time.monotonic() < deadline, "the old request was not applied"
            time.sleep(0.1)
        assert found is not None
        assert found.status == "imported", found
        rows = {r["import_id"]: r for r in import_rows(rt, athlete_id)}
        assert {r["stored_as"] for r in rows.values()} <= {"blob", "bytea"}
        assert [rows["old-pending"]["size"], rows["old-done"]["size"]] == [0, 0]
        if kind == "fit":
            session = rt.app.session(found.result["session_ids"][0])
            digest = (session.device or {})["artifact_sha256"]
            assert rt.artifacts.get(digest) == data  # byte-identical
            assert rt.artifacts.stored_bytes(athlete_id) == len(data)
