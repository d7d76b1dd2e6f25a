"""What the analytic views mean, read over HTTP on both stores, for histories built through
the API as an athlete would build them:

- strength records follow the time each set was performed, and one input gives one answer;
- the Brzycki e1RM, like Epley's, is taken on the reps to failure (RPE/RIR);
- a session keeps the day of the zone it was recorded in when the athlete moves;
- readiness: a criterion that cannot be judged says why and passes no verdict, the verdict
  reads as one sentence, a slot is recommended only when ready, and the current block, not
  an old imported session, decides when ACWR and form are judged;
- effort is compared like with like: shortened sessions and other sports drop out, and with
  nothing comparable the criterion is not judged;
- an e1RM goal stands at the best of the last 28 days, and a reached goal says so;
- a conversion is judged on complete weeks only.

Dates are relative to today, so the tests hold on any day.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support_views import Athlete, squat, without_ids

from services.domain.weeks import week_start

LINE = re.compile(r"(Not yet|Ready|Back off) — [^\n]*\.")


# ------------------------------------------------------------------ helpers


def ids_against_time(client: TestClient, record: Callable[[Athlete], list[str]]) -> Athlete:
    """A new athlete with ``record`` played; played again for another new athlete until the
    ids it returns (of sets or sessions, in time order) do not sort in time order, so that an
    order by ids could not pass for the order in time."""
    while True:
        a = Athlete(client)
        ids = record(a)
        if ids != sorted(ids):
            return a


def record_kinds(records: Iterable[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """(record, load of the set that made it, previous best), in the view's order."""
    return [(r["record"], r["set"]["load_kg"], r["previous"]) for r in records]


def records_of_rising_sets(loads: list[float]) -> list[tuple[str, float, float]]:
    """The records of sets of 5 at RPE 8 with rising loads, in order: each set after the
    first beats the one before on load, set volume and e1RM."""
    return [(kind, load, previous) for before, load in pairwise(loads)
            for kind, previous in (("heaviest_kg", before), ("set_volume_kg", 5 * before),
                                   ("e1rm_kg", epley(before, 7)))]


def epley(load: float, reps_to_failure: int) -> float:
    return round(load * (1 + reps_to_failure / 30), 2)


def ended_weeks(a: Athlete) -> date:
    """The first day after the athlete's complete weeks (readiness judges those)."""
    return week_start(a.today() + timedelta(days=1))


def train_every(a: Athlete, first: date, last: date, every: int = 2, sets: int = 5,
                **fields: Any) -> None:
    """A squat session at 10:00 on every ``every``-th day from ``first`` to ``last``."""
    day = first
    while day <= last:
        a.session(a.at(day, 10), [squat(100, rpe=None)] * sets, **fields)
        day += timedelta(days=every)


def train_weeks(a: Athlete, weeks: Iterable[int], objective_id: str, sets: int = 6,
                rpe: float = 7) -> None:
    """Training sessions for the objective on Monday, Wednesday and Friday of each week
    (weeks counted from the first incomplete one: -1 is the last complete week)."""
    for week in weeks:
        monday = ended_weeks(a) + timedelta(weeks=week)
        for offset in (0, 2, 4):
            a.session(a.at(monday + timedelta(days=offset), 10),
                      [squat(100, rpe=None)] * sets, rpe=rpe, objective_id=objective_id)


def assert_judged_or_why(criterion: dict[str, Any]) -> None:
    """A judged criterion has a verdict; one not judged says why and has none."""
    if criterion["judged"]:
        assert isinstance(criterion["passed"], bool), criterion
    else:
        assert "passed" not in criterion, criterion
        assert criterion["reason"], criterion


# ------------------------------------------------------------------ strength


def test_records_follow_the_order_sets_were_performed(client: TestClient) -> None:
    loads = [100, 105, 110, 115, 120, 125]

    def six_sets(a: Athlete) -> list[str]:
        start = a.at(a.today() - timedelta(days=1), 9)
        sets = [squat(load, performed_at=start + timedelta(minutes=5 * i))
                for i, load in enumerate(loads)]
        session = a.session(start, reversed(sets), minutes=45)  # listed last first
        by_load = {s["load_kg"]: s["set_id"] for s in session["sets"]}
        return [by_load[load] for load in loads]

    a = ids_against_time(client, six_sets)
    records = a.view("strength")["records"]
    assert record_kinds(records) == records_of_rising_sets(loads)
    e1rm = [r["value"] for r in records if r["record"] == "e1rm_kg"]
    assert e1rm == pytest.approx([epley(load, 7) for load in loads[1:]])


