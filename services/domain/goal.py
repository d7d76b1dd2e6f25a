"""A goal (objective): a measurable target, physical or not, with a direction and a deadline."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from services.domain.base import Context, TrainingAggregate
from services.domain.errors import InvalidValue, StateConflict
from services.domain.validation import check_choice, check_metric_name, check_range, check_text

#: Metric kinds a goal can track; ``custom`` names any metric the athlete logs by hand.
METRIC_KINDS = ("e1rm", "weekly_training_sessions", "weekly_volume_load", "body_mass", "custom")
DIRECTIONS = ("increase", "decrease")
STATUSES = ("active", "achieved", "abandoned")
REVISABLE = ("title", "target_value", "deadline", "direction", "notes", "metric")


def validate_metric(metric: dict[str, Any]) -> None:
    kind = metric.get("kind")
    check_choice(str(kind), METRIC_KINDS, "metric.kind")
    if kind == "e1rm" and not metric.get("exercise_id"):
        raise InvalidValue("an e1RM goal needs an exercise_id", "metric.exercise_id")
    if kind == "custom":
        if not metric.get("name"):
            raise InvalidValue("a custom goal needs the metric's name", "metric.name")
        check_metric_name(metric["name"], "metric.name")
    if kind in ("body_mass", "custom") and metric.get("per", "day") not in ("day", "week"):
        raise InvalidValue("per is day (the daily value) or week (the week's total)",
                           "metric.per")


def validate_goal_fields(fields: dict[str, Any]) -> None:
    if "title" in fields:
        check_text(fields["title"], "title", max_len=200, required=True)
    if "direction" in fields:
        check_choice(fields["direction"], DIRECTIONS, "direction")
    if "target_value" in fields:
        if fields["target_value"] is None:
            raise InvalidValue("cannot be null", "target_value")
        check_range(fields["target_value"], -1e9, 1e9, "target_value")
    if fields.get("start_value") is not None:
        check_range(fields["start_value"], -1e9, 1e9, "start_value")
    if "notes" in fields:
        check_text(fields["notes"], "notes", multiline=True)


class Goal(TrainingAggregate):
    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        athlete_id: str
        title: str
        metric: dict[str, Any]
        direction: str
        target_value: float
        unit: str
        deadline: date | None
        start_value: float | None
        notes: str | None
        status: str

    class Set(TrainingAggregate.Created):
        athlete_id: str
        title: str
        metric: dict[str, Any]
        direction: str
        target_value: float
        unit: str
        deadline: str | None
        start_value: float | None
        notes: str | None

        def apply(self, agg: Goal) -> None:
            agg.athlete_id = self.athlete_id
            agg.title = self.title
            agg.metric = self.metric
            agg.direction = self.direction
            agg.target_value = self.target_value
            agg.unit = self.unit
            agg.deadline = date.fromisoformat(self.deadline) if self.deadline else None
            agg.start_value = self.start_value
            agg.notes = self.notes
            agg.status = "active"

    class Revised(TrainingAggregate.Event):
        changes: dict[str, Any]

        def apply(self, agg: Goal) -> None:
            for key, value in self.changes.items():
                if key == "deadline":
                    agg.deadline = date.fromisoformat(value) if value else None
                else:
                    setattr(agg, key, value)

    class Achieved(TrainingAggregate.Event):
        value: float | None
        note: str | None

        def apply(self, agg: Goal) -> None:
            agg.status = "achieved"

    class Abandoned(TrainingAggregate.Event):
        reason: str | None

        def apply(self, agg: Goal) -> None:
            agg.status = "abandoned"

    @classmethod
    def set(
        cls,
        ctx: Context,
        athlete_id: str,
        title: str,
        metric: dict[str, Any],
        direction: str,
        target_value: float,
        unit: str,
        deadline: date | None,
        start_value: float | None = None,
        notes: str | None = None,
        goal_id: UUID | None = None,
        today: date | None = None,
    ) -> Goal:
        """A new goal; ``today`` (the athlete's day) refuses a deadline already past."""
        validate_metric(metric)
        if deadline is not None and today is not None and deadline < today:
            raise InvalidValue(f"the deadline {deadline} is already past (today is {today})",
                               "deadline")
        validate_goal_fields(
            {
                "title": title,
                "direction": direction,
                "target_value": target_value,
                "start_value": start_value,
                "notes": notes,
            }
        )
        check_text(unit, "unit", max_len=20)
        return cls._start(
            cls.Set,
            ctx,
            goal_id or uuid4(),
            athlete_id=athlete_id,
            title=title,
            metric=metric,
            direction=direction,
            target_value=float(target_value),
            unit=unit,
            deadline=deadline.isoformat() if deadline else None,
            start_value=start_value,
            notes=notes,
        )

    def _require_active(self) -> None:
        if self.status != "active":
            raise StateConflict(f"the goal is {self.status}", "status")

    def revise(self, ctx: Context, changes: dict[str, Any], set_on: date | None = None,
               has_values: bool = False) -> None:
        """Revise a goal.  ``set_on`` (the athlete's day it was set) refuses a deadline
        before it; the metric can be corrected only while it has no values."""
        if self.seen_request(ctx):
            return
        self._require_active()
        unknown = set(changes) - set(REVISABLE)
        if unknown:
            raise InvalidValue("this field cannot be revised", sorted(unknown)[0])
        if not changes:
            raise InvalidValue("nothing to revise", "changes")
        validate_goal_fields(changes)
        deadline = changes.get("deadline")
        if isinstance(deadline, date) and set_on is not None and deadline < set_on:
            raise InvalidValue(
                f"the deadline {deadline} is before the goal was set ({set_on})", "deadline")
        if "metric" in changes:
            if changes["metric"] is None:
                raise InvalidValue("cannot be null", "metric")
            validate_metric(changes["metric"])
            if has_values and changes["metric"] != self.metric:
                raise StateConflict("the metric can only be corrected while the goal has no "
                                    "values; set a new goal instead", "metric")
        if isinstance(changes.get("deadline"), date):
            changes = {**changes, "deadline": changes["deadline"].isoformat()}
        self._record(self.Revised, ctx, changes=changes)

    def achieve(self, ctx: Context, value: float | None, note: str | None) -> None:
        if self.seen_request(ctx):
            return
        self._require_active()
        check_text(note, "note", multiline=True)
        self._record(self.Achieved, ctx, value=value, note=note)

    def abandon(self, ctx: Context, reason: str | None) -> None:
        if self.seen_request(ctx):
            return
        self._require_active()
        check_text(reason, "reason", multiline=True)
        self._record(self.Abandoned, ctx, reason=reason)
