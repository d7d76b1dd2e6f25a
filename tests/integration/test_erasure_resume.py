"""An erasure that fails half-way (after the key is gone) is finished by a retry: from the API,
the CLI or the next start; the admin's athlete list keeps working throughout."""

from __future__ import annotations

import json

from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from support_cli import run_cli
from support_erasure import failing_deletes

from services.api.app import create_app
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime

NAME = "Hedda ERASE-ME-4471"


def leftovers(rt: Runtime, athlete_id: str) -> dict[str, int]:
    """Rows of the athlete still in the directory and among the tokens."""
    db = rt.tables
    return {
        "tl_directory": int(db.query(f"SELECT COUNT(*) AS n FROM {db.name('tl_directory')} "
                                     "WHERE athlete_id = %s", (athlete_id,))[0]["n"]),
        "tl_tokens": int(db.query(f"SELECT COUNT(*) AS n FROM {db.name('tl_tokens')} "
                                  "WHERE principal_id = %s", (athlete_id,))[0]["n"]),
    }


def test_a_failed_purge_answers_clearly_and_a_retry_finishes_it(
    client: TestClient, runtime: Runtime,
) -> None:
    athlete_id, token = new_athlete(client, NAME)
    bystander, _ = new_athlete(client, "Bystander")
    with failing_deletes(runtime, "tl_tokens"):
        r = client.delete(f"/athletes/{athlete_id}", headers=bearer(token))
        assert r.status_code == 503, r.text
        assert "retry" in r.json()["detail"]
        assert "injected fault" in r.json()["detail"]
        listed = client.get("/athletes", headers=ADMIN)
        assert listed.status_code == 200, listed.text
        ids = {a["athlete_id"] for a in listed.json()}
        assert bystander in ids
        assert athlete_id not in ids
        assert client.delete(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 503
    r = client.delete(f"/athletes/{athlete_id}", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["erased"] is True
    assert leftovers(runtime, athlete_id) == {"tl_directory": 0, "tl_tokens": 0}
    assert client.get("/athletes", headers=ADMIN).status_code == 200
    assert client.delete(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 404
    assert client.get("/me", headers=bearer(token)).status_code == 401


def test_the_cli_and_the_next_start_finish_an_interrupted_erasure(settings: Settings) -> None:
    rt = open_runtime(settings)
    admin = Context(Source("admin"))
    by_cli = str(rt.app.register_athlete(admin, {"name": NAME}).id)
    at_start = str(rt.app.register_athlete(admin, {"name": NAME}).id)
    for athlete_id in (by_cli, at_start):
        rt.tokens.issue("athlete", athlete_id)
    rt.feed.catch_up_all()
    with failing_deletes(rt, "tl_directory"):
        for athlete_id in (by_cli, at_start):
            failed = run_cli(settings, "erase", athlete_id, "--yes")
            assert failed.returncode == 2, failed
            assert "injected fault" in failed.stderr
            assert "Traceback" not in failed.stderr
            assert "retry" in failed.stderr
    rt.close()

    done = run_cli(settings, "erase", by_cli, "--yes")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["athlete_id"] == by_cli
    rt = open_runtime(settings)  # the next start finishes the other one
    try:
        for athlete_id in (by_cli, at_start):
            assert leftovers(rt, athlete_id) == {"tl_directory": 0, "tl_tokens": 0}
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            assert client.get("/athletes", headers=ADMIN).status_code == 200
            assert client.delete(f"/athletes/{at_start}", headers=ADMIN).status_code == 404
    finally:
        rt.close()
    again = run_cli(settings, "erase", by_cli, "--yes")
    assert again.returncode == 2
    assert "no such athlete" in again.stderr