def test_sets_logged_without_a_time_keep_the_order_they_were_logged_in(client: TestClient,
                                                                       ) -> None:
    """A past session's sets logged without a time all count as performed at its start
    (the API's default), so the order they were logged in is the only order they have."""
    loads = [100, 105, 110, 115, 120, 125]

    def six_sets(a: Athlete) -> list[str]:
        session = a.session(a.at(a.today() - timedelta(days=1), 9),
                            [squat(load) for load in loads], minutes=45)
        return [s["set_id"] for s in session["sets"]]  # in the order logged

    a = ids_against_time(client, six_sets)
    assert record_kinds(a.view("strength")["records"]) == records_of_rising_sets(loads)


def test_records_of_one_day_follow_the_time_of_day(client: TestClient) -> None:
    def morning_and_evening(a: Athlete) -> list[str]:
        yesterday = a.today() - timedelta(days=1)
        a.session(a.at(yesterday - timedelta(days=1), 18), [squat(100)])  # the bar
        return [a.session(a.at(yesterday, 7), [squat(120)])["session_id"],
                a.session(a.at(yesterday, 19), [squat(125)])["session_id"]]

    a = ids_against_time(client, morning_and_evening)
    yesterday = a.today() - timedelta(days=1)
    heaviest = [r for r in a.view("strength")["records"] if r["record"] == "heaviest_kg"]
    assert record_kinds(heaviest) == [("heaviest_kg", 120.0, 100.0),
                                      ("heaviest_kg", 125.0, 120.0)]
    assert {r["set"]["day"] for r in heaviest} == {yesterday.isoformat()}


def test_one_history_gives_one_sequence_of_records(client: TestClient) -> None:
    """Two athletes log the same training (their sessions and sets get random ids)."""
    def history(a: Athlete) -> list[dict[str, Any]]:
        day = a.today() - timedelta(days=2)
        start = a.at(day, 8)
        a.session(start, [squat(load, performed_at=start + timedelta(minutes=4 * i))
                          for i, load in enumerate([90, 100, 95, 110, 105, 115])])
        a.session(a.at(day, 12), [squat(112.5, reps=6)])
        a.session(a.at(day, 18), [squat(117.5, reps=3, rpe=9)])
        return without_ids(a.view("strength")["records"])

    first, second = history(Athlete(client)), history(Athlete(client, name="Bo"))
    assert first == second
    assert len(first) >= 6


def test_brzycki_e1rm_is_taken_on_reps_to_failure(client: TestClient) -> None:
    a = Athlete(client)
    a.session(a.at(a.today() - timedelta(days=1), 9), [squat(100, reps=5, rpe=8)])

    squats = a.view("strength")["exercises"][0]
    # RPE 8: 2 reps in reserve, 7 reps to failure
    assert squats["best_e1rm_brzycki_kg"] == pytest.approx(120.0)  # 100 × 36 / (37 − 7)
    assert squats["best_e1rm_kg"] == pytest.approx(123.33)  # 100 × (1 + 7/30)


# ------------------------------------------------------------------ time zones


def test_a_session_keeps_the_day_of_the_zone_it_was_recorded_in(client: TestClient) -> None:
    a = Athlete(client, zone="Europe/London")
    day = a.today() - timedelta(days=3)
    a.session(f"{day}T23:30:00", [squat(100)], minutes=25)  # local time, in London

    def days() -> tuple[str, list[str]]:
        load = a.view("load")["sessions"]
        strength = a.view("strength")["exercises"][0]["e1rm_series"]
        return load[0]["day"], [point["day"] for point in strength]

    assert days() == (day.isoformat(), [day.isoformat()])
    a.post(f"/athletes/{a.id}/profile", {"timezone": "Asia/Tokyo"}, method="PATCH")
    assert days() == (day.isoformat(), [day.isoformat()])  # the next morning in Tokyo


