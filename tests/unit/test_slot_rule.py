"""The slot-matching rule (:func:`services.slots.match_slot`): worked examples, then the
properties every answer keeps, on generated weeks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.slots import match_slot

MONDAY = date(2026, 11, 23)


def slot(key: str, day: int | None, role: str = "training", sport: str | None = None,
         cancelled: bool = False) -> dict[str, Any]:
    return {"planned_session_id": key, "role": role, "sport": sport, "cancelled": cancelled,
            "day": (MONDAY + timedelta(days=day)).isoformat() if day is not None else None}


def picked(slots: list[dict[str, Any]], day: int, sport: str = "running",
           role: str | None = None, taken: tuple[str, ...] = ()) -> str | None:
    found = match_slot(slots, MONDAY + timedelta(days=day), sport, role, taken)
    return found["planned_session_id"] if found else None


def test_same_day_and_sport_comes_first() -> None:
    week = [slot("any", 2), slot("run", 2, sport="running"), slot("ride", 2, sport="cycling")]
    assert picked(week, 2) == "run"


def test_then_the_same_day_without_a_sport() -> None:
    week = [slot("ride", 2, sport="cycling"), slot("any", 2)]
    assert picked(week, 2) == "any"


def test_a_slot_for_another_sport_never_matches() -> None:
    assert picked([slot("ride", 2, sport="cycling"), slot("ride0", 0, sport="cycling")],
                  2) is None


def test_a_late_session_fills_the_earliest_open_slot_before_it() -> None:
    week = [slot("wed", 2), slot("mon", 0), slot("tue", 1), slot("sat", 5)]
    assert picked(week, 4) == "mon"
    assert picked(week, 4, taken=("mon",)) == "tue"
    assert picked(week, 4, taken=("mon", "tue", "wed")) is None  # never a later day


def test_the_same_day_beats_a_missed_earlier_slot() -> None:
    assert picked([slot("mon", 0), slot("thu", 3)], 3) == "thu"


def test_role_narrows_every_step() -> None:
    week = [slot("vol", 0, role="volume"), slot("train", 1), slot("vol-thu", 3, role="volume")]
    assert picked(week, 3, role="training") == "train"
    assert picked(week, 3, role="volume") == "vol-thu"
    assert picked(week, 4, role="volume") == "vol"


def test_cancelled_and_filled_slots_are_not_open() -> None:
    week = [slot("mon", 0, cancelled=True), slot("tue", 1)]
    assert picked(week, 1) == "tue"
    assert picked(week, 1, taken=("tue",)) is None


def test_a_slot_without_a_day_is_open_all_week_but_after_a_same_day_one() -> None:
    week = [slot("someday", None), slot("thu", 3)]
    assert picked(week, 3) == "thu"
    assert picked(week, 4, taken=("thu",)) == "someday"
    assert picked(week, 0) == "someday"


SPORTS = ("running", "cycling", "strength_training")
slots_strategy = st.lists(
    st.builds(slot, st.uuids().map(str), st.one_of(st.none(), st.integers(0, 6)),
              st.sampled_from(("training", "volume")), st.one_of(st.none(),
                                                                 st.sampled_from(SPORTS)),
              st.booleans()),
    max_size=12, unique_by=lambda s: s["planned_session_id"])


@given(slots_strategy, st.integers(0, 6), st.sampled_from(SPORTS),
       st.one_of(st.none(), st.sampled_from(("training", "volume"))), st.data())
def test_every_answer_is_an_open_fitting_slot_of_that_day_or_before(
        week: list[dict[str, Any]], day: int, sport: str, role: str | None,
        data: st.DataObject) -> None:
    taken = data.draw(st.sets(st.sampled_from([s["planned_session_id"] for s in week]))
                      if week else st.just(set()))
    found = match_slot(week, MONDAY + timedelta(days=day), sport, role, taken)
    today = (MONDAY + timedelta(days=day)).isoformat()
    fitting = [s for s in week if not s["cancelled"] and s["planned_session_id"] not in taken
               and s["sport"] in (None, sport) and role in (None, s["role"])]
    if found is None:
        assert all(s["day"] is not None and s["day"] > today for s in fitting)
        return
    assert found in fitting
    assert found["day"] is None or found["day"] <= today
    same_day = [s for s in fitting if s["day"] == today]
    if same_day:
        assert found["day"] == today
        if any(s["sport"] == sport for s in same_day):
            assert found["sport"] == sport
    else:  # late: the earliest one
        assert all((found["day"] or "") <= (s["day"] or "") for s in fitting
                   if (s["day"] or "") < today)


@given(slots_strategy, st.lists(st.tuples(st.integers(0, 6), st.sampled_from(SPORTS)),
                                max_size=15))
def test_sessions_logged_in_turn_never_share_a_slot(
        week: list[dict[str, Any]], sessions: list[tuple[int, str]]) -> None:
    taken: list[str] = []
    for day, sport in sessions:
        found = match_slot(week, MONDAY + timedelta(days=day), sport, None, taken)
        if found is not None:
            taken.append(found["planned_session_id"])
    assert len(taken) == len(set(taken))
