"""The weekly plan: which sessions the athlete means to do, and with what purpose.

The default template is three training sessions (each tied to an objective) and one volume
session that only accumulates work.  Converting a planned volume session into a training
session, as recovery capacity grows, is an event of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from services.domain.base import Context, TrainingAggregate
from services.domain.comments import Commented
from services.domain.errors import InvalidValue, NotFound, StateConflict
from services.domain.prescription import check_prescription
from services.domain.validation import check_choice, check_text

PLANNED_ROLES = ("training", "volume")
#: (role, day of the athlete's week, 1 = its first day): training on days 1, 3, 5, volume on 6
DEFAULT_TEMPLATE = (("training", 1), ("training", 3), ("training", 5), ("volume", 6))
#: slot fields a plan event of its own can change
REVISABLE_SLOT = ("day", "title", "sport", "objective_id")
MAX_SESSIONS_PER_WEEK = 21


def plan_id_for(athlete_id: str, week_start: date) -> UUID:
    """One plan per athlete and week: its id is derived from both."""
    return uuid5(NAMESPACE_URL, f"trainledger:plan:{athlete_id}:{week_start.isoformat()}")


def week_template(athlete: Any) -> list[dict[str, Any]]:
    """The athlete's own template, else the default one."""
    own = getattr(athlete, "week_template", None)  # absent from athletes stored before it
    return own or [{"role": r, "day": d} for r, d in DEFAULT_TEMPLATE]


def template_slots(template: list[dict[str, Any]], week_start: date,
                   objective_ids: list[str] | None) -> list[dict[str, Any]]:
    """A template's slots on the days of one week, with their prescriptions; training slots
    without an objective take ``objective_ids`` in order."""
    objectives = list(objective_ids or [])
    out = []
    for t in template:
        objective = t.get("objective_id")
        if t["role"] == "training" and objective is None and objectives:
            objective = objectives.pop(0)
        out.append({"role": t["role"], "objective_id": objective,
                    "day": week_start + timedelta(days=t["day"] - 1), "title": t.get("title"),
                    "sport": t.get("sport"), "prescription": t.get("prescription")})
    return out


def slot_serial(planned_session_id: str) -> int:
    """The serial number a slot's exported workout file carries (``file_id``): the first 32
    bits of its id, never 0 (FIT's invalid value)."""
    return int(UUID(planned_session_id).hex[:8], 16) or 1


def workout_created_at(week_start: date) -> datetime:
    """The creation time a slot's exported workout file carries: noon UTC on the fourth day
    of its week, inside the week in every time zone (an import finds the plan by it)."""
    return datetime.combine(week_start + timedelta(days=3), time(12), tzinfo=UTC)


def planned_session_id_for(plan_id: UUID, index: int) -> str:
    return str(uuid5(plan_id, f"slot:{index}"))