# ------------------------------------------------------------------ readiness


def test_readiness_does_not_judge_what_it_cannot_yet(client: TestClient) -> None:
    a = Athlete(client)
    train_every(a, a.today() - timedelta(days=14), a.today() - timedelta(days=1))
    a.plan(a.week())  # a volume session ahead this week

    answer = a.view("readiness")
    acwr = next(c for c in answer["criteria"] if c["name"] == "acwr")
    assert "passed" not in acwr
    assert acwr["judged"] is False
    assert "28 days" in acwr["reason"]
    for criterion in answer["criteria"]:
        assert_judged_or_why(criterion)
    assert answer["verdict"] == "not yet"
    assert answer["recommended"] is None
    assert answer["line"].startswith("Not yet — ")
    assert LINE.fullmatch(answer["line"]), answer["line"]
    assert not re.search(r"\.\s", answer["line"]), answer["line"]  # one sentence


def test_readiness_recommends_a_session_when_ready(client: TestClient) -> None:
    a = Athlete(client)
    goal = a.goal(200)
    ended = ended_weeks(a)
    plans = {w: a.plan(ended + timedelta(weeks=w), goal) for w in range(-5, 2)}
    slots = {w: [s["planned_session_id"] for s in p["sessions"] if s["role"] == "training"]
             for w, p in plans.items()}
    day = ended - timedelta(weeks=5)
    while day < a.today():  # a session every day; Monday, Wednesday, Friday as planned
        week, weekday = divmod((day - ended).days, 7)
        link = ({"planned_session_id": slots[week][weekday // 2]} if weekday in (0, 2, 4)
                else {"planned_role": "unplanned"})  # else the slot rule fills a slot
        a.session(a.at(day, 10), [squat(100, rpe=None)] * 5, **link)
        day += timedelta(days=1)

    answer = a.view("readiness")
    assert answer["verdict"] == "ready", answer
    assert answer["recommended"] is not None
    assert answer["recommended"]["planned_session_id"] in {
        s["planned_session_id"] for p in plans.values() for s in p["sessions"]
        if s["role"] == "volume"}
    assert answer["line"].startswith("Ready — ")
    assert LINE.fullmatch(answer["line"]), answer["line"]
    for criterion in answer["criteria"]:
        assert_judged_or_why(criterion)

    # ready: the conversion needs no reason, and the event keeps the verdict
    slot = answer["recommended"]
    plan = a.post(f"/athletes/{a.id}/plans/{slot['week_start']}/sessions/"
                  f"{slot['planned_session_id']}/convert", {"objective_id": goal})
    converted = next(s for s in plan["sessions"]
                     if s["planned_session_id"] == slot["planned_session_id"])
    assert converted["conversion"] == {"readiness": "ready", "reason": None}


def test_an_old_imported_session_does_not_settle_the_current_block(client: TestClient,
                                                                  ) -> None:
    def athlete(old_session: bool) -> dict[str, dict[str, Any]]:
        a = Athlete(client)
        train_every(a, a.today() - timedelta(weeks=8), a.today() - timedelta(days=1))
        if old_session:
            a.session(a.at(a.today() - timedelta(days=730), 10), [squat(80, rpe=None)] * 5)
        criteria = a.view("readiness")["criteria"]
        return {c["name"]: c for c in criteria if c["name"] in ("acwr", "form_pct_of_ctl")}

    without, with_old = athlete(False), athlete(True)
    assert with_old == without
    assert without["acwr"]["judged"] is True  # 8 weeks: ACWR judged, form still building
    assert without["form_pct_of_ctl"]["judged"] is False


# ------------------------------------------------------------------ effort at like work


def test_a_session_shortened_for_life_does_not_fail_the_effort_trend(client: TestClient,
                                                                      ) -> None:
    a = Athlete(client)
    goal = a.goal(200)
    train_weeks(a, range(-5, 0), goal)  # 6 × 5 × 100 kg at RPE 7
    last_friday = ended_weeks(a) - timedelta(days=3)
    a.session(a.at(last_friday, 18), [squat(100, rpe=None)] * 3, rpe=6, minutes=30,
              objective_id=goal)  # half the work, on a busy day

    effort = a.criterion("session_rpe_trend")
    assert effort["passed"] is True, effort
    assert effort["judged"] is True
    assert effort["value"]["rpe_rise"] == 0


def test_a_run_among_strength_sessions_does_not_fail_the_effort_trend(client: TestClient,
                                                                       ) -> None:
    a = Athlete(client)
    squat_goal = a.goal(200)
    run_goal = str(a.post(f"/athletes/{a.id}/goals", {
        "title": "Run 5 km in 25 min", "direction": "decrease", "target_value": 25,
        "unit": "min", "metric": {"kind": "custom", "name": "run_5k_min"}})["goal_id"])
    train_weeks(a, range(-5, 0), squat_goal)
    a.session(a.at(ended_weeks(a) - timedelta(days=2), 9), rpe=6, minutes=40,
              sport="running", objective_id=run_goal)

    effort = a.criterion("session_rpe_trend")
    assert effort["passed"] is True, effort
    assert effort["judged"] is True
    assert effort["value"] == {"rpe_rise": 0, "sessions_compared": 3}


def test_effort_without_like_sessions_is_not_judged(client: TestClient) -> None:
    newcomer = Athlete(client)
    train_weeks(newcomer, [-1], newcomer.goal(200))
    stepped_up = Athlete(client)
    goal = stepped_up.goal(200)
    train_weeks(stepped_up, range(-5, -1), goal)
    train_weeks(stepped_up, [-1], goal, sets=10, rpe=9)  # far more work, no like session

    for a in (newcomer, stepped_up):
        effort = a.criterion("session_rpe_trend")
        assert "passed" not in effort, effort
        assert effort["judged"] is False
        assert effort["reason"]


# ------------------------------------------------------------------ goals


def test_an_e1rm_goal_stands_at_the_best_of_the_last_28_days(client: TestClient) -> None:
    a = Athlete(client)
    heavy_day = a.today() - timedelta(days=10)
    a.session(a.at(heavy_day, 9), [squat(140)])
    a.session(a.at(a.today() - timedelta(days=1), 9), [squat(100)])  # a light day
    a.goal(200, start_value=100)
    a.goal(150, start_value=100)

    ahead, reached = sorted(a.view("goals")["goals"], key=lambda g: -g["target_value"])
    heavy = epley(140, 7)
    assert ahead["current_value"] == pytest.approx(heavy)
    assert ahead["percent"] == pytest.approx(round(100 * (heavy - 100) / 100, 1))
    assert ahead["progress"] in ("on track", "off track")
    assert reached["current_value"] == pytest.approx(heavy)
    assert reached["progress"] == "reached"
    assert reached["on_track"] is not True
    assert reached["percent"] == pytest.approx(round(100 * (heavy - 100) / 50, 1))
    assert reached["projected_date"] == heavy_day.isoformat()  # the day it was met


# ------------------------------------------------------------------ conversions


def test_a_conversion_is_judged_on_complete_weeks(client: TestClient) -> None:
    a = Athlete(client)
    goal = a.goal(200)
    train_every(a, a.today() - timedelta(weeks=3), a.today() - timedelta(days=1))
    for weeks_ago in (2, 0):  # two runs of conversions: two weeks ago, and this week
        plan = a.plan(a.week(-weeks_ago))
        volume = next(s for s in plan["sessions"] if s["role"] == "volume")
        a.post(f"/athletes/{a.id}/plans/{plan['week_start']}/sessions/"
               f"{volume['planned_session_id']}/convert",
               {"objective_id": goal, "force": True, "reason": "the test's history"})

    earlier, this_week = a.view("readiness")["conversions"]
    assert earlier["week_start"] == a.week(-2).isoformat()
    assert [w["week_start"] for w in earlier["weeks_after"]] == [
        a.week(-2).isoformat(), a.week(-1).isoformat()]  # not the week under way
    assert earlier["response"] in ("coping", "struggling")
    assert this_week == {"week_start": a.week().isoformat(), "weeks_after": [],
                         "response": "too early"}
