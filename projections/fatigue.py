"""Fatigue view: fitness/fatigue/form, acute:chronic workload ratio, monotony and strain.

The daily load series runs from the day of the athlete's earliest session (every series
starts at 0 there) to the day asked for, days without training counting as 0; a session's
load is its session-RPE load or, without an RPE, its Edwards TRIMP (:mod:`projections.sessions`).
The athlete's settings choose, as they stood then:

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

from datetime import date, timedelta
from typing import Any

from projections.history import AthleteHistory
from projections.science.fatigue import (
    acwr_ewma,
    acwr_flag,
    acwr_rolling,
    monotony,
    monotony_flag,
    pmc_goldencheetah,
    pmc_trainingpeaks,
    strain,
)
from projections.sessions import daily_loads, session_loads


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def fatigue_series(history: AthleteHistory, day: date) -> list[dict[str, Any]]:
    """One row per day from the earliest session to ``day``: load, ctl, atl, tsb, acwr,
    monotony, strain (computed once per history and day: several views read it)."""
    key = f"fatigue_series:{day.isoformat()}"
    if key not in history.cache:
        history.cache[key] = _series(history, day)
    rows: list[dict[str, Any]] = history.cache[key]
    return rows


def _series(history: AthleteHistory, day: date) -> list[dict[str, Any]]:
    loads = [row for row in session_loads(history) if row.day <= day]
    if not loads:
        return []
    first = min(row.day for row in loads)
    series = daily_loads(loads, first, day)
    settings = history.settings
    ctl_days, atl_days = int(settings["ctl_days"]), int(settings["atl_days"])
    if settings.get("fatigue_model") == "goldencheetah":
        pmc = pmc_goldencheetah(series, ctl_days, atl_days)
    else:
        pmc = pmc_trainingpeaks(series, ctl_days, atl_days)
    method = settings.get("acwr_method", "ewma")
    if method == "ewma":
        acwr = acwr_ewma(series)
    else:
        acwr = acwr_rolling(series, coupled=method == "rolling_coupled")
    rows = []
    for i, load in enumerate(series):
        week = series[max(0, i - 6): i + 1]
        mono = monotony(week) if len(week) == 7 else None
        rows.append({
            "day": (first + timedelta(days=i)).isoformat(), "load": round(load, 2),
            "ctl": _r(pmc[i].ctl), "atl": _r(pmc[i].atl), "tsb": _r(pmc[i].tsb),
            "acwr": _r(acwr[i], 3), "monotony": _r(mono, 3),
            "strain": _r(strain(week), 1) if mono is not None else None,
        })
    return rows


def fatigue(history: AthleteHistory, day: date) -> dict[str, Any]:
    series = fatigue_series(history, day)
    settings = history.settings
    latest = series[-1] if series else None
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
