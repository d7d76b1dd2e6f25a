"""What the analytic views are computed from: an athlete's facts, read one way or another.

Every view (:mod:`projections.views`) is a pure function of a :class:`Facts` and a day.  Two
implementations answer the same questions:

- :class:`projections.history_facts.HistoryFacts` computes them from the athlete's
  aggregates folded from the event store (the oracle, and the ``as_of`` audit path);
- :class:`projections.stored_facts.StoredFacts` reads them from the read model's tables,
  which the feed keeps current incrementally (:mod:`projections.read_model`).

The rows are produced by the same step functions (:mod:`projections.derive`) on both paths,
so the two answers are equal; the property tests hold them to it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.domain.athlete import Athlete
from services.domain.goal import Goal
from services.domain.plan import WeeklyPlan


@dataclass
class SessionRow:
    """One session as the views see it: its load (``projections.sessions``), how it was
    executed (``classification``) and the training block it belongs to."""

    session_id: str
    day: date
    sport: str
    planned_role: str
    objective_id: str | None
    planned_session_id: str | None
    minutes: float | None
    session_rpe: float | None
    sets: int
    volume_load_kg: float
    srpe_load: float | None
    trimp_banister: float | None
    trimp_edwards: float | None
    load: float
    load_source: str
    started_at: datetime
    classification: str = "workout"
    reason: str = ""
    block_start: date | None = None  # first day of the block of sessions it belongs to
    power_tss: float | None = None  # TSS from power, whichever load was chosen

    LOAD_FIELDS = ("session_id", "day", "sport", "planned_role", "objective_id",
                   "planned_session_id", "minutes", "session_rpe", "sets", "volume_load_kg",
                   "srpe_load", "trimp_banister", "trimp_edwards", "power_tss", "load",
                   "load_source")

    def as_dict(self) -> dict[str, Any]:
        """The row of the ``load`` view."""
        out = {k: getattr(self, k) for k in self.LOAD_FIELDS}
        out["day"] = self.day.isoformat()
        return out

    def to_json(self, row: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole row; ``row``: its :meth:`as_dict`, if the caller has it already."""
        return {**(row or self.as_dict()), "started_at": self.started_at.isoformat(),
                "classification": self.classification, "reason": self.reason,
                "block_start": self.block_start.isoformat() if self.block_start else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionRow:
        values = dict(data)
        values["day"] = date.fromisoformat(values["day"])
        values["started_at"] = datetime.fromisoformat(values["started_at"])
        values["block_start"] = (date.fromisoformat(values["block_start"])
                                 if values["block_start"] else None)
        return cls(**values)


@dataclass
class FatigueDay:
    """One day of the load series, full precision (the views round): the load, the
    Performance Manager, both EWMAs behind the EWMA ACWR, and the ratios of that day."""

    day: date
    index: int  # days since the series' first day
    load: float
    ctl: float
    atl: float
    tsb: float
    ewma_acute: float
    ewma_chronic: float
    acwr: float | None
    monotony: float | None
    strain: float | None


@dataclass
class Mark:
    """A strength best that changed with a set: the first set of an exercise sets the bar
    (``previous`` None), each later set that beats it is a personal record."""

    exercise_id: str
    order: str  # the set's place in time (``derive.set_order``)
    seq: int  # the kind's place among the set's marks
    kind: str  # heaviest_kg, most_reps_at, set_volume_kg, e1rm_kg
    at: float  # the load for most_reps_at, else 0
    value: float
    previous: float | None
    ref: dict[str, Any]  # the set that made it
    brzycki: float | None = None  # e1rm_kg marks: Brzycki on the same set


class RawRows(list[str]):
    """Rows of a view's answer already serialized (stored so, at settle): each item is one
    JSON object, or several joined by ", " (a month's chunk, :mod:`projections.chunks`).
    The read model's long series go out without being parsed and encoded again.  The oracle
    gives plain dicts instead; :func:`plain` makes both comparable."""


def plain(value: Any) -> Any:
    """An answer with every :class:`RawRows` parsed (for comparisons and exports)."""
    if isinstance(value, RawRows):
        return json.loads("[" + ", ".join(value) + "]")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """An answer as JSON text, splicing :class:`RawRows` in as they are: the answer is
    encoded once by the C encoder with a marker in place of each RawRows (a NUL and a random
    nonce, which no encoded string can forge), then the text is cut at the markers once and
    joined again with the rows in their place."""
    raws: list[RawRows] = []
    nonce = secrets.token_hex(8)
    text = json.dumps(_marked(value, raws, nonce), default=str)
    if not raws:
        return text
    head, *cut = text.split(json.dumps(f"\x00{nonce}:")[:-1])  # '"\u0000<nonce>:'
    parts = [head]
    for piece in cut:  # '<i>"<the text up to the next marker>'
        index, rest = piece.split('"', 1)
        rows = raws[int(index)]
        parts += ["[", ", ".join(rows), "]", rest]
    return "".join(parts)


def _marked(value: Any, raws: list[RawRows], nonce: str) -> Any:
    if isinstance(value, RawRows):
        raws.append(value)
        return f"\x00{nonce}:{len(raws) - 1}"
    if isinstance(value, dict):
        return {k: _marked(v, raws, nonce) for k, v in value.items()}
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value[:1]):
        return [_marked(v, raws, nonce) for v in value]
    return value


