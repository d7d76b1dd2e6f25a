"""One character used to break a PostgreSQL install for good: a session titled "x\\u0000"
was accepted, the directory view's insert was refused, and its feed retried forever while
every list answered 500.  Text is now checked where it enters, and a NUL already stored is
cleaned where a view stores text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.domain.base import Context, Source
from services.domain.session import TrainingSession
from services.runtime import Runtime

WHEN = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0).isoformat()


@pytest.mark.parametrize(("field", "value", "said"), [
    ("title", "x\u0000", "NUL"),
    ("title", "two\nlines", "U+000A"),
    ("title", "bell\u0007", "U+0007"),
    ("title", "c1\u0085", "U+0085"),
    ("notes", "x\u0000", "NUL"),
    ("notes", "escape\u001b[31m", "U+001B"),
])
def test_control_characters_are_refused_naming_the_field(
        client: TestClient, field: str, value: str, said: str) -> None:
    athlete_id, token = new_athlete(client)
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=bearer(token),
                    json={"started_at": WHEN, field: value})
    assert r.status_code == 422, r.text
    assert field in r.text
    assert said in r.text
    assert client.get(f"/athletes/{athlete_id}/sessions", headers=bearer(token)).json() == []


def test_notes_keep_their_lines_and_tabs(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=bearer(token),
                    json={"started_at": WHEN, "notes": "felt good\r\n\tsquat: 5x5"})
    assert r.status_code == 201, r.text


def test_a_nul_already_stored_still_projects(client: TestClient, runtime: Runtime) -> None:
    """An event recorded before text was checked (here: written past the checks) reaches
    the lists and views on both stores, and the next writes of everyone keep flowing."""
    athlete_id, token = new_athlete(client)
    ctx = Context(Source("admin"))
    session = TrainingSession._start(
        TrainingSession.Started, ctx, None, occurred_at=datetime.now(UTC) - timedelta(hours=2),
        athlete_id=athlete_id, planned_role="unplanned", objective_id=None,
        planned_session_id=None, timezone="UTC", title="x\u0000", sport="strength_training",
        notes=None)
    runtime.app.save(session)
    listed = client.get(f"/athletes/{athlete_id}/sessions", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert [s["session_id"] for s in listed.json()] == [str(session.id)]
    assert client.get("/athletes", headers=ADMIN).status_code == 200
    view = client.get(f"/athletes/{athlete_id}/views/load", headers=bearer(token))
    assert view.status_code == 200, view.text
    other, other_token = new_athlete(client, "After")
    r = client.post(f"/athletes/{other}/sessions", headers=bearer(other_token),
                    json={"started_at": WHEN, "title": "fine"})
    assert r.status_code == 201
    assert len(client.get(f"/athletes/{other}/sessions",
                          headers=bearer(other_token)).json()) == 1
