"""Turns a FIT file into events, through the application, all or nothing.

Decoding and planning are pure (see :mod:`ingest.fit.mapping`); this module applies a plan:
one session with its device summary, sets and end, plus observations, saved in one
transaction.  Ids derive from the athlete and the activity's identity, so the same activity
arriving again (same bytes, a re-export, a chained copy) answers ``duplicate`` with the
existing ids and records nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from ingest.fit import FitError, decode
from ingest.fit.artifacts import ArtifactStore
from ingest.fit.mapping import (
    ActivityPlan,
    FitPlan,
    ObservationPlan,
    WorkoutPlan,
    device_name,
    for_athlete,
    plan_fit,
)
from ingest.intake import frame_fit, unframe_fit
from services.application import TrainingLog
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.errors import DomainError, NotFound
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan, plan_id_for
from services.domain.session import TrainingSession
from services.domain.validation import clean_device_text
from services.domain.weeks import local_day, week_start


@dataclass
class FitResult:
    status: str  # imported | duplicate | skipped | rejected
    reason: str | None = None
    file_type: str | None = None
    session_ids: list[str] = field(default_factory=list)
    observation_ids: list[str] = field(default_factory=list)
    planned_session_ids: list[str] = field(default_factory=list)
    sets: int = 0
    notes: list[str] = field(default_factory=list)  # what was not recorded, and why

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, [], 0)}


def session_zone(athlete: Athlete, started_at: datetime, local_offset_s: int | None) -> str:
    """The zone an imported session was recorded in: the profile's zone in effect at its
    start when its offset then equals the file's local offset (``activity.local_timestamp``
    minus ``timestamp``), else the file's offset as a fixed zone (``Etc/GMT-2`` is UTC+2;
    IANA has whole hours only, so a half-hour offset keeps the profile's zone)."""
    zone = str(athlete.profile_on(started_at)["timezone"])
    if local_offset_s is None:
        return zone
    offset = ZoneInfo(zone).utcoffset(started_at.astimezone(ZoneInfo(zone)))
    if offset is not None and round(offset.total_seconds()) == local_offset_s:
        return zone
    hours, rest = divmod(local_offset_s, 3600)
    if rest or not -12 <= hours <= 14:
        return zone
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def _planned_slot(app: TrainingLog, athlete: Athlete, plan: ActivityPlan) -> dict[str, Any]:
    """The planned session of the same day and sport: a slot naming the activity's sport
    first, then one naming no sport; a slot for another sport never matches."""
    zone = session_zone(athlete, plan.started_at, plan.summary.get("local_offset_s"))
    day = local_day(plan.started_at, zone)
    week = week_start(day, athlete.profile["first_day_of_week"])
    try:
        weekly = app.load(WeeklyPlan, plan_id_for(str(athlete.id), week), "plan")
    except NotFound:
        return {}
    that_day = [slot for slot in weekly.sessions.values()
                if slot.get("day") == day.isoformat() and not slot.get("cancelled")]
    for wanted in (plan.sport, None):
        for slot in that_day:
            if slot.get("sport") == wanted:
                return slot
    return {}


def _plan_workout(app: TrainingLog, ctx: Context, athlete: Athlete,
                  workout: WorkoutPlan) -> FitResult:
    """A workout file becomes a planned training session in the week it was created (the
    import day when the file has no creation time); the same workout again is a duplicate."""
    result = FitResult("imported", file_type="workout")
    when = workout.created_at or datetime.now(UTC)
    week = week_start(local_day(when, athlete.profile["timezone"]),
                      athlete.profile["first_day_of_week"])
    ctx = replace(ctx, request_id=f"fit-workout:{workout.identity}",
                  fingerprint=workout.identity)
    slot = {"role": "training",
            "title": (clean_device_text(workout.name) or "Device workout")[:200],
            "sport": workout.sport, "steps": workout.steps}
    plan_id = plan_id_for(str(athlete.id), week)
    if plan_id not in app.repository:
        plan = WeeklyPlan.plan(ctx, str(athlete.id), week, [slot])
        app.save(plan)
        slot_id = next(iter(plan.sessions))
    elif app.load(WeeklyPlan, plan_id, "plan").seen_request(ctx):
        plan = app.load(WeeklyPlan, plan_id, "plan")
        slot_id = next(k for k, v in plan.sessions.items()
                       if v.get("steps") == workout.steps and v["title"] == slot["title"])
        result.status, result.reason = "duplicate", "already imported"
    else:
        slot_id = app.add_planned_session(ctx, str(athlete.id), week, slot)
    result.planned_session_ids.append(slot_id)
    return result


