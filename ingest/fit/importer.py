"""Turns a FIT file into events, through the application, all or nothing.

Decoding and planning are pure (see :mod:`ingest.fit.mapping`); this module applies a plan:
one session with its device summary, sets and end, plus observations, saved in one
transaction.  Ids derive from the athlete and the activity's identity, so the same activity
arriving again (same bytes, a re-export, a chained copy) answers ``duplicate`` with the
existing ids and records nothing; the complete file of an activity imported partial
(salvaged) updates that session in place (``updated``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5
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
from ingest.fit.workout_file import CREATOR
from ingest.intake import frame_fit, unframe_fit
from ingest.session_results import session_results
from services.application import TrainingLog
from services.commands import ImportCommand, ObservationCommand, SessionCommand
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.errors import DomainError
from services.domain.validation import clean_device_text


@dataclass
class FitResult:
    status: str  # imported | updated | duplicate | skipped | rejected
    reason: str | None = None
    file_type: str | None = None
    session_ids: list[str] = field(default_factory=list)
    observation_ids: list[str] = field(default_factory=list)
    planned_session_ids: list[str] = field(default_factory=list)
    sets: int = 0
    notes: list[str] = field(default_factory=list)  # what was not recorded, and why
    #: each session made or found: session_id, status (created / updated / existing),
    #: load_source
    sessions: list[dict[str, Any]] = field(default_factory=list)

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


def _workout_slot(app: TrainingLog, source: Source, athlete: Athlete,
                  workout: WorkoutPlan) -> FitResult:
    """A workout file becomes a planned training session in the week it was created (the
    import day when the file has no creation time); the same workout again is a duplicate,
    and so is a workout trainledger exported: it is its slot's."""
    if (workout.creator == CREATOR and workout.serial is not None
            and workout.created_at is not None):
        exported = app.exported_slot(str(athlete.id), workout.created_at, workout.serial)
        if exported is not None:
            result = FitResult("duplicate", f"the workout of planned session {exported} "
                               "(exported by trainledger)", "workout")
            result.planned_session_ids.append(exported)
            return result
    ctx = Context(source, f"fit-workout:{workout.identity}", workout.identity)
    slot = {"role": "training",
            "title": (clean_device_text(workout.name) or "Device workout")[:200],
            "sport": workout.sport, "steps": workout.steps}
    slot_id, added = app.plan_device_workout(ctx, str(athlete.id),
                                             workout.created_at or datetime.now(UTC), slot)
    result = FitResult("imported" if added else "duplicate",
                       None if added else "already imported", "workout")
    result.planned_session_ids.append(slot_id)
    return result


def observation_commands(plans: list[ObservationPlan]) -> list[ObservationCommand]:
    return [ObservationCommand(o.metric, o.value, o.unit, o.observed_at, o.identity)
            for o in plans]


def load_notes(athlete: Athlete, activity: ActivityPlan) -> list[str]:
    """What the session's load will rest on when the profile lacks what it needs on its
    day: power against the file's CP (FTP offered for the profile), the file's own
    max/resting HR (offered too), or nothing until it is rated."""
    profile = athlete.profile_on(activity.started_at)
    day = activity.started_at.date().isoformat()
    power = activity.summary.get("power") or {}
    if power and profile.get("ftp_w"):
        return []
    if power.get("cp_w"):
        return [f"load from power: TSS against the file's CP ({power['cp_w']:g} W), no FTP in "
                f"the profile on {day}; to use yours, PATCH /athletes/{athlete.id}/profile "
                f"with ftp_w effective_at {day}"]
    if profile.get("max_hr"):
        return []
    found = activity.summary.get("file_hr")
    if found:
        rest = f", resting {found['resting_hr']:g} bpm" if found.get("resting_hr") else ""
        return [f"load from the file's max HR ({found['max_hr']:g} bpm{rest}): no max HR in "
                f"the profile on {day}; to adopt them, PATCH /athletes/{athlete.id}/profile "
                f"with max_hr (and resting_hr) effective_at {day}"]
    return [f"no load yet: no max HR in the profile on {day} nor in the file; rate the "
            "session (session_rpe) or set max_hr in the profile"]


