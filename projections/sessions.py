"""Per-session training load from an athlete's history (the session-load view, as computed).

For each session: its local day, planned role, minutes, session-RPE load (Foster et al.
2001), Banister TRIMP and Edwards TRIMP from the heart-rate histogram (or average HR ×
duration when there is none), with the profile (max/resting HR, sex) in effect on that day
and the athlete's Edwards zone bounds (setting ``hr_zone_bounds_pct``),
and the volume load (Σ reps × kg over working sets).  The formulas are in
:mod:`projections.science.load`.

The load that feeds fatigue (``load``) is the session-RPE load; a session without an RPE
(a device import before the athlete rated it) falls back to Edwards TRIMP, which also counts
weighted minutes (weights 1-5 against CR-10's 0-10), so a device-only history still has a
load series.  ``load_source`` says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.history import AthleteHistory
from projections.science.load import (
    banister_trimp,
    banister_trimp_histogram,
    edwards_trimp,
    edwards_trimp_avg,
    session_rpe_load,
)
from services.domain.session import TrainingSession
from services.domain.weeks import local_day


@dataclass
class SessionLoad:
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

    def as_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["day"] = self.day.isoformat()
        return out


def _minutes(session: TrainingSession) -> float | None:
    if session.duration_min is not None:
        return float(session.duration_min)
    if session.ended_at is not None:
        return (session.ended_at - session.started_at).total_seconds() / 60
    return None


def _trimps(session: TrainingSession, profile: dict[str, Any], minutes: float | None,
            bounds: list[float] | None) -> tuple[float | None, float | None]:
    hr_max, hr_rest = profile.get("max_hr"), profile.get("resting_hr")
    histogram = {int(b): float(s) for b, s in
                 ((session.device or {}).get("hr_histogram") or {}).items()}
    if not hr_max:
        return None, None
    if histogram:
        edwards = edwards_trimp(histogram, hr_max, bounds)
        banister = (banister_trimp_histogram(histogram, hr_rest, hr_max, profile.get("sex"))
                    if hr_rest and hr_rest < hr_max else None)
    elif session.avg_hr and minutes:
        edwards = edwards_trimp_avg(minutes, session.avg_hr, hr_max, bounds)
        banister = (banister_trimp(minutes, session.avg_hr, hr_rest, hr_max, profile.get("sex"))
                    if hr_rest and hr_rest < hr_max else None)
    else:
        return None, None
    return (round(banister, 2) if banister is not None else None), round(edwards, 2)


def session_load(history: AthleteHistory, session: TrainingSession) -> SessionLoad:
    profile = history.profile_on(session.started_at)
    minutes = _minutes(session)
    working = [s for s in session.sets.values() if s.get("set_type") != "warmup"]
    volume = sum((s.get("reps") or 0) * (s.get("load_kg") or 0) for s in working)
    srpe = (round(session_rpe_load(session.session_rpe, minutes), 2)
            if session.session_rpe is not None and minutes is not None else None)
    banister, edwards = _trimps(session, profile, minutes,
                                history.athlete.settings.get("hr_zone_bounds_pct"))
    if srpe is not None:
        load, source = srpe, "srpe"
    elif edwards is not None:
        load, source = edwards, "trimp_edwards"
    else:
        load, source = 0.0, "none"
    return SessionLoad(
        str(session.id), local_day(session.started_at, history.timezone), session.sport,
        session.planned_role, session.objective_id, session.planned_session_id,
        round(minutes, 2) if minutes is not None else None, session.session_rpe,
        len(session.sets), round(volume, 2), srpe, banister, edwards, load, source,
    )


def session_loads(history: AthleteHistory) -> list[SessionLoad]:
    """Every session's load, computed once per history (the views share it)."""
    if "session_loads" not in history.cache:
        history.cache["session_loads"] = [session_load(history, s) for s in history.sessions]
    loads: list[SessionLoad] = history.cache["session_loads"]
    return loads


def daily_loads(loads: list[SessionLoad], first: date, last: date) -> list[float]:
    """The load of every day from ``first`` to ``last`` inclusive (days without training: 0)."""
    series = [0.0] * ((last - first).days + 1)
    for row in loads:
        if first <= row.day <= last:
            series[(row.day - first).days] += row.load
    return series
