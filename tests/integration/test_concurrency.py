"""Concurrent writers on one session lose nothing, and concurrent retries apply once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.application import Access
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime

SQUAT = "squat.back_squats"
THREADS, SETS_PER_THREAD = 8, 25


def run_together(workers: list[Callable[[], Any]]) -> list[Any]:
    """Run every worker in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(workers))

    def released(work: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        return work()

    with ThreadPoolExecutor(len(workers)) as pool:
        return list(pool.map(released, workers))


def start_session(client: TestClient, athlete_id: str, token: str) -> str:
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = client.post(f"/athletes/{athlete_id}/sessions", json={"started_at": started},
                    headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["session_id"])


def assert_contiguous(runtime: Runtime, session_id: str, events: int) -> None:
    versions = [e.originator_version for e in runtime.app.events.get(UUID(session_id))]
    assert versions == list(range(1, events + 1))


@pytest.fixture
def second_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Another application over the same store, as a second server process would be."""
    other = open_runtime(runtime.settings)
    yield other
    other.close()


@pytest.fixture
def second_client(second_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(second_runtime), raise_server_exceptions=False) as c:
        yield c


def test_eight_writers_on_one_session_lose_nothing(client: TestClient,
                                                   runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    session_id = start_session(client, athlete_id, token)
    ctx = Context(Source("athlete", athlete_id))
    mine = Access(frozenset({athlete_id}))

    def through_api(writer: int) -> list[int]:
        return [client.post(f"/sessions/{session_id}/sets", headers=bearer(token), json={
            "exercise_id": SQUAT, "reps": 5, "notes": f"{writer}:{i}"}).status_code
            for i in range(SETS_PER_THREAD)]

    def direct(writer: int) -> list[int]:
        for i in range(SETS_PER_THREAD):
            runtime.app.log_set(ctx, session_id, {"exercise_id": SQUAT, "reps": 5,
                                                  "notes": f"{writer}:{i}"}, access=mine)
        return [201] * SETS_PER_THREAD

    workers = [(lambda w=w: through_api(w)) if w % 2 else (lambda w=w: direct(w))
               for w in range(THREADS)]
    statuses = run_together(workers)
    assert {s for per_thread in statuses for s in per_thread} == {201}

    session = client.get(f"/sessions/{session_id}", headers=bearer(token)).json()
    notes = sorted(s["notes"] for s in session["sets"])
    assert notes == sorted(f"{w}:{i}" for w in range(THREADS) for i in range(SETS_PER_THREAD))
    assert len({s["set_id"] for s in session["sets"]}) == THREADS * SETS_PER_THREAD
    assert session["version"] == 1 + THREADS * SETS_PER_THREAD
    assert_contiguous(runtime, session_id, 1 + THREADS * SETS_PER_THREAD)


def test_two_processes_writing_one_session_lose_nothing(client: TestClient,
                                                        second_client: TestClient,
                                                        runtime: Runtime) -> None:
    """Across processes there is no shared lock: optimistic concurrency does the work.

    Saturated from both sides a write may still lose the race every time and answer 409; the
    client then retries with the same Idempotency-Key, as the API asks, and nothing is lost
    or logged twice."""
    athlete_id, token = new_athlete(client)
    session_id = start_session(client, athlete_id, token)
    conflicts: list[str] = []

    def log(api: TestClient, note: str) -> int:
        headers = {**bearer(token), "Idempotency-Key": note}
        body = {"exercise_id": SQUAT, "reps": 3, "notes": note}
        for _ in range(20):
            r = api.post(f"/sessions/{session_id}/sets", json=body, headers=headers)
            if r.status_code != 409:
                return r.status_code
            conflicts.append(r.json()["detail"])
        return 409

    def writer(api: TestClient, name: str) -> Callable[[], list[int]]:
        return lambda: [log(api, f"{name}:{i}") for i in range(10)]

    workers = [writer(api, f"{p}{t}") for p, api in (("a", client), ("b", second_client))
               for t in range(3)]
    statuses = run_together(workers)
    assert {s for per_thread in statuses for s in per_thread} == {201}
    assert set(conflicts) <= {"the session is being changed by someone else; retry"}
    sets = client.get(f"/sessions/{session_id}", headers=bearer(token)).json()["sets"]
    assert sorted(s["notes"] for s in sets) == sorted(f"{p}{t}:{i}" for p in "ab"
                                                      for t in range(3) for i in range(10))
    assert_contiguous(runtime, session_id, 61)


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
def test_concurrent_retries_of_one_key_log_one_set(client: TestClient,
                                                   second_client: TestClient,
                                                   runtime: Runtime, processes: int) -> None:
    athlete_id, token = new_athlete(client)
    session_id = start_session(client, athlete_id, token)
    apis = [client, second_client][:processes]
    headers = {**bearer(token), "Idempotency-Key": "tap-tap-tap"}
    body = {"exercise_id": SQUAT, "reps": 5, "load": 100}

    responses = run_together([
        lambda api=apis[i % processes]: api.post(f"/sessions/{session_id}/sets", json=body,
                                                 headers=headers)
        for i in range(THREADS)])
    assert [r.status_code for r in responses] == [201] * THREADS
    assert len({r.json()["set"]["set_id"] for r in responses}) == 1
    assert len(client.get(f"/sessions/{session_id}", headers=bearer(token)).json()["sets"]) == 1
    names = [type(e).__name__ for e in runtime.app.events.get(UUID(session_id))]
    assert names == ["Started", "SetLogged"]


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
def test_concurrent_retries_of_one_key_start_one_session(client: TestClient,
                                                         second_client: TestClient,
                                                         processes: int) -> None:
    athlete_id, token = new_athlete(client)
    apis = [client, second_client][:processes]
    headers = {**bearer(token), "Idempotency-Key": "start-once"}
    body = {"started_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "sets": [{"exercise_id": SQUAT, "reps": 5}]}

    responses = run_together([
        lambda api=apis[i % processes]: api.post(f"/athletes/{athlete_id}/sessions", json=body,
                                                 headers=headers)
        for i in range(THREADS)])
    assert [r.status_code for r in responses] == [201] * THREADS
    assert len({r.json()["session_id"] for r in responses}) == 1
    listed = client.get(f"/athletes/{athlete_id}/sessions", headers=bearer(token)).json()
    assert len(listed) == 1
    assert len(listed[0]["sets"]) == 1