class MetricSeries(Protocol):
    """A goal metric's values by day, asked only what a goal's progress needs."""

    def out(self) -> Sequence[Any]:
        """Every value as the ``goals`` view lists it: ``{"day", "value"}``."""

    def last(self) -> tuple[date, float] | None:
        """The latest value."""

    def window(self, since: date) -> dict[date, float]:
        """The values from ``since`` on."""

    def first_from(self, day: date) -> float | None:
        """The first value on or after ``day``."""

    def first_meeting(self, target: float, increase: bool) -> date | None:
        """The first day a value met ``target`` (at or above it, or at or below it)."""


def value_row(day: date, value: float) -> dict[str, Any]:
    return {"day": day.isoformat(), "value": round(value, 3)}


class DictSeries:
    """A metric series held in memory."""

    def __init__(self, values: dict[date, float]) -> None:
        self.values = dict(sorted(values.items()))

    def out(self) -> list[dict[str, Any]]:
        return [value_row(d, v) for d, v in self.values.items()]

    def last(self) -> tuple[date, float] | None:
        return next(reversed(self.values.items()), None)

    def window(self, since: date) -> dict[date, float]:
        return {d: v for d, v in self.values.items() if d >= since}

    def first_from(self, day: date) -> float | None:
        return next((v for d, v in self.values.items() if d >= day), None)

    def first_meeting(self, target: float, increase: bool) -> date | None:
        return next((d for d, v in self.values.items()
                     if (v >= target if increase else v <= target)), None)


@dataclass
class WeekRow:
    """Planned vs done for one planned week (``projections.execution``)."""

    week_start: date
    row: dict[str, Any]


class AthleteFacts:
    """What both kinds of facts say of the athlete alone."""

    athlete: Athlete

    @property
    def timezone(self) -> str:
        return str(self.athlete.profile["timezone"])

    @property
    def first_day_of_week(self) -> str:
        return str(self.athlete.profile["first_day_of_week"])


class Facts(Protocol):
    """An athlete's facts, as the views ask for them.  ``until`` is inclusive.  Methods
    ending in ``_out`` give rows of the answer as they are shown (dicts, or RawRows)."""

    athlete: Athlete  # profile (with its history), settings, custom exercises

    @property
    def timezone(self) -> str: ...

    @property
    def first_day_of_week(self) -> str: ...

    def first_day(self) -> date | None:
        """The day of the athlete's first session (where the load series starts)."""

    def sessions(self, until: date, since: date | None = None) -> list[SessionRow]:
        """Sessions (discarded ones out) by start time."""

    def sessions_out(self, until: date) -> Sequence[Any]:
        """``load`` view rows of the sessions done by ``until`` (``SessionRow.as_dict``)."""

    def executed_out(self, until: date) -> Sequence[Any]:
        """``execution`` view rows of the sessions done by ``until`` (``executed_row``)."""

    def weekly_work(self, until: date) -> list[tuple[date, float, str]]:
        """(day, volume load, planned role) of every session done by ``until``."""

    def fatigue_days(self, until: date, since: date | None = None) -> list[FatigueDay]:
        """The load series from its first day (or ``since``) to ``until``; past the last
        session, rest days."""

    def fatigue_out(self, until: date) -> Sequence[Any]:
        """The series as the ``fatigue`` view shows it (``fatigue.day_row``)."""

    def load_days_out(self, until: date) -> Sequence[Any]:
        """The daily loads as the ``load`` view shows them (``load.load_day``)."""

    def strength_bests(self, until: date) -> list[dict[str, Any]]:
        """Per exercise with working sets by ``until``, in order of its first set: sets,
        best e1RM (Epley and Brzycki) with its set, heaviest load."""

    def records_out(self, until: date) -> Sequence[Any]:
        """Personal records set by ``until``, in order (``strength.record_row``)."""

    def daily_series(self, metric: str, until: date) -> MetricSeries:
        """A metric's daily values up to ``until`` (a goal on an observed metric)."""

    def e1rm_series(self, exercise_id: str, until: date) -> MetricSeries:
        """One exercise's best e1RM per day, up to ``until`` (an e1RM goal's metric)."""

    def e1rm_out(self, until: date) -> Mapping[str, Sequence[Any]]:
        """exercise_id -> its e1RM series as the ``strength`` view shows it."""

    def daily_values(self, metric: str, until: date, since: date | None = None,
                     ) -> dict[date, float]:
        """A metric's observations averaged per local day (lnRMSSD for ``hrv_rmssd``)."""

    def weeks(self, until: date, since: date | None = None) -> list[WeekRow]:
        """Planned weeks by start, from ``since`` up to the week holding ``until``; each row
        as of the end of its week, except that week's, as of ``until``."""

    def weeks_out(self, until: date) -> Sequence[Any]:
        """Every planned week's row up to the week holding ``until``."""

    def converted_weeks(self, until: date) -> list[date]:
        """Planned weeks up to ``until`` with a converted volume session."""

    def plans(self, since: date) -> list[WeeklyPlan]:
        """Plans of the weeks starting on or after ``since``."""

    def goals(self) -> list[Goal]:
        """Goals by creation."""