def _observation(app: TrainingLog, ctx: Context, athlete_id: str,
                 obs: ObservationPlan) -> Observation | None:
    obs_id = uuid5(NAMESPACE_URL, f"trainledger:fit-observation:{athlete_id}:{obs.identity}")
    if obs_id in app.repository:
        return None
    return Observation.record(ctx, athlete_id, obs.metric, obs.value, obs.unit,
                              obs.observed_at, observation_id=obs_id)


def apply_plan(app: TrainingLog, source: Source, athlete_id: str, plan: FitPlan,
               artifact: str | None) -> FitResult:
    """Record what the plan holds; raises DomainError (nothing recorded) if a value is bad."""
    athlete = app.athlete(athlete_id)
    ctx = Context(source)
    if plan.workout is not None:
        return _plan_workout(app, ctx, athlete, plan.workout)
    observations = for_athlete(plan.observations, athlete.profile["sex"])
    if isinstance(observations, str):
        return FitResult("skipped", observations, plan.file_type)
    result = FitResult("imported", file_type=plan.file_type)
    new: list[Any] = []
    activity = plan.activity
    if activity is not None:
        request_id = str(uuid5(NAMESPACE_URL,
                               f"trainledger:fit-activity:{athlete_id}:{activity.identity}"))
        session_id = app.id_for("session", request_id)
        result.session_ids.append(str(session_id))
        if session_id not in app.repository:
            new.append(_build_session(app, replace(ctx, request_id=request_id,
                                                   fingerprint=activity.identity),
                                      athlete, session_id, activity, artifact))
            result.sets = len(activity.sets)
            result.notes = activity.notes + load_notes(athlete, activity)
    for obs in observations + (activity.observations if activity else []):
        made = _observation(app, ctx, athlete_id, obs)
        if made is not None:
            new.append(made)
            result.observation_ids.append(str(made.id))
    if not new:
        result.status = "duplicate"
        result.reason = "already imported"
    else:
        app.save(*new)
        if activity is not None and activity.summary.get("partial"):
            result.reason = "partial: the file was cut short; its complete records were imported"
    return result


def load_notes(athlete: Athlete, activity: ActivityPlan) -> list[str]:
    """What the session's load will rest on when no max HR is in effect on its day: the
    file's own max/resting HR (offered for the profile), or nothing until it is rated."""
    if athlete.profile_on(activity.started_at).get("max_hr"):
        return []
    day = activity.started_at.date().isoformat()
    found = activity.summary.get("file_hr")
    if found:
        rest = f", resting {found['resting_hr']:g} bpm" if found.get("resting_hr") else ""
        return [f"load from the file's max HR ({found['max_hr']:g} bpm{rest}): no max HR in "
                f"the profile on {day}; to adopt them, PATCH /athletes/{athlete.id}/profile "
                f"with max_hr (and resting_hr) effective_at {day}"]
    return [f"no load yet: no max HR in the profile on {day} nor in the file; rate the "
            "session (session_rpe) or set max_hr in the profile"]


