"""Recovery view: resting heart rate and lnRMSSD against the athlete's own baseline.

Daily values come from observations (device imports or hand entry: ``resting_hr`` in bpm,
``hrv_rmssd`` in ms, turned into lnRMSSD); several readings on one day are averaged.  Each
marker's 7-day rolling mean is compared with its 60-day baseline ± the smallest worthwhile
change (0.5 × SD), per Plews et al. 2012/2013 (:func:`projections.science.recovery.
recovery_status`): lnRMSSD below the band, or resting HR above it, is ``suppressed``.
The overall status is the worst of the two markers that can be judged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from projections.history import AthleteHistory
from projections.science.recovery import ln_rmssd, recovery_status

MARKERS = {"resting_hr": ("resting_hr", False), "ln_rmssd": ("hrv_rmssd", True)}
ORDER = {"suppressed": 0, "normal": 1, "elevated": 2}


def daily_values(history: AthleteHistory, metric: str, day: date) -> dict[date, float]:
    """A metric's observations averaged per local day, up to ``day`` (lnRMSSD for HRV)."""
    key = f"daily_values:{metric}"
    if key not in history.cache:
        by_day: dict[date, list[float]] = defaultdict(list)
        zone = ZoneInfo(history.timezone)
        for obs in history.observations:
            if obs.metric == metric:
                by_day[obs.observed_at.astimezone(zone).date()].append(
                    ln_rmssd(obs.value) if metric == "hrv_rmssd" else obs.value)
        history.cache[key] = {d: sum(v) / len(v) for d, v in sorted(by_day.items())}
    values: dict[date, float] = history.cache[key]
    return {d: v for d, v in values.items() if d <= day}


def recovery(history: AthleteHistory, day: date) -> dict[str, Any]:
    markers: dict[str, Any] = {}
    statuses: list[str] = []
    for name, (metric, higher_is_better) in MARKERS.items():
        values = daily_values(history, metric, day)
        judged = recovery_status(values, day, higher_is_better)
        markers[name] = {
            "status": judged.status if judged else None,
            "rolling_mean": round(judged.rolling_mean, 3) if judged else None,
            "baseline_mean": round(judged.baseline_mean, 3) if judged else None,
            "swc": round(judged.swc, 3) if judged else None,
            "series": [{"day": d.isoformat(), "value": round(v, 3)}
                       for d, v in values.items() if (day - d).days < 90],
        }
        if judged:
            statuses.append(judged.status)
    overall = min(statuses, key=ORDER.__getitem__) if statuses else None
    return {"status": overall, "markers": markers}
