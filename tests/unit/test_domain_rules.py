"""Domain rules without a store: profile history, idempotent commands, value checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.errors import InvalidValue, RequestKeyReused, StateConflict
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.validation import to_kg
from services.domain.weeks import week_start

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def ctx(request_id: str | None = None, fingerprint: str = "f", at: datetime = NOW) -> Context:
    return Context(Source("athlete", "a1"), request_id, fingerprint if request_id else None,
                   recorded_at=at, now=NOW)


def test_profile_as_it_was_on_a_day_even_when_a_change_is_back_dated() -> None:
    athlete = Athlete.register(ctx(at=NOW - timedelta(days=100)), {"name": "A",
                                                                  "body_mass_kg": 80.0})
    athlete.update_profile(ctx(), {"body_mass_kg": 78.0}, NOW - timedelta(days=10))
    # recorded later, but effective earlier: the 78 kg change still wins after day -10
    athlete.update_profile(ctx(), {"body_mass_kg": 79.0}, NOW - timedelta(days=50))
    assert athlete.profile_on(NOW - timedelta(days=99))["body_mass_kg"] == 80.0
    assert athlete.profile_on(NOW - timedelta(days=30))["body_mass_kg"] == 79.0
    assert athlete.profile_on(NOW)["body_mass_kg"] == 78.0
    assert athlete.profile["body_mass_kg"] == 78.0
    assert athlete.profile_on(NOW - timedelta(days=1000))["name"] == "A"


def started_session() -> TrainingSession:
    return TrainingSession.start(ctx(), "a1", NOW - timedelta(hours=1), "UTC")


def test_a_retried_command_is_applied_once_and_a_reused_key_is_refused() -> None:
    session = started_session()
    for _ in range(2):
        session.log_set(ctx("r1"), "s1", "squat.back_squats", 5, load_kg=100.0)
    session.log_set(ctx("r2"), "s2", "squat.back_squats", 5, load_kg=100.0)
    assert list(session.sets) == ["s1", "s2"]
    with pytest.raises(RequestKeyReused):
        session.log_set(ctx("r1", fingerprint="other"), "s3", "squat.back_squats", 3)


def test_a_forgotten_set_joins_an_ended_session_at_its_end() -> None:
    session = started_session()
    session.log_set(ctx(), "s1", "squat.back_squats", 5, performed_at=NOW - timedelta(minutes=30))
    ended_at = NOW - timedelta(minutes=10)
    session.end(ctx(), ended_at, 7.0)
    session.log_set(ctx(), "s2", "squat.back_squats", 5)
    assert session.sets["s2"]["performed_at"] == ended_at
    assert session.status == "ended"
    with pytest.raises(InvalidValue) as err:
        session.log_set(ctx(), "s3", "squat.back_squats", 5, performed_at=NOW)
    assert err.value.field == "performed_at"


def test_sets_are_refused_on_discarded_sessions_but_corrections_are_not_on_ended() -> None:
    session = started_session()
    session.log_set(ctx(), "s1", "squat.back_squats", 5, load_kg=100.0)
    session.end(ctx(), None, 7.0)
    session.amend_set(ctx(), "s1", {"reps": 4})
    assert session.sets["s1"]["reps"] == 4
    session.discard(ctx(), "duplicate")
    with pytest.raises(StateConflict):
        session.amend_set(ctx(), "s1", {"reps": 3})
    with pytest.raises(StateConflict):
        session.log_set(ctx(), "s2", "squat.back_squats", 5)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reps": -1}, "reps"), ({"reps": 1001}, "reps"), ({"load_kg": -0.5}, "load"),
        ({"load_kg": 1000.5}, "load"), ({"rpe": 10.5}, "rpe"), ({"rpe": 7.3}, "rpe"),
        ({"rpe": 0.5}, "rpe"), ({"rir": 11.0}, "rir"), ({"rpe": 8.0, "rir": 2.0}, "rir"),
        ({"tempo": "fast"}, "tempo"), ({"set_type": "heavy"}, "set_type"),
    ],
)
def test_bad_set_values_name_their_field(fields: dict[str, object], field: str) -> None:
    session = started_session()
    base: dict[str, object] = {"reps": 5, "load_kg": 100.0}
    with pytest.raises(InvalidValue) as err:
        session.log_set(ctx(), "s1", "squat.back_squats", **{**base, **fields})  # type: ignore[arg-type]
    assert err.value.field == field
    assert session.sets == {}
    assert len(session.pending_events) == 1  # only the start


def test_pounds_are_stored_as_kilograms() -> None:
    assert to_kg(225, "lb", "load") == pytest.approx(102.0583, abs=1e-4)
    with pytest.raises(InvalidValue):
        to_kg(10, "stone", "load_unit")


def test_weeks_start_on_the_athletes_first_day() -> None:
    wednesday = date(2026, 11, 25)
    assert week_start(wednesday) == date(2026, 11, 23)
    assert week_start(wednesday, "sunday") == date(2026, 11, 22)
    assert week_start(wednesday, "wednesday") == wednesday


def test_only_a_planned_volume_session_converts_to_training() -> None:
    plan = WeeklyPlan.plan(ctx(), "a1", date(2026, 11, 23),
                           [{"role": "training"}, {"role": "volume"}])
    training, volume = list(plan.sessions)
    with pytest.raises(InvalidValue):  # a training session serves an objective
        plan.convert_volume_session(ctx(), volume, None)
    with pytest.raises(StateConflict):  # not ready, and no reason to convert anyway
        plan.convert_volume_session(ctx(), volume, "g1", ("not yet", "Not yet — ACWR."))
    plan.convert_volume_session(ctx(), volume, "g1", ("not yet", "Not yet — ACWR."), "coach")
    assert plan.sessions[volume]["role"] == "training"
    assert plan.sessions[volume]["converted"] is True
    assert plan.sessions[volume]["conversion"] == {"readiness": "not yet", "reason": "coach"}
    with pytest.raises(StateConflict):
        plan.convert_volume_session(ctx(), training, "g1")


def test_a_retimed_session_keeps_its_sets_within_its_times() -> None:
    session = started_session()  # an hour ago
    session.log_set(ctx(), "s1", "squat.back_squats", 5, performed_at=NOW - timedelta(minutes=50))
    session.log_set(ctx(), "s2", "squat.back_squats", 5, performed_at=NOW - timedelta(minutes=5))
    later = NOW - timedelta(minutes=30)
    session.amend_details(ctx("r1"), {"started_at": later})  # open: the start only
    assert session.started_at == later
    assert session.sets["s1"]["performed_at"] == later  # before the start: placed at it
    assert session.sets["s2"]["performed_at"] == NOW - timedelta(minutes=5)
    with pytest.raises(StateConflict):
        session.amend_details(ctx(), {"duration_min": 20, "started_at": NOW - timedelta(hours=2)})
    session.end(ctx(), NOW, 7)
    end = NOW - timedelta(minutes=10)
    session.amend_details(ctx("r2"), {"ended_at": end, "notes": "late entry"})
    assert (session.ended_at, session.duration_min, session.notes) == (end, 20, "late entry")
    assert session.sets["s2"]["performed_at"] == end  # after the end: placed at it
    session.amend_details(ctx("r2"), {"ended_at": end, "notes": "late entry"})  # a retry
    with pytest.raises(InvalidValue, match="end before it started"):
        session.amend_details(ctx(), {"ended_at": NOW - timedelta(hours=3)})
    kinds = [type(e).__name__ for e in session.collect_events()]
    assert kinds.count("Retimed") == 2
