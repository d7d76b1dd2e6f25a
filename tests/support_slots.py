"""Helpers for the slot-matching and import-path tests: a served API with its intake
worker, planning a week, logging and importing sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from conftest import bearer
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.domain.weeks import week_start
from services.runtime import Runtime
from services.workers import Workers


@contextmanager
def served(runtime: Runtime) -> Iterator[TestClient]:
    """The API with the workers running (the intake applies imports)."""
    workers = Workers(runtime).start()
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            yield client
    finally:
        workers.stop()


def past_monday(weeks: int = 1) -> date:
    """The Monday ``weeks`` weeks back: every day of that week is past."""
    return week_start(datetime.now(UTC).date() - timedelta(days=7 * weeks), "monday")


def at(day: date, hour: int = 18) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def plan(client: TestClient, athlete_id: str, token: str, monday: date,
         slots: list[dict[str, Any]]) -> list[str]:
    """Plan the week; returns the slots' ids in the order given."""
    for s in slots:
        if isinstance(s.get("day"), int):
            s["day"] = (monday + timedelta(days=s["day"])).isoformat()
    body = {"week_start": monday.isoformat(), "sessions": slots}
    made = ok(client.post(f"/athletes/{athlete_id}/plans", json=body,
                          headers=bearer(token)), 201)
    return [s["planned_session_id"] for s in made["sessions"]]


def slots_of(client: TestClient, athlete_id: str, token: str,
             monday: date) -> dict[str, dict[str, Any]]:
    found = ok(client.get(f"/athletes/{athlete_id}/plans/{monday.isoformat()}",
                          headers=bearer(token)))
    return {s["planned_session_id"]: s for s in found["sessions"]}


def log(client: TestClient, athlete_id: str, token: str, day: date,
        **body: Any) -> dict[str, Any]:
    """A hand-logged past session, as /log records one."""
    body = {"started_at": at(day), "sport": "running", **body}
    return dict(ok(client.post(f"/athletes/{athlete_id}/sessions", json=body,
                               headers=bearer(token)), 201))


def import_sessions(client: TestClient, athlete_id: str, token: str,
                    sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Import past sessions (``POST /athletes/{id}/imports``) and wait for the answer."""
    queued = ok(client.post(f"/athletes/{athlete_id}/imports", json={"sessions": sessions},
                            headers=bearer(token)), 202)
    return dict(ok(client.get(f"/imports/{queued['import_id']}", params={"wait": 20},
                              headers=bearer(token))))
