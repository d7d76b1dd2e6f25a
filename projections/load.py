"""Session load view: per session (sRPE, TRIMPs, volume load) and per day.

- Volume load = Σ reps × load (kg) over the session's non-warm-up sets.
- Session-RPE load = CR-10 session RPE × duration in minutes (Foster C. et al., "A new
  approach to monitoring exercise training", J Strength Cond Res 15(1):109-115, 2001).
- Banister and Edwards TRIMP from heart rate (:mod:`projections.sessions`).
The daily series runs from the athlete's first session to the day asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.facts import Facts, FatigueDay


def load_day(d: FatigueDay) -> dict[str, Any]:
    """A day of the ``load`` view's daily series."""
    return {"day": d.day.isoformat(), "load": round(d.load, 2)}


def load(facts: Facts, day: date) -> dict[str, Any]:
    return {"sessions": facts.sessions_out(day), "days": facts.load_days_out(day)}
