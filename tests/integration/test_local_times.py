"""Local times (no offset) are read in the athlete's time zone: one the clocks skipped in spring
is refused with a reason naming the gap, one they went through twice in autumn is its first
occurrence, and other times and explicit offsets are as given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.runtime import Runtime
from services.workers import Workers

SQUAT = "squat.back_squats"
LONDON = "Europe/London"
GAP = "2026-03-29T01:30:00"  # 01:00 GMT became 02:00 BST
GAP_REASON = (
    "2026-03-29T01:30 does not exist in Europe/London: clocks went forward from 01:00 to 02:00"
)
TWICE = "2026-10-25T01:30:00"  # at 02:00 BST clocks went back to 01:00 GMT
FIRST = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def log_position(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


class Athlete:
    """An athlete of their own, through the API."""

    def __init__(self, client: TestClient, timezone: str = LONDON) -> None:
        self.client = client
        self.id, token = new_athlete(client, timezone=timezone)
        self.me = bearer(token)

    def start(self, **body: Any) -> httpx.Response:
        return self.client.post(f"/athletes/{self.id}/sessions", json=body, headers=self.me)

    def open_session(self, started_at: str = "2026-03-28T23:00:00Z") -> str:
        return str(ok(self.start(started_at=started_at), 201)["session_id"])

    def log_set(self, session_id: str, performed_at: str) -> httpx.Response:
        return self.client.post(
            f"/sessions/{session_id}/sets", headers=self.me,
            json={"exercise_id": SQUAT, "reps": 5, "load": 100, "performed_at": performed_at})

    def end(self, session_id: str, ended_at: str) -> httpx.Response:
        return self.client.post(f"/sessions/{session_id}/end", headers=self.me,
                                json={"ended_at": ended_at, "session_rpe": 7})

    def observe(self, observed_at: str) -> httpx.Response:
        return self.client.post(
            f"/athletes/{self.id}/observations", headers=self.me,
            json={"metric": "resting_hr", "value": 52, "unit": "bpm", "observed_at": observed_at})


SET = {"exercise_id": SQUAT, "reps": 5, "load": 100}

#: Each entry point taking a local time: (athlete, local time) -> (response, field at fault).
Send = Callable[[Athlete, str], tuple[httpx.Response, str]]
ENTRY_POINTS: dict[str, Send] = {
    "session-start": lambda a, t: (a.start(started_at=t), "started_at"),
    "session-start-set": lambda a, t: (
        a.start(started_at="2026-03-29T00:00:00Z", sets=[{**SET, "performed_at": t}]),
        "sets[0].performed_at"),
    "session-start-end": lambda a, t: (
        a.start(started_at="2026-03-29T00:00:00Z", end={"ended_at": t}), "ended_at"),
    "set": lambda a, t: (a.log_set(a.open_session(), t), "performed_at"),
    "session-end": lambda a, t: (a.end(a.open_session(), t), "ended_at"),
    "observation": lambda a, t: (a.observe(t), "observed_at"),
    "events-since": lambda a, t: (
        a.client.get(f"/athletes/{a.id}/events", params={"since": t}, headers=a.me), "since"),
    "events-until": lambda a, t: (
        a.client.get(f"/athletes/{a.id}/events", params={"until": t}, headers=a.me), "until"),
}


# ------------------------------------------------------------------ the spring gap


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_local_time_in_the_spring_gap_is_refused_naming_the_gap(
    client: TestClient, runtime: Runtime, entry: str
) -> None:
    athlete = Athlete(client)
    send = ENTRY_POINTS[entry]
    before = log_position(runtime)
    if entry in ("set", "session-end"):
        before += 1  # the open session the set or end is for
    response, field = send(athlete, GAP)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": field, "message": GAP_REASON}]
    assert response.json()["detail"] == f"{field}: {GAP_REASON}"
    assert log_position(runtime) == before  # nothing recorded


def test_the_gap_is_named_in_the_athletes_own_zone(client: TestClient) -> None:
    athlete = Athlete(client, "America/New_York")
    response = athlete.start(started_at="2026-03-08T02:15:00")
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{
        "field": "started_at",
        "message": "2026-03-08T02:15 does not exist in America/New_York: "
                   "clocks went forward from 02:00 to 03:00"}]
    # the same wall time exists in London, and is as given there
    london = Athlete(client)
    started = ok(london.start(started_at="2026-03-08T02:15:00"), 201)["started_at"]
    assert at(started) == datetime(2026, 3, 8, 2, 15, tzinfo=UTC)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[TestClient]:
    workers = Workers(runtime).start()
    try:
        with TestClient(create_app(runtime)) as c:
            yield c
    finally:
        workers.stop()


def test_an_import_with_a_time_in_the_gap_is_rejected_naming_the_gap(
    served: TestClient, runtime: Runtime
) -> None:
    athlete = Athlete(served)
    sessions = [{"started_at": "2026-03-28T18:00:00Z", "sets": [SET]},
                {"started_at": GAP, "sets": [SET]}]
    before = log_position(runtime)
    r = served.post(f"/athletes/{athlete.id}/imports", json={"sessions": sessions},
                    headers=athlete.me)
    import_id = ok(r, 202)["import_id"]
    done = ok(served.get(f"/imports/{import_id}", params={"wait": 20}, headers=athlete.me))
    assert (done["status"], done["reason"]) == (
        "rejected", f"sessions[1].started_at: {GAP_REASON}")
    assert log_position(runtime) == before  # all or nothing


# ------------------------------------------------------------------ the autumn overlap


def test_a_local_time_that_happened_twice_is_its_first_occurrence(client: TestClient) -> None:
    athlete = Athlete(client)
    session = ok(athlete.start(started_at="2026-10-25T00:45:00", sets=[
        {**SET, "performed_at": TWICE}]), 201)
    assert at(session["sets"][0]["performed_at"]) == FIRST
    session = ok(athlete.start(started_at=TWICE, end={"ended_at": TWICE}), 201)
    assert at(session["started_at"]) == FIRST
    assert at(session["ended_at"]) == FIRST

    session_id = athlete.open_session("2026-10-25T00:00:00Z")
    logged = ok(athlete.log_set(session_id, TWICE), 201)
    assert at(logged["set"]["performed_at"]) == FIRST
    ended = ok(athlete.end(session_id, "2026-10-25T01:45:00"))
    assert at(ended["ended_at"]) == datetime(2026, 10, 25, 0, 45, tzinfo=UTC)

    assert at(ok(athlete.observe(TWICE), 201)["observed_at"]) == FIRST


def test_an_explicit_offset_picks_the_second_occurrence(client: TestClient) -> None:
    athlete = Athlete(client)
    second = ok(athlete.start(started_at="2026-10-25T01:30:00+00:00"), 201)["started_at"]
    assert at(second) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


# ------------------------------------------------------------------ other times


@pytest.mark.parametrize(("given", "instant"), [
    pytest.param("2026-03-29T00:59:00", datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
                 id="just-before-the-gap"),
    pytest.param("2026-03-29T02:00:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                 id="end-of-the-gap"),
    pytest.param("2026-07-01T18:00:00", datetime(2026, 7, 1, 17, 0, tzinfo=UTC),
                 id="summer"),
    pytest.param("2026-11-24T18:00:00", datetime(2026, 11, 24, 18, 0, tzinfo=UTC),
                 id="winter"),
    pytest.param("2026-03-29T01:30:00+00:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                 id="gap-wall-time-with-an-offset"),
    pytest.param("2026-03-29T01:30:00Z", datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                 id="gap-wall-time-in-utc"),
    pytest.param("2026-03-29T01:30:00-05:00", datetime(2026, 3, 29, 6, 30, tzinfo=UTC),
                 id="another-offset"),
])
def test_other_local_times_and_explicit_offsets_are_as_given(
    client: TestClient, given: str, instant: datetime
) -> None:
    athlete = Athlete(client)
    session = ok(athlete.start(started_at=given, sets=[{**SET, "performed_at": given}],
                               end={"ended_at": given}), 201)
    assert at(session["started_at"]) == instant
    assert at(session["sets"][0]["performed_at"]) == instant
    assert at(session["ended_at"]) == instant
    assert at(ok(athlete.observe(given), 201)["observed_at"]) == instant
    events = ok(client.get(f"/athletes/{athlete.id}/events", params={"until": given},
                           headers=athlete.me))
    assert events["total"] == 0  # recorded now, long after
