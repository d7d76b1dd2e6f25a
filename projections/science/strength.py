"""Estimated one-repetition maximum (e1RM): Epley, Brzycki, RIR/RPE adjustment, RTS chart.

Loads are in any unit (the result is in the same unit).  ``reps`` may be fractional once
reps in reserve are added (RPE 9.5 → 0.5 RIR).
"""

from __future__ import annotations

from typing import Literal

Formula = Literal["epley", "brzycki"]

BRZYCKI_MAX_REPS = 10
"""Brzycki's own protocol asks for a load that fails within 10 reps; beyond that the
linear reps-to-fatigue assumption is reported to break down (Mayhew et al. 1993,
Chapman et al. 1998), so ``brzycki`` returns None above 10 reps."""

MAX_RIR_FOR_E1RM = 4.0
"""``e1rm`` returns None further than 4 reps from failure (RPE below 6): the RIR-based RPE
scale only gives a range (\"4-6 reps remaining\") at RPE 5-6 (Helms et al. 2016), and
estimates of reps in reserve get worse the further a set is from failure (Zourdos et al.
2016)."""

# Tuchscherer's RPE chart, flattened.  The chart depends only on how far the set was from
# a 1RM: index = 2·(reps − 1) + 2·(10 − RPE) half-steps, e.g. 3 @ RPE 8 and 5 @ RPE 10 are
# both index 4 → 86.3 %.  Entries 0..29 cover reps 1-12 × RPE 6-10 except 12 @ RPE 6,
# whose value differs between reproductions of the chart (57.2 % / 57.4 %) and is left out.
_RTS_PERCENT = (
    100.0, 97.8, 95.5, 93.9, 92.2, 90.7, 89.2, 87.8, 86.3, 85.0,
    83.7, 82.4, 81.1, 79.9, 78.6, 77.4, 76.2, 75.1, 73.9, 72.3,
    70.7, 69.4, 68.0, 66.7, 65.3, 64.0, 62.6, 61.3, 59.9, 58.6,
)  # fmt: skip
_RTS_MAX_REPS = 12
_RTS_MIN_RPE = 6.0


def _check(load: float, reps: float) -> None:
    if load < 0:
        raise ValueError(f"load must be >= 0, got {load}")
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")


def epley(load: float, reps: float) -> float:
    """Epley's e1RM: w × (1 + r/30).

    Source: Epley B. Poundage Chart. Boyd Epley Workout. Lincoln, NE: Body Enterprises;
    1985.  For reps == 1 the load itself is returned (the lift *is* a 1RM; the raw formula
    would add 3.3 %), the usual convention for this formula.
    """
    _check(load, reps)
    if reps == 1:
        return load
    return load * (1 + reps / 30)


def brzycki(load: float, reps: float) -> float | None:
    """Brzycki's e1RM: w × 36 / (37 − r), equivalently w / (1.0278 − 0.0278·r).

    Source: Brzycki M. "Strength testing—predicting a one-rep max from reps-to-fatigue."
    J Phys Educ Recreat Dance 64(1):88-90, 1993.  Defined for r < 37; returns None above
    ``BRZYCKI_MAX_REPS`` (10), the range Brzycki's protocol is meant for.  At r = 10 it
    equals Epley (36/27 = 1 + 10/30).
    """
    _check(load, reps)
    if reps > BRZYCKI_MAX_REPS:
        return None
    return load * 36 / (37 - reps)


def reps_in_reserve(rpe: float) -> float:
    """RIR = 10 − RPE on the RIR-based RPE scale (10 = no rep left, 9 = one, 8 = two...).

    Sources: Zourdos MC, Klemp A, Dolan C, et al. "Novel resistance training-specific
    rating of perceived exertion scale measuring repetitions in reserve." J Strength Cond
    Res 30(1):267-275, 2016; Helms ER, Cronin J, Storey A, Zourdos MC. "Application of the
    repetitions in reserve-based rating of perceived exertion scale for resistance
    training." Strength Cond J 38(4):42-49, 2016.
    """
    if not 0 <= rpe <= 10:
        raise ValueError(f"RPE must be within 0-10, got {rpe}")
    return 10 - rpe


def reps_to_failure(reps: float, rpe: float | None = None, rir: float | None = None) -> float:
    """Reps the set would have reached at failure: reps + RIR, with RIR = 10 − RPE.

    Give ``rpe`` or ``rir`` (both only if they agree).  With neither, the set is taken to
    have gone to failure (RIR 0), which is what Epley and Brzycki assume.
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if rir is not None and rir < 0:
        raise ValueError(f"reps in reserve must be >= 0, got {rir}")
    from_rpe = reps_in_reserve(rpe) if rpe is not None else None
    if from_rpe is not None and rir is not None and from_rpe != rir:
        raise ValueError(f"RPE {rpe} means {from_rpe} reps in reserve, not {rir}")
    reserve = rir if rir is not None else from_rpe
    return reps + (reserve or 0.0)


def e1rm(
    load: float,
    reps: float,
    rpe: float | None = None,
    rir: float | None = None,
    formula: Formula = "epley",
) -> float | None:
    """e1RM from a set that may have stopped short of failure.

    The set's reps are first turned into reps to failure (``reps_to_failure``: reps + RIR,
    RIR = 10 − RPE; Zourdos et al. 2016, Helms et al. 2016), then fed to ``formula``
    (Epley 1985 or Brzycki 1993).  Returns None when the set was more than
    ``MAX_RIR_FOR_E1RM`` (4) reps from failure, or when Brzycki's cap is exceeded.
    """
    total = reps_to_failure(reps, rpe, rir)
    if total - reps > MAX_RIR_FOR_E1RM:
        return None
    if formula == "epley":
        return epley(load, total)
    if formula == "brzycki":
        return brzycki(load, total)
    raise ValueError(f"unknown formula {formula!r}")


def rpe_chart_percent(reps: int, rpe: float) -> float | None:
    """Percentage of 1RM for ``reps`` at ``rpe`` from Tuchscherer's RPE chart.

    Source: Tuchscherer M. The Reactive Training Manual. Reactive Training Systems; 2008
    (chart reprinted in Tuchscherer M., "Beginning RTS", 2014).  Covers reps 1-12 and RPE
    6-10 in half points (12 @ RPE 6 left out, see the table note); anything else → None.
    """
    if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= _RTS_MAX_REPS:
        return None
    if not _RTS_MIN_RPE <= rpe <= 10 or (2 * rpe) != int(2 * rpe):
        return None
    index = 2 * (reps - 1) + int(2 * (10 - rpe))
    return _RTS_PERCENT[index] if index < len(_RTS_PERCENT) else None


def e1rm_rpe_table(load: float, reps: int, rpe: float) -> float | None:
    """e1RM = load / (chart % / 100), the chart being Tuchscherer's (``rpe_chart_percent``).

    Returns None where the chart has no entry.
    """
    if load < 0:
        raise ValueError(f"load must be >= 0, got {load}")
    percent = rpe_chart_percent(reps, rpe)
    if percent is None:
        return None
    return load * 100 / percent
