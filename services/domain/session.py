"""A training session and its sets.  Corrections are events; nothing is edited in place."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from services.domain.base import Context, TrainingAggregate
from services.domain.comments import Commented
from services.domain.errors import InvalidValue, NotFound, StateConflict
from services.domain.validation import (
    check_choice,
    check_half_steps,
    check_load_kg,
    check_not_future,
    check_range,
    check_reps,
    check_text,
    check_timezone,
)

PLANNED_ROLES = ("training", "volume", "unplanned")
SET_TYPES = ("warmup", "working", "drop", "failure")
SIDES = ("left", "right")  # the side a unilateral set worked; None: both / not said
SET_FIELDS = (
    "exercise_id",
    "reps",
    "load_kg",
    "rpe",
    "rir",
    "set_type",
    "tempo",
    "rest_s",
    "duration_s",
    "notes",
    "side",
)
AMENDABLE_SESSION_FIELDS = (
    "title",
    "session_rpe",
    "duration_min",
    "notes",
    "avg_hr",
    "max_hr",
    "sport",
)
#: a session's times, corrected together by one ``Retimed`` event
TIME_FIELDS = ("started_at", "ended_at")
MAX_SETS = 500


def validate_set(fields: dict[str, Any]) -> None:
    """Check a (partial) set; every failure names its field."""
    if "reps" in fields and fields["reps"] is not None:
        check_reps(fields["reps"])
    if "load_kg" in fields:
        check_load_kg(fields["load_kg"])
    if "rpe" in fields:
        check_half_steps(fields["rpe"], 1, 10, "rpe")
    if "rir" in fields:
        check_half_steps(fields["rir"], 0, 10, "rir")
    if fields.get("rpe") is not None and fields.get("rir") is not None:
        raise InvalidValue("give RPE or RIR, not both", "rir")
    if "set_type" in fields:
        check_choice(fields["set_type"], SET_TYPES, "set_type")
    if fields.get("tempo") is not None:
        tempo = fields["tempo"]
        check_text(tempo, "tempo", max_len=11)
        parts = tempo.split("-")
        if len(parts) not in (3, 4) or not all(p.isdigit() or p.upper() == "X" for p in parts):
            raise InvalidValue("tempo is written like 3-1-1-0 (X for explosive)", "tempo")
    if "rest_s" in fields:
        check_range(fields["rest_s"], 0, 3600, "rest_s")
    if "duration_s" in fields:
        check_range(fields["duration_s"], 0, 24 * 3600, "duration_s")
    if "notes" in fields:
        check_text(fields["notes"], "notes", multiline=True)
    if fields.get("side") is not None:
        check_choice(fields["side"], SIDES, "side")


def validate_session_fields(fields: dict[str, Any]) -> None:
    if "title" in fields:
        check_text(fields["title"], "title", max_len=200)
    if "session_rpe" in fields:
        check_range(fields["session_rpe"], 0, 10, "session_rpe")
    if "duration_min" in fields:
        check_range(fields["duration_min"], 0, 24 * 60, "duration_min")
    if "notes" in fields:
        check_text(fields["notes"], "notes", multiline=True)
    for key in ("avg_hr", "max_hr"):
        if key in fields:
            check_range(fields[key], 20, 250, key)
    if "sport" in fields:
        check_text(fields["sport"], "sport", max_len=60, required=True)


class TrainingSession(Commented):
    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        athlete_id: str
        planned_role: str
        objective_id: str | None
        planned_session_id: str | None
        started_at: datetime
        timezone: str
        title: str | None
        sport: str
        ended_at: datetime | None
        session_rpe: float | None
        duration_min: float | None
        notes: str | None
        avg_hr: float | None
        max_hr: float | None
        discarded: bool
        sets: dict[str, dict[str, Any]]  # set_id -> set, in logging order (removed ones dropped)
        device: dict[str, Any] | None

    class Started(TrainingAggregate.Created):
        athlete_id: str
        planned_role: str
        objective_id: str | None
        planned_session_id: str | None
        timezone: str
        title: str | None
        sport: str
        notes: str | None

        def apply(self, agg: TrainingSession) -> None:
            agg.athlete_id = self.athlete_id
            agg.planned_role = self.planned_role
            agg.objective_id = self.objective_id
            agg.planned_session_id = self.planned_session_id
            agg.started_at = self.occurred_at
            agg.timezone = self.timezone
            agg.title = self.title
            agg.sport = self.sport
            agg.notes = self.notes
            agg.ended_at = None
            agg.session_rpe = None
            agg.duration_min = None
            agg.avg_hr = None
            agg.max_hr = None
            agg.discarded = False
            agg.sets = {}
            agg.device = None

    class SetLogged(TrainingAggregate.Event):
        """A set.  Version 2 added ``side`` ("left"/"right" for unilateral work, None for
        both sides or not said).  Version 1 events, stored before it (their state has neither
        ``side`` nor ``class_version``), are upcast on reading with ``side`` None; the
        library stores ``class_version`` in the state of events of version 2 and later.
        Version 3 added ``candidates``: for a set a device could not identify, the exercise
        categories it hesitated between (``[{"category": int, "subtype": int | None}]``);
        older events read with None.  Version 4 added ``wkt_step_index``: the step of the
        device workout the set was done for (a FIT ``set`` message's); older events read with
        None."""

        class_version = 4

        set_id: str
        exercise_id: str
        reps: int | None
        load_kg: float | None
        rpe: float | None
        rir: float | None
        set_type: str
        tempo: str | None
        rest_s: float | None
        duration_s: float | None
        notes: str | None
        side: str | None
        candidates: list[dict[str, Any]] | None
        wkt_step_index: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["side"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["candidates"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["wkt_step_index"] = None

        def apply(self, agg: TrainingSession) -> None:
            data = {k: getattr(self, k) for k in SET_FIELDS}
            agg.sets[self.set_id] = {
                "set_id": self.set_id,
                "performed_at": self.occurred_at,
                **data,
                **({"candidates": self.candidates} if self.candidates else {}),
                **({"wkt_step_index": self.wkt_step_index}
                   if self.wkt_step_index is not None else {}),
            }

    class SetAmended(TrainingAggregate.Event):
        set_id: str
        changes: dict[str, Any]

        def apply(self, agg: TrainingSession) -> None:
            agg.sets[self.set_id].update(self.changes)

    class SetRemoved(TrainingAggregate.Event):
        set_id: str
        reason: str | None

        def apply(self, agg: TrainingSession) -> None:
            del agg.sets[self.set_id]

    class Ended(TrainingAggregate.Event):
        session_rpe: float | None
        duration_min: float
        notes: str | None
        avg_hr: float | None
        max_hr: float | None

        def apply(self, agg: TrainingSession) -> None:
            agg.ended_at = self.occurred_at
            agg.session_rpe = self.session_rpe
            agg.duration_min = self.duration_min
            agg.avg_hr = self.avg_hr
            agg.max_hr = self.max_hr
            if self.notes is not None:
                agg.notes = self.notes

    class DetailsAmended(TrainingAggregate.Event):
        changes: dict[str, Any]

        def apply(self, agg: TrainingSession) -> None:
            for key, value in self.changes.items():
                setattr(agg, key, value)

    class Retimed(TrainingAggregate.Event):
        """The session's start (and end, once ended) corrected, e.g. logged after the gym;
        ISO 8601 with an offset.  ``duration_min``: the duration after it (None while open).
        A set outside the new times is placed at the nearer one."""

        started_at: str
        ended_at: str | None
        duration_min: float | None

        def apply(self, agg: TrainingSession) -> None:
            start = datetime.fromisoformat(self.started_at)
            end = datetime.fromisoformat(self.ended_at) if self.ended_at else None
            agg.started_at = start
            agg.ended_at = end
            if self.duration_min is not None:
                agg.duration_min = self.duration_min
            for s in agg.sets.values():
                at = s.get("performed_at")
                if at is not None and at < start:
                    s["performed_at"] = start
                elif at is not None and end is not None and at > end:
                    s["performed_at"] = end

    class DeviceRecorded(TrainingAggregate.Event):
        """What a device file said about the session: totals, legs, laps, heart-rate
        histogram (seconds at each bpm) and the stored file's content hash."""

        summary: dict[str, Any]

        def apply(self, agg: TrainingSession) -> None:
            agg.device = self.summary

    class DeviceReplaced(TrainingAggregate.Event):
        """The complete file of an activity replaced what its partial (salvaged) file said:
        the device summary, the end and the session fields in ``changes`` (duration, and
        HR, sport or title unless the athlete amended them).  The athlete's RPE, notes,
        link and set amendments stand."""

        summary: dict[str, Any]
        ended_at: datetime
        changes: dict[str, Any]

        def apply(self, agg: TrainingSession) -> None:
            agg.device = self.summary
            agg.ended_at = self.ended_at
            for key, value in self.changes.items():
                setattr(agg, key, value)

    class ObjectiveLinked(TrainingAggregate.Event):
        objective_id: str | None
        planned_session_id: str | None
        planned_role: str

        def apply(self, agg: TrainingSession) -> None:
            agg.objective_id = self.objective_id
            agg.planned_session_id = self.planned_session_id
            agg.planned_role = self.planned_role

    class Discarded(TrainingAggregate.Event):
        reason: str | None

        def apply(self, agg: TrainingSession) -> None:
            agg.discarded = True

    # ----------------------------------------------------------------- commands

    @classmethod
    def start(
        cls,
        ctx: Context,
        athlete_id: str,
        started_at: datetime,
        timezone: str,
        planned_role: str = "unplanned",
        objective_id: str | None = None,
        planned_session_id: str | None = None,
        title: str | None = None,
        sport: str = "strength_training",
        notes: str | None = None,
        session_id: UUID | None = None,
    ) -> TrainingSession:
        check_not_future(started_at, ctx.now, "started_at")
        check_timezone(timezone)
        check_choice(planned_role, PLANNED_ROLES, "planned_role")
        validate_session_fields({"title": title, "notes": notes, "sport": sport})
        return cls._start(
            cls.Started,
            ctx,
            session_id or uuid4(),
            occurred_at=started_at,
            athlete_id=athlete_id,
            planned_role=planned_role,
            objective_id=objective_id,
            planned_session_id=planned_session_id,
            timezone=timezone,
            title=title,
            sport=sport,
            notes=notes,
        )

    @property
    def status(self) -> str:
        if self.discarded:
            return "discarded"
        return "ended" if self.ended_at is not None else "open"

    def _require_not_discarded(self) -> None:
        if self.discarded:
            raise StateConflict("the session was discarded", "session")

    def _require_open(self) -> None:
        self._require_not_discarded()
        if self.ended_at is not None:
            raise StateConflict("the session has ended: amend its sets instead", "session")

    def get_set(self, set_id: str) -> dict[str, Any]:
        try:
            return self.sets[set_id]
        except KeyError:
            raise NotFound("no such set in this session", "set_id") from None

    def log_set(
        self,
        ctx: Context,
        set_id: str,
        exercise_id: str,
        reps: int | None,
        load_kg: float | None = None,
        rpe: float | None = None,
        rir: float | None = None,
        set_type: str = "working",
        tempo: str | None = None,
        rest_s: float | None = None,
        duration_s: float | None = None,
        notes: str | None = None,
        performed_at: datetime | None = None,
        side: str | None = None,
        candidates: list[dict[str, Any]] | None = None,
        wkt_step_index: int | None = None,
    ) -> None:
        """Log one set; ``exercise_id`` must already be resolved against the catalogue
        (``candidates``: a device's guesses for a set it could not identify;
        ``wkt_step_index``: the device workout's step it was done for).

        An ended session takes a forgotten set too: by default it is placed at the end."""
        if self.seen_request(ctx) or set_id in self.sets:
            return
        self._require_not_discarded()
        if len(self.sets) >= MAX_SETS:
            raise StateConflict(f"a session holds at most {MAX_SETS} sets", "sets")
        fields = {
            "exercise_id": exercise_id,
            "reps": reps,
            "load_kg": load_kg,
            "rpe": rpe,
            "rir": rir,
            "set_type": set_type,
            "tempo": tempo,
            "rest_s": rest_s,
            "duration_s": duration_s,
            "notes": notes,
            "side": side,
        }
        validate_set(fields)
        if reps is None and duration_s is None:
            raise InvalidValue("a set needs reps or a duration", "reps")
        moment = performed_at or self.ended_at or ctx.recorded_at or ctx.now
        check_not_future(moment, ctx.now, "performed_at")
        if moment < self.started_at:
            raise InvalidValue("the set is before the session started", "performed_at")
        if self.ended_at is not None and moment > self.ended_at:
            raise InvalidValue("the set is after the session ended", "performed_at")
        if wkt_step_index is not None:
            check_range(wkt_step_index, 0, 65534, "wkt_step_index")
        self._record(self.SetLogged, ctx, occurred_at=moment, set_id=set_id,
                     candidates=candidates or None, wkt_step_index=wkt_step_index, **fields)

    def amend_set(self, ctx: Context, set_id: str, changes: dict[str, Any]) -> None:
        if self.seen_request(ctx):
            return
        self._require_not_discarded()
        current = self.get_set(set_id)
        unknown = set(changes) - set(SET_FIELDS)
        if unknown:
            raise InvalidValue("this field of a set cannot be amended", sorted(unknown)[0])
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
        if not changes:
            return
        merged = {**current, **changes}
        validate_set(changes)
        if merged.get("rpe") is not None and merged.get("rir") is not None:
            raise InvalidValue("give RPE or RIR, not both", "rir")
        if merged.get("reps") is None and merged.get("duration_s") is None:
            raise InvalidValue("a set needs reps or a duration", "reps")
        self._record(self.SetAmended, ctx, set_id=set_id, changes=changes)

    def remove_set(self, ctx: Context, set_id: str, reason: str | None) -> None:
        if self.seen_request(ctx):
            return
        self._require_not_discarded()
        self.get_set(set_id)
        check_text(reason, "reason", multiline=True)
        self._record(self.SetRemoved, ctx, set_id=set_id, reason=reason)

    def end(
        self,
        ctx: Context,
        ended_at: datetime | None,
        session_rpe: float | None,
        duration_min: float | None = None,
        notes: str | None = None,
        avg_hr: float | None = None,
        max_hr: float | None = None,
    ) -> None:
        """End the session with its CR-10 RPE; duration defaults to ended - started."""
        if self.seen_request(ctx):
            return
        self._require_open()
        moment = ended_at or ctx.recorded_at or ctx.now
        check_not_future(moment, ctx.now, "ended_at")
        if moment < self.started_at:
            raise InvalidValue("the session cannot end before it started", "ended_at")
        last_set = max((s["performed_at"] for s in self.sets.values()), default=None)
        if last_set is not None and moment < last_set:
            raise InvalidValue("the session cannot end before its last set", "ended_at")
        if duration_min is None:
            duration_min = round((moment - self.started_at).total_seconds() / 60, 2)
        validate_session_fields(
            {
                "session_rpe": session_rpe,
                "duration_min": duration_min,
                "notes": notes,
                "avg_hr": avg_hr,
                "max_hr": max_hr,
            }
        )
        self._record(
            self.Ended,
            ctx,
            occurred_at=moment,
            session_rpe=session_rpe,
            duration_min=duration_min,
            notes=notes,
            avg_hr=avg_hr,
            max_hr=max_hr,
        )

    def amend_details(self, ctx: Context, changes: dict[str, Any]) -> None:
        """Correct details; ``started_at``/``ended_at`` (aware datetimes) are one ``Retimed``
        event, with the duration given, else end - start."""
        if self.seen_request(ctx):
            return
        self._require_not_discarded()
        unknown = set(changes) - set(AMENDABLE_SESSION_FIELDS) - set(TIME_FIELDS)
        if unknown:
            raise InvalidValue("this field of a session cannot be amended", sorted(unknown)[0])
        changes = dict(changes)
        if any(changes.get(k) is not None for k in TIME_FIELDS):
            self._retime(ctx, changes.pop("started_at", None), changes.pop("ended_at", None),
                         changes.pop("duration_min", None))
        for key in TIME_FIELDS:
            changes.pop(key, None)
        changes = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changes:
            return
        validate_session_fields(changes)
        self._record(self.DetailsAmended, ctx, changes=changes)

    def _retime(self, ctx: Context, started_at: datetime | None, ended_at: datetime | None,
                duration_min: float | None) -> None:
        if ended_at is not None and self.ended_at is None:
            raise StateConflict("the session has not ended: end it at that time instead",
                                "ended_at")
        start, end = started_at or self.started_at, ended_at or self.ended_at
        check_not_future(start, ctx.now, "started_at")
        if end is not None:
            check_not_future(end, ctx.now, "ended_at")
            if end < start:
                raise InvalidValue("the session cannot end before it started",
                                   "ended_at" if ended_at else "started_at")
            if duration_min is None:
                duration_min = round((end - start).total_seconds() / 60, 2)
            validate_session_fields({"duration_min": duration_min})
        elif duration_min is not None:
            raise StateConflict("an open session has no duration yet: end it",
                                "duration_min")
        if start == self.started_at and end == self.ended_at and (
                duration_min is None or duration_min == self.duration_min):
            return
        self._record(self.Retimed, ctx, started_at=start.isoformat(),
                     ended_at=end.isoformat() if end else None, duration_min=duration_min)

    def link_objective(
        self,
        ctx: Context,
        objective_id: str | None,
        planned_session_id: str | None,
        planned_role: str,
    ) -> None:
        if self.seen_request(ctx):
            return
        self._require_not_discarded()
        check_choice(planned_role, PLANNED_ROLES, "planned_role")
        self._record(
            self.ObjectiveLinked,
            ctx,
            objective_id=objective_id,
            planned_session_id=planned_session_id,
            planned_role=planned_role,
        )

    def record_device(self, ctx: Context, summary: dict[str, Any]) -> None:
        self._require_not_discarded()
        self._record(self.DeviceRecorded, ctx, summary=summary)

    def replace_device(self, ctx: Context, summary: dict[str, Any], ended_at: datetime,
                       changes: dict[str, Any]) -> None:
        """Take a complete file's device data over a partial one's (see DeviceReplaced)."""
        self._require_not_discarded()
        check_not_future(ended_at, ctx.now, "ended_at")
        if ended_at < self.started_at:
            raise InvalidValue("the session cannot end before it started", "ended_at")
        unknown = set(changes) - set(AMENDABLE_SESSION_FIELDS)
        if unknown:
            raise InvalidValue("this field of a session cannot be replaced", sorted(unknown)[0])
        validate_session_fields(changes)
        self._record(self.DeviceReplaced, ctx, summary=summary, ended_at=ended_at,
                     changes=changes)

    def discard(self, ctx: Context, reason: str | None) -> None:
        if self.seen_request(ctx):
            return
        self._require_not_discarded()
        check_text(reason, "reason", multiline=True)
        self._record(self.Discarded, ctx, reason=reason)
