"""Hand-logged metric observations (body mass, sleep hours, deep-work hours, resting HR…).

Each observation is its own small aggregate, so an athlete's years of daily entries never
make one stream long; corrections and retractions are events on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from services.domain.base import Context, TrainingAggregate
from services.domain.errors import InvalidValue, StateConflict
from services.domain.validation import (
    check_metric_name,
    check_not_future,
    check_range,
    check_text,
    to_kg,
)

#: Built-in metrics with their canonical unit and plausible range.
KNOWN_METRICS: dict[str, tuple[str, float, float]] = {
    "body_mass": ("kg", 20, 400),
    "body_fat_pct": ("%", 1, 75),
    "body_water_pct": ("%", 20, 80),
    "muscle_mass": ("kg", 5, 200),
    "bone_mass": ("kg", 0.5, 10),
    "resting_hr": ("bpm", 20, 150),
    "hrv_rmssd": ("ms", 1, 500),
    "sleep_hours": ("h", 0, 24),
}


def normalise(metric: str, value: float, unit: str) -> tuple[float, str]:
    """Validate a metric observation and convert it to the metric's canonical unit."""
    check_metric_name(metric)
    check_range(value, -1e9, 1e9, "value")
    if metric not in KNOWN_METRICS:
        check_text(unit, "unit", max_len=20, required=True)
        return float(value), unit
    canonical, low, high = KNOWN_METRICS[metric]
    if canonical == "kg":
        value = to_kg(value, unit, "unit")
    elif unit != canonical:
        raise InvalidValue(f"{metric} is measured in {canonical}, not {unit!r}", "unit")
    check_range(value, low, high, "value")
    return float(value), canonical


class Observation(TrainingAggregate):
    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        athlete_id: str
        metric: str
        value: float
        unit: str
        observed_at: datetime
        note: str | None
        retracted: bool

    class Recorded(TrainingAggregate.Created):
        athlete_id: str
        metric: str
        value: float
        unit: str
        note: str | None

        def apply(self, agg: Observation) -> None:
            agg.athlete_id = self.athlete_id
            agg.metric = self.metric
            agg.value = self.value
            agg.unit = self.unit
            agg.observed_at = self.occurred_at
            agg.note = self.note
            agg.retracted = False

    class Corrected(TrainingAggregate.Event):
        value: float
        unit: str
        note: str | None

        def apply(self, agg: Observation) -> None:
            agg.value = self.value
            agg.unit = self.unit
            agg.note = self.note

    class Retracted(TrainingAggregate.Event):
        reason: str | None

        def apply(self, agg: Observation) -> None:
            agg.retracted = True

    @classmethod
    def record(
        cls,
        ctx: Context,
        athlete_id: str,
        metric: str,
        value: float,
        unit: str,
        observed_at: datetime,
        note: str | None = None,
        observation_id: UUID | None = None,
    ) -> Observation:
        check_not_future(observed_at, ctx.now, "observed_at")
        check_text(note, "note", multiline=True)
        value, unit = normalise(metric, value, unit)
        return cls._start(
            cls.Recorded,
            ctx,
            observation_id or uuid4(),
            occurred_at=observed_at,
            athlete_id=athlete_id,
            metric=metric,
            value=value,
            unit=unit,
            note=note,
        )

    def correct(self, ctx: Context, value: float, unit: str, note: str | None) -> None:
        if self.seen_request(ctx):
            return
        if self.retracted:
            raise StateConflict("the observation was retracted", "observation")
        check_text(note, "note", multiline=True)
        value, unit = normalise(self.metric, value, unit)
        self._record(self.Corrected, ctx, value=value, unit=unit, note=note)

    def retract(self, ctx: Context, reason: str | None) -> None:
        if self.seen_request(ctx):
            return
        if self.retracted:
            raise StateConflict("the observation was already retracted", "observation")
        check_text(reason, "reason", multiline=True)
        self._record(self.Retracted, ctx, reason=reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "observation_id": str(self.id),
            "athlete_id": self.athlete_id,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "observed_at": self.observed_at,
            "note": self.note,
            "retracted": self.retracted,
        }