def session_command(athlete: Athlete, activity: ActivityPlan,
                    artifact: str | None) -> SessionCommand:
    """The application's command for an activity: its device summary, sets and end; the
    slot is left to the slot-matching rule."""
    summary = dict(activity.summary)
    device = summary.get("device") or {}
    title = clean_device_text(activity.sport.replace("_", " ").capitalize()) or "Activity"
    name = device_name(device)
    if name:
        title += f" ({name})"
    summary["artifact_sha256"] = artifact
    sets, last = [], activity.started_at
    for fields in activity.sets:
        at = max(fields.get("performed_at") or activity.started_at, activity.started_at)
        last = max(last, at)
        sets.append({**fields, "performed_at": at})
    ended = max(activity.ended_at, last)
    avg_hr, max_hr = summary.get("avg_hr"), summary.get("max_hr")
    elapsed = (ended - activity.started_at).total_seconds()
    timer = float(summary.get("timer_s") or 0)
    return SessionCommand(
        activity.started_at,
        title=(clean_device_text(title) or "Activity")[:200],
        sport=(clean_device_text(activity.sport) or "generic")[:60],
        sets=sets,
        end={"ended_at": ended, "session_rpe": None,  # timer time (pauses out) when given
             "duration_min": round((timer if 0 < timer <= elapsed else elapsed) / 60, 2),
             "avg_hr": float(avg_hr) if avg_hr and 20 <= avg_hr <= 250 else None,
             "max_hr": float(max_hr) if max_hr and 20 <= max_hr <= 250 else None},
        timezone=session_zone(athlete, activity.started_at, summary.get("local_offset_s")),
        device=summary,
    )


def apply_plan(app: TrainingLog, source: Source, athlete_id: str, plan: FitPlan,
               artifact: str | None) -> FitResult:
    """Record what the plan holds through the application's import command; raises
    DomainError (nothing recorded) if a value is bad."""
    athlete = app.athlete(athlete_id)
    if plan.workout is not None:
        return _workout_slot(app, source, athlete, plan.workout)
    observations = for_athlete(plan.observations, athlete.profile["sex"])
    if isinstance(observations, str):
        return FitResult("skipped", observations, plan.file_type)
    activity = plan.activity
    command = ImportCommand(observations=observation_commands(
        observations + (activity.observations if activity else [])))
    if activity is not None:
        key = str(uuid5(NAMESPACE_URL,
                        f"trainledger:fit-activity:{athlete_id}:{activity.identity}"))
        command.sessions.append((key, session_command(athlete, activity, artifact)))
    outcome = app.record_import(source, athlete_id, activity.identity if activity else "",
                                command, athlete)
    result = FitResult("imported", file_type=plan.file_type,
                       session_ids=list(outcome.sessions),
                       observation_ids=outcome.observations,
                       sessions=session_results(app, outcome))
    if activity is not None and (outcome.created or outcome.updated):
        result.sets = len(activity.sets)
        result.notes = activity.notes + load_notes(athlete, activity)
    if outcome.updated:
        result.status, result.reason = "updated", (
            "the complete file of a partial session: its device data replaced, what the "
            "athlete entered kept")
    elif not outcome.created and not outcome.observations:
        result.status, result.reason = "duplicate", "already imported"
    elif activity is not None and activity.summary.get("partial"):
        result.reason = "partial: the file was cut short; its complete records were imported"
    return result


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


def fit_content_hash(data: bytes) -> str:
    """The content hash of a FIT import request: the file's own SHA-256, whatever its name
    or the path it came by (upload, CLI, watched folder)."""
    return hashlib.sha256(data).hexdigest()