def _build_session(app: TrainingLog, ctx: Context, athlete: Athlete, session_id: UUID,
                   activity: ActivityPlan, artifact: str | None) -> TrainingSession:
    slot = _planned_slot(app, athlete, activity)
    inner = replace(ctx, request_id=None, fingerprint=None)
    summary = dict(activity.summary)
    device = summary.get("device") or {}
    title = clean_device_text(activity.sport.replace("_", " ").capitalize()) or "Activity"
    name = device_name(device)
    if name:
        title += f" ({name})"
    session = TrainingSession.start(
        ctx, str(athlete.id), activity.started_at,
        session_zone(athlete, activity.started_at, summary.get("local_offset_s")),
        planned_role=slot.get("role") or "unplanned", objective_id=slot.get("objective_id"),
        planned_session_id=slot.get("planned_session_id"),
        title=(clean_device_text(title) or "Activity")[:200],
        sport=(clean_device_text(activity.sport) or "generic")[:60], session_id=session_id,
    )
    summary["artifact_sha256"] = artifact
    session.record_device(inner, summary)
    last = activity.started_at
    for i, fields in enumerate(activity.sets):
        fields = dict(fields)
        at = fields.get("performed_at") or activity.started_at
        fields["performed_at"] = max(at, activity.started_at)
        last = max(last, fields["performed_at"])
        app.add_set(inner, session, lambda: athlete, f"{session.id}:{i}", fields)
    ended = max(activity.ended_at, last)
    avg_hr, max_hr = summary.get("avg_hr"), summary.get("max_hr")
    elapsed = (ended - activity.started_at).total_seconds()
    timer = float(summary.get("timer_s") or 0)
    session.end(
        inner, ended, None,  # the duration is timer time (pauses out) when the file has it
        duration_min=round((timer if 0 < timer <= elapsed else elapsed) / 60, 2),
        avg_hr=float(avg_hr) if avg_hr and 20 <= avg_hr <= 250 else None,
        max_hr=float(max_hr) if max_hr and 20 <= max_hr <= 250 else None,
    )
    return session


@dataclass
class Prepared:
    """A file decoded and planned (picklable: made in worker processes)."""

    name: str
    sha256: str
    plan: FitPlan | None = None
    rejected: str | None = None


def prepare(name: str, data: bytes, salvage: bool = False) -> Prepared:
    """Decode and plan one file; pure, so it can run in a worker process."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        fit = decode(data, check_crc=not salvage, salvage=salvage)
    except FitError as exc:
        return Prepared(name, digest, rejected=f"{name}: {exc}")
    return Prepared(name, digest, plan_fit(fit))


def record(app: TrainingLog, artifacts: ArtifactStore, source: Source, athlete_id: str,
           prepared: Prepared, data: bytes) -> FitResult:
    """Record a prepared file; bad files are rejected and kept in quarantine."""
    name, plan = prepared.name, prepared.plan
    if prepared.rejected is not None or plan is None:
        reason = prepared.rejected or f"{name}: unreadable"
        artifacts.quarantine.keep(athlete_id, name, data, reason)
        return FitResult("rejected", reason)
    if plan.skipped is not None:
        return FitResult("skipped", f"{name}: {plan.skipped}", plan.file_type)
    try:
        result = apply_plan(app, replace(source, file_hash=prepared.sha256), athlete_id, plan,
                            prepared.sha256)
    except DomainError as exc:
        reason = f"{name}: {exc.field + ': ' if exc.field else ''}{exc.message}"
        artifacts.quarantine.keep(athlete_id, name, data, reason)
        return FitResult("rejected", reason, plan.file_type)
    if result.status == "skipped":
        result.reason = f"{name}: {result.reason}"
    else:
        artifacts.put(athlete_id, data)
    return result


def import_fit(app: TrainingLog, artifacts: ArtifactStore, source: Source, athlete_id: str,
               data: bytes, name: str = "upload.fit", salvage: bool = False) -> FitResult:
    """Decode, plan and record one FIT file."""
    return record(app, artifacts, source, athlete_id, prepare(name, data, salvage), data)


def fit_handler(artifacts: ArtifactStore) -> Callable[..., dict[str, Any]]:
    """The intake handler of kind ``fit`` (payload: :func:`fit_payload`)."""

    def handle(app: TrainingLog, source: Source, athlete_id: str, _key: str,
               payload: bytes) -> dict[str, Any]:
        name, data, salvage = unframe_fit(payload)
        return import_fit(app, artifacts, source, athlete_id, data, name, salvage).as_dict()

    return handle


fit_payload = frame_fit
