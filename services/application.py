"""The write side's application: commands in, events into the store.

Every command takes a :class:`~services.domain.base.Context` (who, when, idempotency key,
which athletes the caller may touch) and either records new events or raises a
:class:`~services.domain.errors.DomainError`.  Optimistic concurrency: when another writer
appended to the same aggregate first, the command is re-run on the fresh state, a few
times, before giving up with :class:`ConcurrencyConflict`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar, overload
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.persistence import IntegrityError

from services.commands import ImportCommand, ImportOutcome, SessionCommand
from services.domain.athlete import Athlete
from services.domain.base import Context, Source, TrainingAggregate
from services.domain.coach import Coach
from services.domain.errors import DomainError, InvalidValue, NotFound, StateConflict
from services.domain.exercises import get_exercise, is_custom_exercise_id, new_custom_exercise_id
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import (
    WeeklyPlan,
    plan_id_for,
    slot_serial,
    template_slots,
    week_template,
    workout_created_at,
)
from services.domain.prescription import session_step_report, steps_in_kg
from services.domain.session import TIME_FIELDS, TrainingSession
from services.domain.validation import check_aware, to_kg
from services.domain.weeks import local_day, week_start
from services.keyed_mapper import AthleteKeyMapper, owner_of
from services.keyring import KeyErased
from services.same_activity import activity_keys, same_activity, supersedes
from services.shared_transaction import SharedTransaction, install
from services.slots import match_slot

T = TypeVar("T", bound=TrainingAggregate)


@overload
def in_zone(moment: datetime, timezone: str, field: str) -> datetime: ...
@overload
def in_zone(moment: None, timezone: str, field: str) -> None: ...
def in_zone(moment: datetime | None, timezone: str, field: str) -> datetime | None:
    """A time without an offset is read in the athlete's time zone (one with an offset is kept).

    A local time the clocks skipped (spring forward) does not exist: :class:`InvalidValue` on
    ``field``, naming the gap.  One they went through twice (autumn back) is its first
    occurrence (``fold=0``): the earlier instant, on the offset before the change."""
    if moment is None or moment.tzinfo is not None:
        return moment
    zone = ZoneInfo(timezone)
    local = moment.replace(tzinfo=zone, fold=0)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise InvalidValue(_gap(moment, zone, timezone), field)
    return local


def _gap(moment: datetime, zone: ZoneInfo, timezone: str) -> str:
    """Why ``moment`` (naive, in a gap of ``zone``) does not exist: the clocks' change."""
    before = moment.replace(tzinfo=zone, fold=0).utcoffset()
    after = moment.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None
    assert after is not None
    # The change is between these instants (UTC seconds): still ``before`` at lo, not at hi.
    wall = moment.replace(tzinfo=UTC).timestamp()
    lo, hi = int(wall - after.total_seconds()), int(wall - before.total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if datetime.fromtimestamp(mid, zone).utcoffset() == before else (
            lo, mid)
    change = datetime.fromtimestamp(hi, UTC).replace(tzinfo=None)
    return (f"{_wall(moment)} does not exist in {timezone}: clocks went forward from "
            f"{_wall(change + before, moment.date())} to {_wall(change + after, moment.date())}")


def _wall(t: datetime, day: date | None = None) -> str:
    """A wall-clock time to the minute (finer if it has seconds); without its date on ``day``."""
    text = t.isoformat(timespec="minutes" if t.second == t.microsecond == 0 else "auto")
    return text[11:] if t.date() == day else text


MAX_ATTEMPTS = 8
WRITE_LOCK_STRIPES = 64


class ConcurrencyConflict(StateConflict):
    """Other writers kept changing the aggregate; the client may retry (HTTP 409)."""


class Access:
    """Which athletes a caller may write (``None`` = all, for the admin and the system)."""

    def __init__(self, athlete_ids: frozenset[str] | None) -> None:
        self.athlete_ids = athlete_ids

    def check(self, athlete_id: str, what: str) -> None:
        if self.athlete_ids is not None and athlete_id not in self.athlete_ids:
            raise NotFound(f"no such {what}")


ANYONE = Access(None)


def prescriptions_in_kg(slots: list[dict[str, Any]], athlete: Athlete,
                        ) -> list[dict[str, Any]]:
    """Slots of a plan or template (``sessions[i]``) with their prescriptions' loads in kg
    (``steps_in_kg``, in the athlete's mass unit unless a step names its own)."""
    return [{**slot, "prescription": steps_in_kg(slot.get("prescription"),
                                                 athlete.profile["mass_unit"],
                                                 f"sessions[{i}].prescription")}
            for i, slot in enumerate(slots)]


def void(_: object) -> None:
    """Drop a command's answer (``_change`` commands return nothing)."""


class TrainingLog(Application[UUID]):
    """Commands of the training log.  ``access`` defaults to unrestricted (CLI, importers)."""

    mapper: AthleteKeyMapper  # construct_mapper makes one

    name = "trainledger"
    # Keep recently used aggregates in memory; each read still fast-forwards them with the
    # events stored since (one query), so other processes' writes are always seen.
    # Measured with bench/write.py: +33-37% set-logging throughput.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # Writers of one aggregate in this process take turns (optimistic retries stay for
        # other processes): without this, a few threads on one session spin on reloads
        # until MAX_ATTEMPTS and answer 409.
        self._write_locks = tuple(threading.Lock() for _ in range(WRITE_LOCK_STRIPES))
        #: called after every save, e.g. to wake the projection feed and the relay
        self.on_saved: list[Callable[[], None]] = []
        #: group commit (:mod:`services.shared_transaction`): while open, saves are woken once
        #: it commits
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        self.shared: SharedTransaction = install(datastore)

    def construct_mapper(self) -> AthleteKeyMapper:
        return AthleteKeyMapper(transcoder=self.construct_transcoder())

    @property
    def keyed_mapper(self) -> AthleteKeyMapper:
        assert isinstance(self.mapper, AthleteKeyMapper)
        return self.mapper

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save aggregates; the mapper learns whose key protects each one's events."""
        for obj in objs:
            if isinstance(obj, TrainingAggregate):
                self.keyed_mapper.remember(obj.id, owner_of(obj))
        return super().save(*objs, **kwargs)

    def _notify(self, recordings: list[Any]) -> None:
        if not self.shared.is_open():  # nothing is visible before the shared commit
            self.wake()

    def forget_cached(self) -> None:
        """Drop the aggregates kept in memory: after a rollback they may hold states that
        were never committed."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(cache.maxsize)

    def wake(self) -> None:
        """Tell the feed and the relay that events were committed."""
        for wake in self.on_saved:
            wake()

    # ------------------------------------------------------------- plumbing

    def load(self, cls: type[T], aggregate_id: UUID | str, what: str) -> T:
        try:
            uid = aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))
            agg: object = self.repository.get(uid)
        except (AggregateNotFoundError, ValueError, KeyErased):
            raise NotFound(f"no such {what}") from None
        if not isinstance(agg, cls):
            raise NotFound(f"no such {what}")
        return agg

    def load_owned(self, cls: type[T], aggregate_id: UUID | str, what: str, access: Access) -> T:
        agg = self.load(cls, aggregate_id, what)
        access.check(str(getattr(agg, "athlete_id", agg.id)), what)
        return agg

    def _change(
        self,
        cls: type[T],
        aggregate_id: UUID | str,
        what: str,
        access: Access,
        command: Callable[[T], None],
    ) -> T:
        lock = self._write_locks[hash(str(aggregate_id)) % WRITE_LOCK_STRIPES]
        with lock:
            for _ in range(MAX_ATTEMPTS):
                agg = self.load_owned(cls, aggregate_id, what, access)
                command(agg)
                if not agg.pending_events:
                    return agg
                try:
                    self.save(agg)
                except IntegrityError:
                    continue
                return agg
        raise ConcurrencyConflict(f"the {what} is being changed by someone else; retry")

    @staticmethod
    def id_for(kind: str, request_id: str) -> UUID:
        """The id of the aggregate of ``kind`` that the request ``request_id`` creates."""
        return uuid5(NAMESPACE_URL, f"trainledger:{kind}:{request_id}")

    def _create(self, cls: type[T], kind: str, ctx: Context, make: Callable[[UUID | None], T]) -> T:
        """Create an aggregate; with an idempotency key its id is derived from the key."""
        if ctx.request_id is None:
            agg = make(None)
            self.save(agg)
            return agg
        agg_id = self.id_for(kind, ctx.request_id)
        for _ in range(2):
            try:
                existing = self.load(cls, agg_id, kind)
            except NotFound:
                agg = make(agg_id)
                try:
                    self.save(agg)
                except IntegrityError:
                    continue  # a concurrent retry created it first
                return agg
            existing.seen_request(ctx)  # raises if the key was used for another request
            return existing
        return self.load(cls, agg_id, kind)

    # ------------------------------------------------------------- athletes & coaches

    def register_athlete(self, ctx: Context, profile: dict[str, Any]) -> Athlete:
        return self._create(
            Athlete, "athlete", ctx, lambda i: Athlete.register(ctx, profile, athlete_id=i)
        )

    def athlete(self, athlete_id: UUID | str) -> Athlete:
        return self.load(Athlete, athlete_id, "athlete")

    def update_profile(
        self,
        ctx: Context,
        athlete_id: str,
        changes: dict[str, Any],
        effective_at: datetime | None = None,
        access: Access = ANYONE,
    ) -> Athlete:
        if effective_at is not None:
            check_aware(effective_at, "effective_at")
        return self._change(
            Athlete,
            athlete_id,
            "athlete",
            access,
            lambda a: a.update_profile(ctx, changes, effective_at),
        )

    def change_settings(
        self, ctx: Context, athlete_id: str, changes: dict[str, Any], access: Access = ANYONE
    ) -> Athlete:
        return self._change(
            Athlete, athlete_id, "athlete", access, lambda a: a.change_settings(ctx, changes)
        )

    def register_coach(self, ctx: Context, name: str) -> Coach:
        return self._create(Coach, "coach", ctx, lambda i: Coach.register(ctx, name, coach_id=i))

    def coach(self, coach_id: UUID | str) -> Coach:
        return self.load(Coach, coach_id, "coach")

    def grant_coach(
        self, ctx: Context, athlete_id: str, coach_id: str, access: Access = ANYONE
    ) -> Athlete:
        self.coach(coach_id)
        return self._change(
            Athlete, athlete_id, "athlete", access, lambda a: a.grant_coach(ctx, str(coach_id))
        )

    def revoke_coach(
        self, ctx: Context, athlete_id: str, coach_id: str, access: Access = ANYONE
    ) -> Athlete:
        return self._change(
            Athlete, athlete_id, "athlete", access, lambda a: a.revoke_coach(ctx, str(coach_id))
        )

    def grant_planning(self, ctx: Context, athlete_id: str, coach_id: str,
                       access: Access = ANYONE) -> Athlete:
        """Let a coach with read access plan: plans, objectives, conversions."""
        return self._change(Athlete, athlete_id, "athlete", access,
                            lambda a: a.grant_planning(ctx, coach_id))

    def revoke_planning(self, ctx: Context, athlete_id: str, coach_id: str,
                        access: Access = ANYONE) -> Athlete:
        return self._change(Athlete, athlete_id, "athlete", access,
                            lambda a: a.revoke_planning(ctx, coach_id))

    def comment_on_session(self, ctx: Context, session_id: str, text: str) -> TrainingSession:
        """A comment on a session (access checked by the caller: anyone who may read it)."""
        return self._change(TrainingSession, session_id, "session", ANYONE,
                            lambda t: void(t.add_comment(ctx, text)))

    def comment_on_week(self, ctx: Context, athlete_id: str, week_start_day: date,
                        text: str) -> WeeklyPlan:
        """A comment on a planned week (access checked by the caller)."""
        return self._change(WeeklyPlan, plan_id_for(athlete_id, week_start_day), "plan", ANYONE,
                            lambda p: void(p.add_comment(ctx, text)))

    def define_exercise(
        self, ctx: Context, athlete_id: str, name: str, category: str, access: Access = ANYONE
    ) -> str:
        if get_exercise(category) is None or "." in category:
            raise InvalidValue("category must be a catalogue category id, e.g. squat", "category")
        exercise_id = (
            f"custom:{uuid5(NAMESPACE_URL, ctx.request_id).hex}"
            if ctx.request_id
            else new_custom_exercise_id()
        )
        athlete = self._change(
            Athlete,
            athlete_id,
            "athlete",
            access,
            lambda a: a.define_exercise(ctx, exercise_id, name, category),
        )
        if exercise_id not in athlete.custom_exercises:  # a retry: find what it created
            return next(eid for eid, e in athlete.custom_exercises.items() if e["name"] == name)
        return exercise_id

    def resolve_exercise(self, athlete: Athlete, exercise_id: str) -> str:
        if not isinstance(exercise_id, str):
            raise InvalidValue("must be an exercise id", "exercise_id")
        if is_custom_exercise_id(exercise_id):
            if exercise_id in athlete.custom_exercises:
                return exercise_id
        elif get_exercise(exercise_id) is not None:
            return exercise_id
        raise InvalidValue(f"unknown exercise id {exercise_id!r}", "exercise_id")

    # ------------------------------------------------------------- goals

    def set_goal(
        self, ctx: Context, athlete_id: str, access: Access = ANYONE, **fields: Any
    ) -> Goal:
        access.check(athlete_id, "athlete")
        athlete = self.athlete(athlete_id)
        metric = fields["metric"]
        if metric.get("kind") == "e1rm" and metric.get("exercise_id"):
            self.resolve_exercise(athlete, metric["exercise_id"])
        today = local_day(ctx.recorded_at or ctx.now, athlete.profile["timezone"])
        return self._create(
            Goal, "goal", ctx,
            lambda i: Goal.set(ctx, athlete_id, goal_id=i, today=today, **fields),
        )

    def revise_goal(
        self,
        ctx: Context,
        goal_id: str,
        changes: dict[str, Any],
        access: Access = ANYONE,
        has_values: bool = False,
    ) -> Goal:
        """Revise a goal; ``has_values``: its metric has values (then it stays as it is)."""
        goal = self.load(Goal, goal_id, "goal")
        access.check(goal.athlete_id, "goal")
        athlete = self.athlete(goal.athlete_id)
        metric = changes.get("metric") or {}
        if metric.get("kind") == "e1rm" and metric.get("exercise_id"):
            self.resolve_exercise(athlete, metric["exercise_id"])
        set_on = local_day(goal.created_on, athlete.profile["timezone"])
        return self._change(
            Goal, goal_id, "goal", access, lambda g: g.revise(ctx, changes, set_on, has_values)
        )

    def achieve_goal(
        self,
        ctx: Context,
        goal_id: str,
        value: float | None,
        note: str | None,
        access: Access = ANYONE,
    ) -> Goal:
        return self._change(Goal, goal_id, "goal", access, lambda g: g.achieve(ctx, value, note))

    def abandon_goal(
        self, ctx: Context, goal_id: str, reason: str | None, access: Access = ANYONE
    ) -> Goal:
        return self._change(Goal, goal_id, "goal", access, lambda g: g.abandon(ctx, reason))

    def _check_objective(self, athlete_id: str, objective_id: str | None, field: str) -> None:
        if objective_id is None:
            return
        try:
            goal = self.load(Goal, objective_id, "goal")
        except NotFound:
            raise InvalidValue("unknown objective (goal) id", field) from None
        if goal.athlete_id != athlete_id:
            raise InvalidValue("unknown objective (goal) id", field)

    # ------------------------------------------------------------- plans

    def plan_week(
        self,
        ctx: Context,
        athlete_id: str,
        week_start_day: date,
        slots: list[dict[str, Any]] | None = None,
        objective_ids: list[str] | None = None,
        access: Access = ANYONE,
        repeat_from: date | None = None,
    ) -> WeeklyPlan:
        """Plan a week: ``slots``, or the sessions of the week starting ``repeat_from``, or
        the athlete's template (default: training on days 1, 3, 5 and volume on day 6), its
        training sessions without an objective tied in order to ``objective_ids``."""
        access.check(athlete_id, "athlete")
        athlete = self.athlete(athlete_id)
        first_day = athlete.profile["first_day_of_week"]
        if week_start(week_start_day, first_day) != week_start_day:
            raise InvalidValue(f"the athlete's weeks start on {first_day}", "week_start")
        if slots is not None and repeat_from is not None:
            raise InvalidValue("give the sessions or a week to repeat, not both", "repeat_from")
        if repeat_from is not None:
            slots = self._repeated_slots(athlete_id, repeat_from, week_start_day)
        elif slots is None:
            slots = template_slots(week_template(athlete), week_start_day, objective_ids)
        for i, slot in enumerate(slots):
            self._check_objective(
                athlete_id, slot.get("objective_id"), f"sessions[{i}].objective_id"
            )
        slots = prescriptions_in_kg(slots, athlete)
        plan_id = plan_id_for(athlete_id, week_start_day)
        try:
            existing = self.load(WeeklyPlan, plan_id, "plan")
        except NotFound:
            plan = WeeklyPlan.plan(ctx, athlete_id, week_start_day, slots,
                                   athlete.knows_exercise)
            try:
                self.save(plan)
            except IntegrityError:
                raise StateConflict("this week is already planned", "week_start") from None
            return plan
        if existing.seen_request(ctx):
            return existing
        raise StateConflict(
            "this week is already planned: add or cancel sessions instead", "week_start"
        )

    def _repeated_slots(self, athlete_id: str, source: date, target: date) -> list[dict[str, Any]]:
        """The sessions of a planned week (not the cancelled ones), on the same days of the
        target week."""
        try:
            plan = self.plan(athlete_id, source)
        except NotFound:
            raise InvalidValue(f"the week of {source} has no plan", "repeat_from") from None
        shift = target - source
        return [{"role": s["role"], "objective_id": s.get("objective_id"),
                 "day": date.fromisoformat(s["day"]) + shift if s.get("day") else None,
                 "title": s.get("title"), "sport": s.get("sport"), "steps": s.get("steps"),
                 "prescription": s.get("prescription")}
                for s in plan.sessions.values() if not s.get("cancelled")]

    def save_week_template(self, ctx: Context, athlete_id: str, sessions: list[dict[str, Any]],
                           access: Access = ANYONE) -> Athlete:
        """The athlete's own week, used when a week is planned without sessions."""
        access.check(athlete_id, "athlete")
        athlete = self.athlete(athlete_id)
        for i, slot in enumerate(sessions):
            self._check_objective(athlete_id, slot.get("objective_id"),
                                  f"sessions[{i}].objective_id")
        sessions = prescriptions_in_kg(sessions, athlete)
        return self._change(Athlete, athlete_id, "athlete", access,
                            lambda a: a.save_week_template(ctx, sessions))

    def revise_planned_session(self, ctx: Context, athlete_id: str, week_start_day: date,
                               planned_session_id: str, changes: dict[str, Any],
                               access: Access = ANYONE) -> WeeklyPlan:
        """Move, retitle, change the sport or objective of a planned session."""
        access.check(athlete_id, "plan")
        self._check_objective(athlete_id, changes.get("objective_id"), "objective_id")
        return self._change(WeeklyPlan, plan_id_for(athlete_id, week_start_day), "plan", access,
                            lambda p: p.revise_session(ctx, planned_session_id, changes))

    def prescribe_planned_session(self, ctx: Context, athlete_id: str, week_start_day: date,
                                  planned_session_id: str, steps: list[dict[str, Any]],
                                  access: Access = ANYONE) -> WeeklyPlan:
        """Set a planned session's prescription; a strength step's ``load`` is in its
        ``load_unit``, else the athlete's mass unit (stored as ``load_kg``)."""
        access.check(athlete_id, "plan")
        athlete = self.athlete(athlete_id)
        converted = steps_in_kg(steps, athlete.profile["mass_unit"], "steps")
        return self._change(WeeklyPlan, plan_id_for(athlete_id, week_start_day), "plan", access,
                            lambda p: p.prescribe(ctx, planned_session_id, converted,
                                                  athlete.knows_exercise))

    def plan(self, athlete_id: str, week_start_day: date) -> WeeklyPlan:
        return self.load(WeeklyPlan, plan_id_for(athlete_id, week_start_day), "plan")

    def add_planned_session(
        self,
        ctx: Context,
        athlete_id: str,
        week_start_day: date,
        slot: dict[str, Any],
        access: Access = ANYONE,
    ) -> str:
        access.check(athlete_id, "plan")
        self._check_objective(athlete_id, slot.get("objective_id"), "objective_id")
        athlete = self.athlete(athlete_id)
        slot = {**slot, "prescription": steps_in_kg(
            slot.get("prescription"), athlete.profile["mass_unit"], "session.prescription")}
        added: list[str] = []
        self._change(
            WeeklyPlan,
            plan_id_for(athlete_id, week_start_day),
            "plan",
            access,
            lambda p: added.append(p.add_session(ctx, slot, athlete.knows_exercise)),
        )
        return added[-1]

    def cancel_planned_session(
        self,
        ctx: Context,
        athlete_id: str,
        week_start_day: date,
        planned_session_id: str,
        reason: str | None,
        access: Access = ANYONE,
    ) -> WeeklyPlan:
        return self._change(
            WeeklyPlan,
            plan_id_for(athlete_id, week_start_day),
            "plan",
            access,
            lambda p: p.cancel_session(ctx, planned_session_id, reason),
        )

    def convert_volume_session(
        self,
        ctx: Context,
        athlete_id: str,
        week_start_day: date,
        planned_session_id: str,
        objective_id: str | None,
        access: Access = ANYONE,
        readiness: tuple[str, str] | None = None,
        reason: str | None = None,
    ) -> WeeklyPlan:
        """Convert a volume session (see ``WeeklyPlan.convert_volume_session``)."""
        self._check_objective(athlete_id, objective_id, "objective_id")
        return self._change(
            WeeklyPlan,
            plan_id_for(athlete_id, week_start_day),
            "plan",
            access,
            lambda p: p.convert_volume_session(
                ctx, planned_session_id, objective_id, readiness, reason),
        )

    def plan_device_workout(self, ctx: Context, athlete_id: str, created_at: datetime,
                            slot: dict[str, Any]) -> tuple[str, bool]:
        """A device workout as a slot of the week it was created in (the plan is made if
        the week has none); ``ctx.request_id`` names the workout.  Returns the slot's id and
        whether it was added now (``False``: the same workout was imported before)."""
        athlete = self.athlete(athlete_id)
        week = week_start(local_day(created_at, athlete.profile["timezone"]),
                          athlete.profile["first_day_of_week"])
        plan_id = plan_id_for(athlete_id, week)
        if plan_id not in self.repository:
            plan = WeeklyPlan.plan(ctx, athlete_id, week, [slot])
            self.save(plan)
            return next(iter(plan.sessions)), True
        plan = self.load(WeeklyPlan, plan_id, "plan")
        if plan.seen_request(ctx):
            return next(k for k, v in plan.sessions.items()
                        if v.get("steps") == slot["steps"] and v["title"] == slot["title"]), False
        return self.add_planned_session(ctx, athlete_id, week, slot), True

    def exported_slot(self, athlete_id: str, created_at: datetime, serial: int) -> str | None:
        """The slot of the athlete's plan whose exported workout file has this creation time
        and serial (``workout_created_at``, ``slot_serial``), if there is one."""
        athlete = self.athlete(athlete_id)
        week = week_start(local_day(created_at, athlete.profile["timezone"]),
                          athlete.profile["first_day_of_week"])
        if workout_created_at(week) != created_at:
            return None
        try:
            plan = self.plan(athlete_id, week)
        except NotFound:
            return None
        return next((k for k in plan.sessions if slot_serial(k) == serial), None)

    def prescribed_steps(self, session: TrainingSession) -> list[dict[str, Any]] | None:
        """How the session did its slot's prescription, step by step
        (``session_step_report``); None when it fills no slot or the slot has no
        prescription."""
        if not session.planned_session_id:
            return None
        plan = self._week_plan(self.athlete(session.athlete_id),
                               local_day(session.started_at, session.timezone), {})
        slot = plan.sessions.get(session.planned_session_id) if plan else None
        if not slot or not slot.get("prescription"):
            return None
        return session_step_report(slot["prescription"], session)

    def _week_plan(self, athlete: Athlete, day: date,
                   plans: dict[UUID, WeeklyPlan | None]) -> WeeklyPlan | None:
        """The plan of the week of ``day`` (``None``: not planned), through ``plans``, the
        plans loaded and changed by the command so far."""
        week = week_start(day, athlete.profile["first_day_of_week"])
        plan_id = plan_id_for(str(athlete.id), week)
        if plan_id not in plans:
            try:
                plans[plan_id] = self.load(WeeklyPlan, plan_id, "plan")
            except NotFound:
                plans[plan_id] = None
        return plans[plan_id]

    def _slot_of(self, athlete: Athlete, moment: datetime, timezone: str, sport: str,
                 role: str | None, planned_session_id: str | None,
                 plans: dict[UUID, WeeklyPlan | None]) -> dict[str, Any] | None:
        """The slot a session starting at ``moment`` fills: the one named (it must be of the
        session's week), else the one :func:`services.slots.match_slot` picks."""
        day = local_day(moment, timezone)
        plan = self._week_plan(athlete, day, plans)
        if planned_session_id is not None:
            if plan is None or planned_session_id not in plan.sessions:
                week = week_start(day, athlete.profile["first_day_of_week"])
                raise InvalidValue(f"no such planned session in the plan of the week of {week}",
                                   "planned_session_id")
            return plan.sessions[planned_session_id]
        if plan is None or role == "unplanned":
            return None
        found = match_slot(plan.sessions.values(), day, sport, role, plan.filled())
        return dict(found) if found is not None else None

    @staticmethod
    def _changed(plans: dict[UUID, WeeklyPlan | None]) -> list[WeeklyPlan]:
        return [p for p in plans.values() if p is not None and p.pending_events]

    # ------------------------------------------------------------- sessions & sets

    def start_session(
        self,
        ctx: Context,
        athlete_id: str,
        started_at: datetime,
        access: Access = ANYONE,
        **fields: Any,
    ) -> TrainingSession:
        """Start a session (keyword fields as in :class:`SessionCommand`)."""
        return self.record_session(ctx, athlete_id, SessionCommand(started_at, **fields),
                                   access)

    def record_session(self, ctx: Context, athlete_id: str, command: SessionCommand,
                       access: Access = ANYONE) -> TrainingSession:
        """Start a session, or record a whole past one (``sets`` and ``end``) atomically;
        it fills its planned slot (named, or found by the slot-matching rule)."""
        access.check(athlete_id, "athlete")
        athlete = self.athlete(athlete_id)
        session_id = self.id_for("session", ctx.request_id) if ctx.request_id else uuid4()
        for _ in range(MAX_ATTEMPTS):
            if ctx.request_id is not None and session_id in self.repository:
                existing = self.load(TrainingSession, session_id, "session")
                existing.seen_request(ctx)  # raises if the key was used for another request
                return existing
            plans: dict[UUID, WeeklyPlan | None] = {}
            session = self._build_session(ctx, athlete, session_id, command, plans)
            try:
                self.save(session, *self._changed(plans))
            except IntegrityError:
                continue  # a concurrent retry, or another session took the slot: again
            return session
        raise ConcurrencyConflict("the week's plan is being changed by someone else; retry")

    def _build_session(
        self,
        ctx: Context,
        athlete: Athlete,
        session_id: UUID,
        command: SessionCommand,
        plans: dict[UUID, WeeklyPlan | None],
    ) -> TrainingSession:
        """A new session with its sets and end, not saved yet; the plan it fills is changed
        in ``plans``."""
        athlete_id = str(athlete.id)
        tz = command.timezone or athlete.profile["timezone"]
        started_at = in_zone(command.started_at, tz, "started_at")
        role, objective_id = command.planned_role, command.objective_id
        slot = self._slot_of(athlete, started_at, tz, command.sport, role,
                             command.planned_session_id, plans)
        if slot is not None:
            role = role or slot["role"]
            objective_id = objective_id or slot["objective_id"]
        self._check_objective(athlete_id, objective_id, "objective_id")
        role = role or ("training" if objective_id else "unplanned")
        inner = replace(ctx, request_id=None, fingerprint=None)  # one request, many events
        session = TrainingSession.start(
            ctx, athlete_id, started_at, tz, role, objective_id,
            slot["planned_session_id"] if slot else None, command.title, command.sport,
            command.notes, session_id=session_id,
        )
        if slot is not None:
            plan = self._week_plan(athlete, local_day(started_at, tz), plans)
            assert plan is not None
            plan.fill(inner, slot["planned_session_id"], str(session.id))
        if command.device is not None:
            session.record_device(inner, command.device)
        for i, fields in enumerate(command.sets or []):
            try:
                fields = {**fields, "performed_at": fields.get("performed_at") or started_at}
                self.add_set(inner, session, lambda: athlete, f"{session.id}:{i}", fields)
            except DomainError as exc:
                exc.field = f"sets[{i}].{exc.field}" if exc.field else f"sets[{i}]"
                raise
        if command.end is not None:
            fields = dict(command.end)
            fields["ended_at"] = in_zone(fields.get("ended_at"), tz, "ended_at")
            session.end(inner, **fields)
        return session

    def import_sessions(
        self, source: Source, athlete_id: str, import_key: str, sessions: list[SessionCommand]
    ) -> ImportOutcome:
        """Record past sessions from one import, all or nothing.

        Each session's id derives from ``import_key`` and its index, so applying the same
        import again (a redelivered request) records nothing new."""
        command = ImportCommand(sessions=[
            (str(uuid5(NAMESPACE_URL, f"trainledger:import:{import_key}:{i}")), session)
            for i, session in enumerate(sessions)])
        return self.record_import(source, athlete_id, import_key, command)

    def record_import(self, source: Source, athlete_id: str, import_key: str,
                      command: ImportCommand, athlete: Athlete | None = None,
                      ) -> ImportOutcome:
        """Record an import's sessions and observations, all or nothing.  Ids derive from
        each session's key and each observation's identity: what exists is left alone, but
        for a device session that the complete file of a partial one updates in place
        (:mod:`services.same_activity`).  ``athlete``: the athlete, read already."""
        athlete = athlete or self.athlete(athlete_id)
        for _ in range(MAX_ATTEMPTS):
            outcome = ImportOutcome(athlete=athlete)
            plans: dict[UUID, WeeklyPlan | None] = {}
            new: list[TrainingAggregate] = []
            for i, (key, session) in enumerate(command.sessions):
                ctx = Context(source, key, import_key)
                session_id, existing = self._recorded_as(athlete_id, key, session)
                try:
                    if existing is None:
                        existing = self._build_session(ctx, athlete, session_id, session,
                                                       plans)
                        new.append(existing)
                        status = "created"
                    elif (not existing.discarded
                          and supersedes(session.device, existing.device)):
                        self._replace_device(ctx, athlete, existing, session)
                        new.append(existing)
                        status = "updated"
                    else:
                        status = "existing"
                    outcome.sessions[str(existing.id)] = status
                    outcome.recorded[str(existing.id)] = existing
                except DomainError as exc:
                    exc.field = f"sessions[{i}].{exc.field}" if exc.field else f"sessions[{i}]"
                    raise
            for obs in command.observations:
                obs_id = uuid5(NAMESPACE_URL,
                               f"trainledger:fit-observation:{athlete_id}:{obs.identity}")
                if obs_id in self.repository:
                    continue
                new.append(Observation.record(Context(source), athlete_id, obs.metric,
                                              obs.value, obs.unit, obs.observed_at,
                                              observation_id=obs_id))
                outcome.observations.append(str(obs_id))
            if not new:
                return outcome
            try:
                self.save(*new, *self._changed(plans))
            except IntegrityError:
                continue  # the same import applied concurrently, or a plan changed: again
            return outcome
        raise ConcurrencyConflict("the week's plan is being changed by someone else; retry")

    def _recorded_as(self, athlete_id: str, key: str, command: SessionCommand
                     ) -> tuple[UUID, TrainingSession | None]:
        """The id a new session of ``key`` gets, and the session that already records it:
        the one of that key, or for a device session the same activity
        (:func:`services.same_activity.same_activity`), found by its start's minute."""
        own = self.id_for("session", key)
        if own in self.repository:
            return own, self.session(own)
        if not command.device:
            return own, None
        slots = [self.id_for("session", k) for k in
                 activity_keys(athlete_id, command.started_at, command.device)]
        taken = False  # the minute's own slot, by another activity
        for slot in slots:
            if slot in self.repository:
                found = self.session(slot)
                if same_activity(found, command.started_at, command.device):
                    return slot, found
                taken = taken or slot == slots[0]
        return (own if taken else slots[0]), None

    def _replace_device(self, ctx: Context, athlete: Athlete, session: TrainingSession,
                        command: SessionCommand) -> None:
        """The complete file's device data over the partial session's: summary, end,
        duration, the sets it adds; HR, sport and title unless the athlete amended them;
        sets the athlete removed stay removed."""
        history = list(self.events.get(session.id))
        amended = {k for e in history if isinstance(e, TrainingSession.DetailsAmended)
                   for k in e.changes}
        removed = {e.set_id for e in history if isinstance(e, TrainingSession.SetRemoved)}
        end = dict(command.end or {})
        inner = replace(ctx, request_id=None, fingerprint=None)
        changes = {k: v for k, v in {"duration_min": end.get("duration_min"),
                                     "avg_hr": end.get("avg_hr"), "max_hr": end.get("max_hr"),
                                     "sport": command.sport, "title": command.title}.items()
                   if (k == "duration_min" or k not in amended) and v is not None
                   and getattr(session, k) != v}
        ended_at = in_zone(end.get("ended_at"), session.timezone, "ended_at") or session.ended_at
        assert ended_at is not None
        session.replace_device(inner, dict(command.device or {}), ended_at, changes)
        for i, fields in enumerate(command.sets or []):
            key = f"{session.id}:{i}"  # as _build_session gave the partial file's sets
            if self.set_id_for(session.id, key) in set(session.sets) | removed:
                continue  # what the partial file gave, as the athlete left it
            try:
                self.add_set(inner, session, lambda: athlete, key,
                             {**fields, "performed_at": fields.get("performed_at")
                              or session.started_at})
            except DomainError as exc:
                exc.field = f"sets[{i}].{exc.field}" if exc.field else f"sets[{i}]"
                raise

    def session(self, session_id: UUID | str) -> TrainingSession:
        return self.load(TrainingSession, session_id, "session")

    def add_set(
        self,
        ctx: Context,
        session: TrainingSession,
        athlete: Callable[[], Athlete],
        key: str,
        fields: dict[str, Any],
    ) -> str:
        """Log a set on a loaded, not yet saved session (importers build sessions this way):
        resolve the exercise, convert the load to kg; returns the set's id.

        The athlete is read only when needed: a custom exercise, or a load without a unit."""
        set_id = fields.pop("set_id", None) or self.set_id_for(session.id, key)
        fields.setdefault("reps", None)
        exercise_id = fields["exercise_id"]
        if not isinstance(exercise_id, str) or is_custom_exercise_id(exercise_id):
            fields["exercise_id"] = self.resolve_exercise(athlete(), exercise_id)
        elif get_exercise(exercise_id) is None:
            raise InvalidValue(f"unknown exercise id {exercise_id!r}", "exercise_id")
        load, unit = fields.pop("load", None), fields.pop("load_unit", None)
        if load is not None:
            fields["load_kg"] = to_kg(load, unit or athlete().profile["mass_unit"], "load_unit")
        fields["performed_at"] = in_zone(
            fields.get("performed_at"), session.timezone, "performed_at"
        )
        session.log_set(ctx, set_id, **fields)
        return set_id

    @staticmethod
    def set_id_for(session_id: UUID, key: str) -> str:
        """The id of the set that the request (or import position) ``key`` logs."""
        return str(uuid5(NAMESPACE_URL, f"trainledger:set:{session_id}:{key}"))

    def log_set(
        self, ctx: Context, session_id: str, fields: dict[str, Any], access: Access = ANYONE
    ) -> tuple[TrainingSession, str]:
        """Log a set (``fields`` as in the API: exercise_id, reps, load, load_unit, rpe...)."""
        key = ctx.request_id or str(uuid4())
        set_ids: list[str] = []

        def command(s: TrainingSession) -> None:
            set_ids.append(
                self.add_set(ctx, s, lambda: self.athlete(s.athlete_id), key, dict(fields))
            )

        session = self._change(TrainingSession, session_id, "session", access, command)
        if set_ids[-1] not in session.sets:  # a retry of a request whose set was removed since
            raise StateConflict("the set logged by this request was removed since", "set_id")
        return session, set_ids[-1]

    def amend_set(
        self,
        ctx: Context,
        session_id: str,
        set_id: str,
        changes: dict[str, Any],
        load_unit: str | None = None,
        access: Access = ANYONE,
    ) -> TrainingSession:
        def command(s: TrainingSession) -> None:
            patch = dict(changes)
            if "exercise_id" in patch or patch.get("load") is not None:
                athlete = self.athlete(s.athlete_id)
                if "exercise_id" in patch:
                    patch["exercise_id"] = self.resolve_exercise(athlete, patch["exercise_id"])
                if patch.get("load") is not None:
                    unit = load_unit or athlete.profile["mass_unit"]
                    patch["load_kg"] = to_kg(patch.pop("load"), unit, "load_unit")
            if "load" in patch:
                patch["load_kg"] = patch.pop("load")
            s.amend_set(ctx, set_id, patch)

        return self._change(TrainingSession, session_id, "session", access, command)

    def remove_set(
        self,
        ctx: Context,
        session_id: str,
        set_id: str,
        reason: str | None,
        access: Access = ANYONE,
    ) -> TrainingSession:
        return self._change(
            TrainingSession,
            session_id,
            "session",
            access,
            lambda s: s.remove_set(ctx, set_id, reason),
        )

    def end_session(
        self,
        ctx: Context,
        session_id: str,
        ended_at: datetime | None,
        session_rpe: float | None,
        access: Access = ANYONE,
        **fields: Any,
    ) -> TrainingSession:
        return self._change(
            TrainingSession,
            session_id,
            "session",
            access,
            lambda s: s.end(
                ctx, in_zone(ended_at, s.timezone, "ended_at"), session_rpe, **fields
            ),
        )

    def amend_session(
        self, ctx: Context, session_id: str, changes: dict[str, Any], access: Access = ANYONE
    ) -> TrainingSession:
        def command(s: TrainingSession) -> None:
            fields = {k: in_zone(v, s.timezone, k) if k in TIME_FIELDS else v
                      for k, v in changes.items()}
            start = fields.get("started_at")
            if start is not None and s.planned_session_id and not s.seen_request(ctx):
                first = self.athlete(s.athlete_id).profile["first_day_of_week"]
                old, new = (week_start(local_day(t, s.timezone), first)
                            for t in (s.started_at, start))
                if old != new:  # a slot of one week is never filled from another
                    raise InvalidValue(f"the session fills a planned session of the week of "
                                       f"{old}: unlink it first (POST /sessions/{s.id}/link "
                                       "with {})", "started_at")
            s.amend_details(ctx, fields)

        return self._change(TrainingSession, session_id, "session", access, command)

    def link_session(
        self,
        ctx: Context,
        session_id: str,
        objective_id: str | None,
        planned_session_id: str | None,
        access: Access = ANYONE,
    ) -> TrainingSession:
        """Tie the session to an objective and/or a slot of its week (relink), or to
        neither (unlink); the slot it filled is freed, the one named is filled."""

        def command(s: TrainingSession, plans: dict[UUID, WeeklyPlan | None]) -> None:
            if s.seen_request(ctx):
                return
            athlete = self.athlete(s.athlete_id)
            objective, role = objective_id, "training" if objective_id else "unplanned"
            slot = None
            if planned_session_id is not None:
                slot = self._slot_of(athlete, s.started_at, s.timezone, s.sport, None,
                                     planned_session_id, plans)
                assert slot is not None
                objective = objective or slot["objective_id"]
                role = slot["role"]
            self._check_objective(s.athlete_id, objective, "objective_id")
            plan = self._week_plan(athlete, local_day(s.started_at, s.timezone), plans)
            inner = replace(ctx, request_id=None, fingerprint=None)
            if plan is not None and s.planned_session_id != planned_session_id:
                if s.planned_session_id in plan.sessions:
                    plan.free(inner, s.planned_session_id, str(s.id))
                if planned_session_id is not None:
                    plan.fill(inner, planned_session_id, str(s.id))
            s.link_objective(ctx, objective, planned_session_id, role)

        return self._change_with_plans(session_id, access, command)

    def discard_session(
        self, ctx: Context, session_id: str, reason: str | None, access: Access = ANYONE
    ) -> TrainingSession:
        """Discard the session; the slot it filled is open again."""

        def command(s: TrainingSession, plans: dict[UUID, WeeklyPlan | None]) -> None:
            if s.planned_session_id is not None and not s.discarded:
                plan = self._week_plan(self.athlete(s.athlete_id),
                                       local_day(s.started_at, s.timezone), plans)
                if plan is not None and s.planned_session_id in plan.sessions:
                    plan.free(replace(ctx, request_id=None, fingerprint=None),
                              s.planned_session_id, str(s.id))
            s.discard(ctx, reason)

        return self._change_with_plans(session_id, access, command)

    def _change_with_plans(
        self, session_id: str, access: Access,
        command: Callable[[TrainingSession, dict[UUID, WeeklyPlan | None]], None],
    ) -> TrainingSession:
        """Change a session and the plans of its week together (as :meth:`_change`)."""
        lock = self._write_locks[hash(str(session_id)) % WRITE_LOCK_STRIPES]
        with lock:
            for _ in range(MAX_ATTEMPTS):
                session = self.load_owned(TrainingSession, session_id, "session", access)
                plans: dict[UUID, WeeklyPlan | None] = {}
                command(session, plans)
                if not session.pending_events:
                    return session
                try:
                    self.save(session, *self._changed(plans))
                except IntegrityError:
                    continue
                return session
        raise ConcurrencyConflict("the session is being changed by someone else; retry")

    # ------------------------------------------------------------- observations

    def record_observation(
        self,
        ctx: Context,
        athlete_id: str,
        metric: str,
        value: float,
        unit: str,
        observed_at: datetime,
        note: str | None = None,
        access: Access = ANYONE,
    ) -> Observation:
        access.check(athlete_id, "athlete")
        tz = self.athlete(athlete_id).profile["timezone"]
        observed_at = in_zone(observed_at, tz, "observed_at")
        return self._create(
            Observation,
            "observation",
            ctx,
            lambda i: Observation.record(
                ctx, athlete_id, metric, value, unit, observed_at, note, observation_id=i
            ),
        )

    def record_check_in(
        self,
        ctx: Context,
        athlete_id: str,
        observed_at: datetime,
        values: list[dict[str, Any]],
        note: str | None = None,
        access: Access = ANYONE,
    ) -> list[Observation]:
        """A daily check-in: one observation per value (metric, value, unit), all recorded or
        none; with an idempotency key a retry returns the same observations."""
        access.check(athlete_id, "athlete")
        tz = self.athlete(athlete_id).profile["timezone"]
        observed_at = in_zone(observed_at, tz, "observed_at")
        ids = ([self.id_for("observation", f"{ctx.request_id}:{i}") for i in range(len(values))]
               if ctx.request_id else [None] * len(values))
        if ids[0] is not None and ids[0] in self.repository:
            first = self.observation(ids[0])
            first.seen_request(ctx)  # raises if the key was used for another request
            return [self.observation(i) for i in ids if i is not None]
        made = []
        for i, (item, oid) in enumerate(zip(values, ids, strict=True)):
            try:
                made.append(Observation.record(ctx, athlete_id, item["metric"], item["value"],
                                               item["unit"], observed_at, note,
                                               observation_id=oid))
            except DomainError as exc:
                exc.field = f"values[{i}].{exc.field}" if exc.field else f"values[{i}]"
                raise
        metrics = [o.metric for o in made]
        if len(set(metrics)) != len(metrics):
            raise InvalidValue("each metric once per check-in", "values")
        self.save(*made)
        return made

    def observation(self, observation_id: UUID | str) -> Observation:
        return self.load(Observation, observation_id, "observation")

    def correct_observation(
        self,
        ctx: Context,
        observation_id: str,
        value: float,
        unit: str,
        note: str | None,
        access: Access = ANYONE,
    ) -> Observation:
        return self._change(
            Observation,
            observation_id,
            "observation",
            access,
            lambda o: o.correct(ctx, value, unit, note),
        )

    def retract_observation(
        self, ctx: Context, observation_id: str, reason: str | None, access: Access = ANYONE
    ) -> Observation:
        return self._change(
            Observation, observation_id, "observation", access, lambda o: o.retract(ctx, reason)
        )
