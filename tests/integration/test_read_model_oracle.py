"""The read model against the oracle: for random histories, every view served from the stored
tables equals the pure recompute from the folded aggregates (today and random ``on`` days),
however the events arrived (back-dated sessions, corrections, discards, profile changes with
an effective date and a time-zone move, settings, observations, another athlete's erasure,
sessions doing prescribed slots)
and whenever the reads settled it.  Live and rebuilt read models hash equal."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kafka_broker import publish_everything
from support_oracle import assert_rebuilt_equal, check_views, settle

from ingest.kafka_transport import KafkaTransport
from projections.kafka_feed import KafkaFeed
from services.config import Settings
from services.domain.base import Context, Source
from services.domain.errors import DomainError
from services.domain.weeks import local_day, week_start
from services.erasure import erase_athlete
from services.runtime import Runtime, open_runtime

EXERCISES = ("squat.back_squats", "bench_press.barbell_bench_press", "deadlift.barbell_deadlift")
EXAMPLES = {"sqlite": 200, "postgres": 25}


@pytest.fixture
def kafka_settings(settings: Settings, kafka_broker: Any) -> Settings:
    return replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                   events_topic=f"test.events.{os.urandom(4).hex()}")

#: mostly the last five months; sometimes years back (an old file), across year boundaries,
#: which the years' chunks of the long series (projections/chunks.py) follow
DAYS_AGO = st.one_of(st.integers(0, 150), st.integers(300, 1200))
ON_DAYS = st.one_of(st.integers(-30, 160), st.integers(300, 1300))  # days before today
session_action = st.fixed_dictionaries({
    "kind": st.just("session"), "days_ago": DAYS_AGO, "hour": st.integers(6, 21),
    "sets": st.lists(st.tuples(st.sampled_from(EXERCISES), st.integers(1, 12),
                               st.integers(20, 200), st.sampled_from([None, 7, 8, 9.5])),
                     max_size=5),
    "rpe": st.sampled_from([None, 5, 7, 8.5]), "minutes": st.integers(20, 90),
    "goal": st.booleans(), "plan": st.booleans()})
actions = st.one_of(
    session_action,
    st.fixed_dictionaries({"kind": st.just("amend"), "pick": st.integers(0, 99),
                           "load": st.integers(20, 220)}),
    st.fixed_dictionaries({"kind": st.just("discard"), "pick": st.integers(0, 99)}),
    st.fixed_dictionaries({"kind": st.just("retime"), "pick": st.integers(0, 99),
                           "shift_h": st.integers(-60, 30), "minutes": st.integers(10, 120)}),
    st.fixed_dictionaries({"kind": st.just("profile"), "days_ago": st.integers(0, 150),
                           "max_hr": st.integers(160, 200),
                           "timezone": st.sampled_from([None, "America/New_York",
                                                        "Asia/Tokyo"])}),
    st.fixed_dictionaries({"kind": st.just("settings"),
                           "model": st.sampled_from(["trainingpeaks", "goldencheetah"]),
                           "acwr": st.sampled_from(["ewma", "rolling_coupled",
                                                    "rolling_uncoupled"])}),
    st.fixed_dictionaries({"kind": st.just("observation"), "days_ago": st.integers(0, 120),
                           "metric": st.sampled_from(["resting_hr", "hrv_rmssd", "body_mass"]),
                           "value": st.integers(40, 90), "fix": st.sampled_from(
                               [None, "correct", "retract"])}),
    st.fixed_dictionaries({"kind": st.just("convert")}),
    st.fixed_dictionaries({"kind": st.just("other")}),
)
story = st.lists(st.tuples(actions, st.booleans()), min_size=1, max_size=24)


def _session(days_ago: int, plan: bool = False) -> dict[str, Any]:
    return {"kind": "session", "days_ago": days_ago, "hour": 9, "rpe": 7, "minutes": 60,
            "sets": [(EXERCISES[0], 5, 100, None)], "goal": True, "plan": plan}


#: cases the property test found, kept
FOUND = [
    # a plan's slots keep their order (the missed list is in plan order): states stored as
    # JSON with sorted keys reordered them
    ([(_session(0, plan=True), False)], [0, 0, 0]),
    # the last session discarded: the load series must end at the new last session (stale
    # days were left between it and the discarded one's day)
    ([(_session(5), True), (_session(2), True), ({"kind": "discard", "pick": 1}, True)],
     [0, 3, 6]),
    # the long series' years (projections/chunks.py): sessions in three years, the last
    # year's only one discarded (the series' last year moves back), then one two years back
    ([(_session(800), True), (_session(400), True), (_session(3), True),
      ({"kind": "discard", "pick": 2}, True), (_session(700), True)], [0, 380, 790]),
    # a session doing a prescribed slot (the first of the week's: every other is prescribed)
    ([({**_session(0, plan=True), "hour": 8}, False)], [0, 7, 0]),
]


class Story:
    """Plays actions for one new athlete through the application."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.app = rt.app
        self.now = datetime.now(UTC)
        athlete = self.app.register_athlete(self.ctx(), {
            "name": "Oracle", "max_hr": 185, "resting_hr": 55, "sex": "female",
            "timezone": "Europe/London"})
        self.athlete_id = str(athlete.id)
        self.goal = str(self.app.set_goal(
            self.ctx(), self.athlete_id, title="Squat", direction="increase",
            metric={"kind": "e1rm", "exercise_id": EXERCISES[0]}, target_value=150.0,
            unit="kg", deadline=None).id)
        self.sessions: list[str] = []
        self.sets: list[tuple[str, str]] = []

    def ctx(self) -> Context:
        return Context(Source("admin"))

    def play(self, action: dict[str, Any]) -> None:
        with contextlib.suppress(DomainError):  # refused by the write side: nothing recorded
            getattr(self, action["kind"])(action)

    def session(self, a: dict[str, Any]) -> None:
        zone = self.app.athlete(self.athlete_id).profile["timezone"]
        day = local_day(self.now, zone) - timedelta(days=a["days_ago"])
        start = datetime(day.year, day.month, day.day, a["hour"], tzinfo=UTC)
        start = min(start, self.now - timedelta(hours=2))
        slot = None
        if a["plan"]:
            monday = week_start(local_day(start, zone))
            try:
                plan = self.app.plan(self.athlete_id, monday)
            except DomainError:
                plan = self.app.plan_week(self.ctx(), self.athlete_id, monday,
                                          objective_ids=[self.goal] * 3)
                self.prescribe(monday, sorted(plan.sessions))
            slot = sorted(plan.sessions)[a["hour"] % len(plan.sessions)]
        sets = [{"exercise_id": ex, "reps": reps, "load": load, "load_unit": "kg",
                 **({"rpe": rpe} if rpe else {})} for ex, reps, load, rpe in a["sets"]]
        session = self.app.start_session(
            self.ctx(), self.athlete_id, start, planned_session_id=slot,
            objective_id=self.goal if a["goal"] and not slot else None, sets=sets,
            end={"ended_at": start + timedelta(minutes=a["minutes"]),
                 "session_rpe": a["rpe"]})
        self.sessions.append(str(session.id))
        self.sets += [(str(session.id), k) for k in session.sets]

    def prescribe(self, monday: date, slots: list[str]) -> None:
        """Every other slot prescribed: the execution view reports what its session did."""
        for i, slot in enumerate(slots[::2]):
            self.app.prescribe_planned_session(self.ctx(), self.athlete_id, monday, slot, [
                {"kind": "strength", "exercise_id": EXERCISES[i % 2], "sets": 2, "reps": 5,
                 "load": 100, "load_unit": "kg"},
                {"kind": "strength", "exercise_id": EXERCISES[2], "sets": 1, "reps": 3}])

    def amend(self, a: dict[str, Any]) -> None:
        if self.sets:
            session_id, set_id = self.sets[a["pick"] % len(self.sets)]
            self.app.amend_set(self.ctx(), session_id, set_id, {"load": float(a["load"])},
                               load_unit="kg")

    def retime(self, a: dict[str, Any]) -> None:
        """The real start and end: hours earlier or later (days too), sets follow."""
        if self.sessions:
            session_id = self.sessions[a["pick"] % len(self.sessions)]
            start = self.app.session(session_id).started_at + timedelta(hours=a["shift_h"])
            self.app.amend_session(self.ctx(), session_id, {
                "started_at": start, "ended_at": start + timedelta(minutes=a["minutes"])})

    def discard(self, a: dict[str, Any]) -> None:
        if self.sessions:
            self.app.discard_session(self.ctx(), self.sessions[a["pick"] % len(self.sessions)],
                                     "test")

    def profile(self, a: dict[str, Any]) -> None:
        changes: dict[str, Any] = {"max_hr": a["max_hr"]}
        if a["timezone"]:
            changes["timezone"] = a["timezone"]
        self.app.update_profile(self.ctx(), self.athlete_id, changes,
                                self.now - timedelta(days=a["days_ago"]))

    def settings(self, a: dict[str, Any]) -> None:
        self.app.change_settings(self.ctx(), self.athlete_id,
                                 {"fatigue_model": a["model"], "acwr_method": a["acwr"]})

    def observation(self, a: dict[str, Any]) -> None:
        unit = {"resting_hr": "bpm", "hrv_rmssd": "ms", "body_mass": "kg"}[a["metric"]]
        obs = self.app.record_observation(self.ctx(), self.athlete_id, a["metric"],
                                          float(a["value"]), unit,
                                          self.now - timedelta(days=a["days_ago"], hours=3))
        if a["fix"] == "correct":
            self.app.correct_observation(self.ctx(), str(obs.id), float(a["value"]) + 1, unit,
                                         None)
        elif a["fix"] == "retract":
            self.app.retract_observation(self.ctx(), str(obs.id), None)

    def convert(self, a: dict[str, Any]) -> None:
        monday = week_start(local_day(self.now, "UTC"))
        try:
            plan = self.app.plan(self.athlete_id, monday)
        except DomainError:
            plan = self.app.plan_week(self.ctx(), self.athlete_id, monday,
                                      objective_ids=[self.goal] * 3)
            self.prescribe(monday, sorted(plan.sessions))
        volume = [k for k, s in plan.sessions.items() if s["role"] == "volume"]
        if volume:
            self.app.convert_volume_session(self.ctx(), self.athlete_id, monday, volume[0],
                                            self.goal)

    def other(self, a: dict[str, Any]) -> None:
        other = self.app.register_athlete(self.ctx(), {"name": "Other"})
        self.app.start_session(self.ctx(), str(other.id), self.now - timedelta(days=3),
                               sets=[{"exercise_id": EXERCISES[0], "reps": 5, "load": 100,
                                      "load_unit": "kg"}])
        erase_athlete(self.rt, str(other.id))


