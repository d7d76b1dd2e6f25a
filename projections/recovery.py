"""Recovery view: resting heart rate and lnRMSSD against the athlete's own baseline.

Daily values come from observations (device imports or hand entry: ``resting_hr`` in bpm,
``hrv_rmssd`` in ms, turned into lnRMSSD); several readings on one day are averaged, each
on its local day in the zone the athlete was in then.  Each
marker's 7-day rolling mean is compared with its 60-day baseline ± the smallest worthwhile
change (0.5 × SD), per Plews et al. 2012/2013 (:func:`projections.science.recovery.
recovery_status`): lnRMSSD below the band, or resting HR above it, is ``suppressed``.
The overall status is the worst of the two markers that can be judged.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from projections.facts import Facts
from projections.science.recovery import recovery_status

MARKERS = {"resting_hr": ("resting_hr", False), "ln_rmssd": ("hrv_rmssd", True)}
ORDER = {"suppressed": 0, "normal": 1, "elevated": 2}
WINDOW_DAYS, BASELINE_DAYS, SHOWN_DAYS = 7, 60, 90


def recovery(facts: Facts, day: date) -> dict[str, Any]:
    markers: dict[str, Any] = {}
    statuses: list[str] = []
    since = day - timedelta(days=max(WINDOW_DAYS + BASELINE_DAYS, SHOWN_DAYS) - 1)
    for name, (metric, higher_is_better) in MARKERS.items():
        values = facts.daily_values(metric, day, since)
        judged = recovery_status(values, day, higher_is_better, WINDOW_DAYS, BASELINE_DAYS)
        markers[name] = {
            "status": judged.status if judged else None,
            "rolling_mean": round(judged.rolling_mean, 3) if judged else None,
            "baseline_mean": round(judged.baseline_mean, 3) if judged else None,
            "swc": round(judged.swc, 3) if judged else None,
            "series": [{"day": d.isoformat(), "value": round(v, 3)}
                       for d, v in values.items() if (day - d).days < SHOWN_DAYS],
        }
        if judged:
            statuses.append(judged.status)
    overall = min(statuses, key=ORDER.__getitem__) if statuses else None
    return {"status": overall, "markers": markers}
