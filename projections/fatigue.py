"""Fatigue view: fitness/fatigue/form, acute:chronic workload ratio, monotony and strain.

The daily load series runs from the day of the athlete's earliest session (every series
starts at 0 there) to the day asked for, days without training counting as 0; a session's
load is its session-RPE load or, without an RPE, its Edwards TRIMP (:mod:`projections.sessions`).
The series is computed by :func:`projections.derive.fatigue_days`.  The athlete's settings
choose, for the whole series (a change redraws it, as intervals.icu does):

- ``fatigue_model``: ``trainingpeaks`` (default; CTL/ATL updated by 1/τ, form = yesterday's
  CTL − ATL) or ``goldencheetah`` (decay e^(−1/τ)); ``ctl_days`` 42, ``atl_days`` 7.
  Formulas and sources: :func:`projections.science.fatigue.pmc_trainingpeaks`,
  :func:`~projections.science.fatigue.pmc_goldencheetah`.
- ``acwr_method``: ``ewma`` (default; Williams et al. 2017, N = 7 and 28), ``rolling_coupled``
  or ``rolling_uncoupled`` (Hulin et al. 2014; Lolli et al. 2019).

Monotony and strain (Foster 1998) over the 7 days ending on each day, sample SD.  Flags:
ACWR above 1.5 or below 0.8, monotony above 2.0.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.facts import Facts, FatigueDay
from projections.science.fatigue import acwr_flag, monotony_flag


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def day_row(d: FatigueDay) -> dict[str, Any]:
    """A day of the series as the view shows it (rounded)."""
    return {"day": d.day.isoformat(), "load": round(d.load, 2), "ctl": _r(d.ctl),
            "atl": _r(d.atl), "tsb": _r(d.tsb), "acwr": _r(d.acwr, 3),
            "monotony": _r(d.monotony, 3), "strain": _r(d.strain, 1)}


def fatigue(facts: Facts, day: date) -> dict[str, Any]:
    series = facts.fatigue_out(day)
    settings = facts.athlete.settings
    last = facts.fatigue_days(day, day)
    latest = day_row(last[-1]) if last else None
    flags = []
    if latest is not None:
        acwr = acwr_flag(latest["acwr"])
        if acwr is not None:
            flags.append(f"acwr_{acwr}")
        if monotony_flag(latest["monotony"]):
            flags.append("monotony_high")
    return {
        "model": settings.get("fatigue_model", "trainingpeaks"),
        "acwr_method": settings.get("acwr_method", "ewma"),
        "ctl_days": settings["ctl_days"], "atl_days": settings["atl_days"],
        "today": latest, "flags": flags, "series": series,
    }