class WeeklyPlan(Commented):
    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        athlete_id: str
        week_start: date
        sessions: dict[str, dict[str, Any]]  # planned_session_id -> slot

    class Planned(TrainingAggregate.Created):
        athlete_id: str
        week_start: str
        sessions: list[dict[str, Any]]

        def apply(self, agg: WeeklyPlan) -> None:
            agg.athlete_id = self.athlete_id
            agg.week_start = date.fromisoformat(self.week_start)
            agg.sessions = {s["planned_session_id"]: dict(s) for s in self.sessions}

    class SessionAdded(TrainingAggregate.Event):
        slot: dict[str, Any]

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.slot["planned_session_id"]] = dict(self.slot)

    class SessionCancelled(TrainingAggregate.Event):
        planned_session_id: str
        reason: str | None

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id]["cancelled"] = True

    class VolumeSessionConverted(TrainingAggregate.Event):
        """A volume session made a training session for an objective.  Version 2 added
        ``readiness`` (the verdict when it was converted, None: not judged) and ``reason``
        (why it was converted anyway when not ready); version 1 events read with both None."""

        class_version = 2

        planned_session_id: str
        objective_id: str | None
        readiness: str | None
        reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["readiness"] = None
            state["reason"] = None

        def apply(self, agg: WeeklyPlan) -> None:
            slot = agg.sessions[self.planned_session_id]
            slot["role"] = "training"
            slot["converted"] = True
            slot["objective_id"] = self.objective_id
            if self.readiness is not None or self.reason is not None:
                slot["conversion"] = {"readiness": self.readiness, "reason": self.reason}

    class SessionMoved(TrainingAggregate.Event):
        planned_session_id: str
        day: str | None

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id]["day"] = self.day

    class SessionRetitled(TrainingAggregate.Event):
        planned_session_id: str
        title: str | None

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id]["title"] = self.title

    class SessionSportChanged(TrainingAggregate.Event):
        planned_session_id: str
        sport: str | None

        def apply(self, agg: WeeklyPlan) -> None:
            slot = agg.sessions[self.planned_session_id]
            slot.pop("sport", None)
            if self.sport:
                slot["sport"] = self.sport

    class SessionObjectiveChanged(TrainingAggregate.Event):
        planned_session_id: str
        objective_id: str | None

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id]["objective_id"] = self.objective_id

    class SlotFilled(TrainingAggregate.Event):
        planned_session_id: str
        session_id: str

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id]["session_id"] = self.session_id

    class SlotFreed(TrainingAggregate.Event):
        planned_session_id: str

        def apply(self, agg: WeeklyPlan) -> None:
            agg.sessions[self.planned_session_id].pop("session_id", None)

    class SlotPrescribed(TrainingAggregate.Event):
        """The slot's prescription (``services.domain.prescription``) set, replaced, or
        cleared (no steps)."""

        planned_session_id: str
        steps: list[dict[str, Any]]

        def apply(self, agg: WeeklyPlan) -> None:
            slot = agg.sessions[self.planned_session_id]
            slot.pop("prescription", None)
            if self.steps:
                slot["prescription"] = list(self.steps)

    @staticmethod
    def make_slot(
        planned_session_id: str,
        role: str,
        objective_id: str | None,
        day: date | None,
        title: str | None,
        week_start: date,
        field: str = "sessions",
        sport: str | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A planned session; ``sport`` narrows which recorded session it matches, ``steps``
        are a device workout's steps.  Its prescription is an event of its own
        (``SlotPrescribed``)."""
        check_choice(role, PLANNED_ROLES, f"{field}.role")
        check_text(title, f"{field}.title", max_len=200)
        check_text(sport, f"{field}.sport", max_len=60)
        if day is not None and not week_start <= day < week_start + timedelta(days=7):
            raise InvalidValue("the day is not in the plan's week", f"{field}.day")
        if role == "volume" and objective_id is not None:
            raise InvalidValue("a volume session has no objective", f"{field}.objective_id")
        return {
            "planned_session_id": planned_session_id,
            "role": role,
            "objective_id": objective_id,
            "day": day.isoformat() if day else None,
            "title": title,
            "converted": False,
            "cancelled": False,
            **({"sport": sport} if sport else {}),
            **({"steps": steps} if steps else {}),
        }

    @classmethod
    def plan(
        cls,
        ctx: Context,
        athlete_id: str,
        week_start: date,
        slots: list[dict[str, Any]],
        known_exercise: Callable[[str], bool] | None = None,
    ) -> WeeklyPlan:
        """``slots``: dicts with role, objective_id, day and title (see ``make_slot``), and
        each an optional ``prescription``, recorded as the PUT records it (``SlotPrescribed``
        after ``Planned``)."""
        if not slots:
            raise InvalidValue("a plan needs at least one session", "sessions")
        if len(slots) > MAX_SESSIONS_PER_WEEK:
            raise InvalidValue(f"at most {MAX_SESSIONS_PER_WEEK} sessions a week", "sessions")
        plan_id = plan_id_for(athlete_id, week_start)
        sessions = [
            cls.make_slot(
                planned_session_id_for(plan_id, i),
                s["role"],
                s.get("objective_id"),
                s.get("day"),
                s.get("title"),
                week_start,
                field=f"sessions[{i}]",
                sport=s.get("sport"),
                steps=s.get("steps"),
            )
            for i, s in enumerate(slots)
        ]
        plan = cls._start(
            cls.Planned,
            ctx,
            plan_id,
            athlete_id=athlete_id,
            week_start=week_start.isoformat(),
            sessions=sessions,
        )
        for i, (slot, made) in enumerate(zip(slots, sessions, strict=True)):
            plan._prescribe(ctx, made["planned_session_id"], slot.get("prescription") or [],
                            known_exercise, f"sessions[{i}].prescription")
        return plan

    def slot(self, planned_session_id: str) -> dict[str, Any]:
        try:
            return self.sessions[planned_session_id]
        except KeyError:
            raise NotFound("no such planned session in this plan", "planned_session_id") from None

    def filled(self) -> set[str]:
        """The slots a recorded session fills."""
        return {k for k, v in self.sessions.items() if v.get("session_id")}

    def fill(self, ctx: Context, planned_session_id: str, session_id: str) -> None:
        """The session ``session_id`` fills the slot; one session per slot."""
        slot = self.slot(planned_session_id)
        if slot.get("session_id") == session_id:
            return
        if slot["cancelled"]:
            raise StateConflict("this planned session is cancelled", "planned_session_id")
        if slot.get("session_id"):
            raise StateConflict(f"session {slot['session_id']} already fills this planned "
                                "session: unlink it first", "planned_session_id")
        self._record(self.SlotFilled, ctx, planned_session_id=planned_session_id,
                     session_id=session_id)

    def free(self, ctx: Context, planned_session_id: str, session_id: str) -> None:
        """The session ``session_id`` no longer fills the slot (if it did)."""
        if self.sessions.get(planned_session_id, {}).get("session_id") == session_id:
            self._record(self.SlotFreed, ctx, planned_session_id=planned_session_id)

    def add_session(self, ctx: Context, slot: dict[str, Any],
                    known_exercise: Callable[[str], bool] | None = None) -> str:
        """Add a session to the plan (with its ``prescription``, if any: ``SlotPrescribed``
        after ``SessionAdded``); returns its planned_session_id."""
        key = ctx.request_id or str(len(self.sessions))
        new_id = str(uuid5(self.id, f"added:{key}"))
        if self.seen_request(ctx):
            return new_id
        if len(self.sessions) >= MAX_SESSIONS_PER_WEEK:
            raise InvalidValue(f"at most {MAX_SESSIONS_PER_WEEK} sessions a week", "sessions")
        made = self.make_slot(
            new_id,
            slot["role"],
            slot.get("objective_id"),
            slot.get("day"),
            slot.get("title"),
            self.week_start,
            field="session",
            sport=slot.get("sport"),
            steps=slot.get("steps"),
        )
        self._record(self.SessionAdded, ctx, slot=made)
        self._prescribe(ctx, new_id, slot.get("prescription") or [], known_exercise,
                        "session.prescription")
        return new_id

    def revise_session(self, ctx: Context, planned_session_id: str,
                       changes: dict[str, Any]) -> None:
        """Move a slot to another day, retitle it, change its sport or objective: one event
        per field that changes."""
        if self.seen_request(ctx):
            return
        slot = self.slot(planned_session_id)
        unknown = set(changes) - set(REVISABLE_SLOT)
        if unknown:
            raise InvalidValue("this field cannot be revised", sorted(unknown)[0])
        if slot["cancelled"]:
            raise StateConflict("this planned session is cancelled", "planned_session_id")
        merged = {**slot, "day": date.fromisoformat(slot["day"]) if slot.get("day") else None,
                  **changes}
        self.make_slot(planned_session_id, merged["role"], merged.get("objective_id"),
                       merged.get("day"), merged.get("title"), self.week_start, field="session",
                       sport=merged.get("sport"))  # validates the result
        if merged["role"] == "training" and slot.get("converted") and not merged.get(
                "objective_id"):
            raise InvalidValue("a converted session keeps an objective", "objective_id")
        day = changes.get("day")
        events: list[tuple[type[TrainingAggregate.Event], dict[str, Any]]] = [
            (self.SessionMoved, {"day": day.isoformat() if day else None}),
            (self.SessionRetitled, {"title": changes.get("title")}),
            (self.SessionSportChanged, {"sport": changes.get("sport")}),
            (self.SessionObjectiveChanged, {"objective_id": changes.get("objective_id")}),
        ]
        recorded = False
        for name, (event, fields) in zip(REVISABLE_SLOT, events, strict=True):
            if name in changes and fields[name] != slot.get(name):
                self._record(event, ctx, planned_session_id=planned_session_id, **fields)
                recorded = True
        if not recorded:
            raise InvalidValue("nothing to change", "changes")

    def prescribe(self, ctx: Context, planned_session_id: str, steps: list[dict[str, Any]],
                  known_exercise: Callable[[str], bool] | None = None) -> None:
        """Set the slot's prescription (checked: ``check_prescription``); no steps clear it."""
        if self.seen_request(ctx):
            return
        if self.slot(planned_session_id)["cancelled"]:
            raise StateConflict("this planned session is cancelled", "planned_session_id")
        self._prescribe(ctx, planned_session_id, steps, known_exercise, "steps")

    def _prescribe(self, ctx: Context, planned_session_id: str, steps: list[dict[str, Any]],
                   known_exercise: Callable[[str], bool] | None, field: str) -> None:
        """The one path of a prescription: checked, then ``SlotPrescribed`` if it changes."""
        checked = check_prescription(steps, known_exercise, field=field)
        if checked == self.sessions[planned_session_id].get("prescription", []):
            return
        self._record(self.SlotPrescribed, ctx, planned_session_id=planned_session_id,
                     steps=checked)

    def cancel_session(self, ctx: Context, planned_session_id: str, reason: str | None) -> None:
        if self.seen_request(ctx):
            return
        if self.slot(planned_session_id)["cancelled"]:
            raise StateConflict("this planned session is already cancelled", "planned_session_id")
        check_text(reason, "reason", multiline=True)
        self._record(
            self.SessionCancelled, ctx, planned_session_id=planned_session_id, reason=reason
        )

    def convert_volume_session(
        self,
        ctx: Context,
        planned_session_id: str,
        objective_id: str | None,
        readiness: tuple[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        """Make a planned volume session a training session for ``objective_id``.

        ``readiness``: (verdict, line) when the caller judged it; unless the verdict is
        ``ready``, the conversion needs a ``reason``, kept on the event."""
        if self.seen_request(ctx):
            return
        slot = self.slot(planned_session_id)
        if slot["role"] != "volume":
            raise StateConflict("only a planned volume session can be converted", "role")
        if slot["cancelled"]:
            raise StateConflict("this planned session is cancelled", "planned_session_id")
        if objective_id is None:
            raise InvalidValue(
                "a conversion needs the objective the training session will serve",
                "objective_id",
            )
        check_text(reason, "reason", multiline=True)
        if readiness is not None and readiness[0] != "ready" and not reason:
            raise StateConflict(
                f"readiness says: {readiness[1]} To convert anyway, send force: true with "
                "a reason.",
                "force",
            )
        self._record(
            self.VolumeSessionConverted,
            ctx,
            planned_session_id=planned_session_id,
            objective_id=objective_id,
            readiness=readiness[0] if readiness else None,
            reason=reason or None,
        )
