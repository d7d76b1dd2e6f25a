"""Load-response series: Performance Manager (two variants), ACWR, monotony and strain.

Every series function takes daily loads, index 0 being the athlete's first day, one value
per calendar day (rest days are 0, never skipped), and returns one entry per day.  All
averages start from 0 the day before index 0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ACWR_HIGH = 1.5
ACWR_LOW = 0.8
MONOTONY_HIGH = 2.0


@dataclass(frozen=True, slots=True)
class PmcDay:
    """One day of a Performance Manager chart.

    ctl = chronic training load ("fitness"; GoldenCheetah's LTS), atl = acute training
    load ("fatigue"; STS), tsb = training stress balance ("form"; SB).
    """

    ctl: float
    atl: float
    tsb: float


def _check_days(*days: int) -> None:
    for n in days:
        if n < 1:
            raise ValueError(f"time constants and windows must be >= 1 day, got {n}")


def pmc_trainingpeaks(
    loads: Sequence[float], ctl_days: int = 42, atl_days: int = 7
) -> list[PmcDay]:
    """TrainingPeaks' Performance Manager: CTL, ATL and TSB per day.

    Source: Coggan AR. "The Science of the TrainingPeaks Performance Manager."
    TrainingPeaks, trainingpeaks.com/learn/articles/the-science-of-the-performance-manager;
    TrainingPeaks Help Center on Fitness (CTL), Fatigue (ATL) and Form (TSB).

        CTL_t = CTL_{t−1} + (L_t − CTL_{t−1}) / 42      ATL_t likewise with 7
        TSB_t = CTL_{t−1} − ATL_{t−1}                   (form = yesterday's balance)

    CTL and ATL start at 0, so TSB on day 0 is 0.
    """
    _check_days(ctl_days, atl_days)
    days: list[PmcDay] = []
    day = PmcDay(0.0, 0.0, 0.0)
    for load in loads:
        day = pmc_trainingpeaks_step(day, load, ctl_days, atl_days)
        days.append(day)
    return days


def pmc_trainingpeaks_step(before: PmcDay, load: float, ctl_days: int, atl_days: int,
                           ) -> PmcDay:
    """One day of :func:`pmc_trainingpeaks` from the day before (0s before the first)."""
    ctl = before.ctl + (load - before.ctl) / ctl_days
    atl = before.atl + (load - before.atl) / atl_days
    return PmcDay(ctl, atl, before.ctl - before.atl)


def pmc_goldencheetah(
    loads: Sequence[float], lts_days: int = 42, sts_days: int = 7, *, sb_today: bool = False
) -> list[PmcDay]:
    """GoldenCheetah's Performance Manager: LTS (→ ctl), STS (→ atl) and SB (→ tsb).

    Source: GoldenCheetah, src/Metrics/PMCData.cpp, PMCData::refresh() (Liversedge M,
    2014; read at commit 0c18f2a).  With decay k = e^(−1/τ):

        X_t = X_{t−1}·k + L_t·(1 − k)                   τ = 42 (LTS) or 7 (STS)
        SB_t = LTS_{t−1} − STS_{t−1}                    (default: shown the next day)
        SB_t = LTS_t − STS_t                            (sb_today=True)

    PMCData.cpp writes ``sb_[day + (sbToday ? 0 : 1)] = lts_[day] - sts_[day]``; the
    athlete setting "PMC Stress Balance Today" (GC_SB_TODAY) defaults to off
    (``defaultSBToday = 0``), so SB on day 0 is 0.  GoldenCheetah's own day 0 is the day
    before the first ride; here index 0 is already a training day, with LTS/STS at 0 the
    day before, which is the same series.  Season seeds are not modelled.
    """
    _check_days(lts_days, sts_days)
    days: list[PmcDay] = []
    day = PmcDay(0.0, 0.0, 0.0)
    for load in loads:
        day = pmc_goldencheetah_step(day, load, lts_days, sts_days, sb_today=sb_today)
        days.append(day)
    return days


def pmc_goldencheetah_step(before: PmcDay, load: float, lts_days: int, sts_days: int, *,
                           sb_today: bool = False) -> PmcDay:
    """One day of :func:`pmc_goldencheetah` from the day before (0s before the first)."""
    lte = math.exp(-1.0 / lts_days)
    ste = math.exp(-1.0 / sts_days)
    lts = load * (1.0 - lte) + before.ctl * lte
    sts = load * (1.0 - ste) + before.atl * ste
    return PmcDay(lts, sts, lts - sts if sb_today else before.ctl - before.atl)


def ewma(loads: Sequence[float], span: int) -> list[float]:
    """Exponentially weighted moving average with λ = 2/(N + 1), seeded with 0:
    EWMA_t = L_t·λ + (1 − λ)·EWMA_{t−1}, EWMA_{−1} = 0.

    Source: Williams S, West S, Cross MJ, Stokes KA. "Better way to determine the
    acute:chronic workload ratio?" Br J Sports Med 51(3):209-210, 2017.  (The letter does
    not fix a seed; 0 before the first day is our choice, matching the PMC functions.)
    """
    _check_days(span)
    out: list[float] = []
    value = 0.0
    for load in loads:
        value = ewma_step(value, load, span)
        out.append(value)
    return out


def ewma_step(before: float, load: float, span: int) -> float:
    """One day of :func:`ewma` from the day before (0 before the first)."""
    lam = 2 / (span + 1)
    return load * lam + (1 - lam) * before


def acwr_ewma(
    loads: Sequence[float], acute: int = 7, chronic: int = 28, *, min_days: int | None = None
) -> list[float | None]:
    """Acute:chronic workload ratio from two EWMAs (Williams et al. 2017, see ``ewma``):
    ratio_t = EWMA_acute,t / EWMA_chronic,t, λ = 2/(N + 1), N = 7 and 28 days.

    None where the chronic EWMA is 0, and for the first ``min_days`` − 1 days (default
    ``chronic``): from a 0 seed the chronic average has not built up yet and the ratio is
    inflated (day 0 would be λ_acute/λ_chronic = 0.25/0.069 = 3.6 whatever the load).
    Pass ``min_days=1`` to get every day.
    """
    _check_days(acute, chronic)
    first = chronic if min_days is None else min_days
    acute_avg = ewma(loads, acute)
    chronic_avg = ewma(loads, chronic)
    return [
        a / c if day + 1 >= first and c != 0 else None
        for day, (a, c) in enumerate(zip(acute_avg, chronic_avg, strict=True))
    ]


def acwr_rolling(
    loads: Sequence[float], acute: int = 7, chronic: int = 28, *, coupled: bool = True
) -> list[float | None]:
    """Acute:chronic workload ratio from rolling averages of daily load.

    acute_t = mean(L_{t−6..t}).  Coupled (Hulin BT, Gabbett TJ, Blanch P, et al. "Spikes in
    acute workload are associated with increased injury risk in elite cricket fast
    bowlers." Br J Sports Med 48(8):708-712, 2014): chronic_t = mean(L_{t−27..t}), which
    contains the acute week.  Uncoupled (Lolli L, Batterham AM, Hawkins R, et al.
    "Mathematical coupling causes spurious correlation within the conventional
    acute-to-chronic workload ratio calculations." Br J Sports Med 53(15):921-922, 2019):
    chronic_t = mean(L_{t−27..t−7}), the 21 days before the acute week.

    None until a full chronic window exists (index < 27 with the defaults) and where the
    chronic mean is 0.
    """
    _check_days(acute, chronic)
    if acute >= chronic:
        raise ValueError(f"the acute window ({acute}) must be shorter than chronic ({chronic})")
    out: list[float | None] = []
    for day in range(len(loads)):
        start = day - chronic + 1
        if start < 0:
            out.append(None)
            continue
        acute_mean = statistics.fmean(loads[day - acute + 1 : day + 1])
        history = loads[start : day + 1] if coupled else loads[start : day - acute + 1]
        chronic_mean = statistics.fmean(history)
        out.append(acute_mean / chronic_mean if chronic_mean != 0 else None)
    return out


SdKind = Literal["sample", "population"]


def _sd(values: Sequence[float], sd: SdKind) -> float:
    """Sample (n − 1) or population (n) SD in floating point (``statistics.stdev`` computes
    in exact fractions: a hundred times slower, and the views take it for every day)."""
    if sd not in ("sample", "population"):
        raise ValueError(f"unknown SD kind {sd!r}")
    n = len(values)
    mean = math.fsum(values) / n
    squares = math.fsum((v - mean) ** 2 for v in values)
    return math.sqrt(squares / (n - 1 if sd == "sample" else n))


def monotony(week: Sequence[float], *, sd: SdKind = "sample") -> float | None:
    """Training monotony over a window of daily loads (normally 7 days, rest days as 0):
    mean daily load / SD of daily load.

    Source: Foster C. "Monitoring training in athletes with reference to overtraining
    syndrome." Med Sci Sports Exerc 30(7):1164-1168, 1998 ("daily mean/standard
    deviation").  The paper does not say which SD; we default to the sample SD (n − 1,
    spreadsheet STDEV, as most later sRPE work computes it) and offer ``sd="population"``.
    SD 0 (every day equal, including an all-rest week) gives None: the ratio is undefined
    and capping it would invent a number.
    """
    if len(week) < 2:
        raise ValueError("monotony needs at least 2 days")
    spread = _sd(week, sd)
    if spread == 0:
        return None
    return statistics.fmean(week) / spread


def strain(week: Sequence[float], *, sd: SdKind = "sample") -> float | None:
    """Training strain = weekly load (Σ of the window's daily loads) × monotony
    (Foster 1998, see ``monotony``); None where monotony is None."""
    mono = monotony(week, sd=sd)
    return None if mono is None else math.fsum(week) * mono


def acwr_flag(ratio: float | None) -> Literal["high", "low"] | None:
    """"high" above 1.5, "low" below 0.8, else None (also for None).

    Thresholds: Gabbett TJ. "The training-injury prevention paradox: should athletes be
    training smarter and harder?" Br J Sports Med 50(5):273-280, 2016 (0.8-1.3 "sweet
    spot", ≥ 1.5 "danger zone").  Boundaries themselves (exactly 1.5 or 0.8) are not
    flagged.
    """
    if ratio is None:
        return None
    if ratio > ACWR_HIGH:
        return "high"
    if ratio < ACWR_LOW:
        return "low"
    return None


def monotony_flag(value: float | None) -> bool:
    """True when monotony is above 2.0, the threshold used since Foster (1998) for
    monotonous training; None (undefined monotony) is not flagged."""
    return value is not None and value > MONOTONY_HIGH
