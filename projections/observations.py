"""How an observation counts in the daily values of its metric."""

from __future__ import annotations

from datetime import date, datetime

from projections.science.recovery import ln_rmssd
from services.domain.athlete import Athlete
from services.domain.weeks import local_day


def observation_day(athlete: Athlete, observed_at: datetime) -> date:
    """The local day of an observation, in the zone the athlete was in at the time."""
    return local_day(observed_at, str(athlete.profile_on(observed_at)["timezone"]))


def observation_value(metric: str, value: float) -> float:
    """The value averaged per day: lnRMSSD for HRV (Plews et al., see recovery), else as is."""
    return ln_rmssd(value) if metric == "hrv_rmssd" else value