def test_the_read_model_equals_the_oracle(runtime: Runtime, request: pytest.FixtureRequest,
                                          ) -> None:
    store = request.node.callspec.params["runtime"]

    @settings(max_examples=EXAMPLES[store], deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(story, st.lists(ON_DAYS, min_size=3, max_size=3))
    @example(*FOUND[0])
    @example(*FOUND[1])
    @example(*FOUND[2])
    @example(*FOUND[3])
    def run(steps: list[tuple[dict[str, Any], bool]], days: list[int]) -> None:
        examples.append(len(steps))
        played = Story(runtime)
        for action, read_now in steps:
            played.play(action)
            if read_now:  # a read between writes settles what is there so far
                settle(runtime, played.athlete_id)
        prescribed.append(check_views(runtime, played.athlete_id, days))

    examples: list[int] = []
    prescribed: list[int] = []
    run()
    assert len(examples) >= EXAMPLES[store], len(examples)
    assert any(prescribed)  # some histories had prescribed slots done
    runtime.feed.catch_up_all()
    runtime.feed.idle()
    assert_rebuilt_equal(runtime)


@pytest.mark.kafka
def test_the_read_model_fed_by_kafka_equals_the_oracle(kafka_settings: Settings) -> None:
    """The same, with the read model fed from the topic by its consumer group."""
    rt = open_runtime(kafka_settings)
    bootstrap, topic = kafka_settings.kafka_bootstrap, kafka_settings.events_topic
    assert bootstrap
    model = rt.views["training"]
    feed = KafkaFeed(rt.app, rt.tables, KafkaTransport(bootstrap, rt.keys), model, topic)

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(story, st.lists(ON_DAYS, min_size=3, max_size=3))
    def run(steps: list[tuple[dict[str, Any], bool]], days: list[int]) -> None:
        examples.append(len(steps))
        played = Story(rt)
        for action, _ in steps:
            played.play(action)
        publish_everything(rt, bootstrap, topic)
        deadline = time.monotonic() + 30
        while rt.view_lag()[model.name] > 0:
            assert time.monotonic() < deadline, "the consumer group did not catch up"
            feed.poll_once(timeout_ms=200)
            model.idle(rt.tables)  # as the feed's run loop does after each poll
        check_views(rt, played.athlete_id, days, catch_up=False)

    examples: list[int] = []
    try:
        run()
    finally:
        feed.close()
        rt.close()
    assert len(examples) >= 25, len(examples)
