"""Session training load: session-RPE, Banister TRIMP and Edwards TRIMP.

Pure functions of numbers (no I/O, stdlib only).  Heart rates are in beats per minute,
durations in minutes unless a name says seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# Banister weighting constants (Morton, Fitz-Clarke & Banister 1990; Banister 1991).
_MALE = (0.64, 1.92)
_FEMALE = (0.86, 1.67)

# Edwards 1993 zones: weight k for k·10 + 40 ≤ %HRmax < k·10 + 50 (k = 1..5).
_EDWARDS_FIRST_ZONE_PCT10 = 5  # 50 % HRmax, in tenths of HRmax
_EDWARDS_TOP_WEIGHT = 5


def session_rpe_load(rpe: float, minutes: float) -> float:
    """Session-RPE training load in arbitrary units: CR-10 session RPE × minutes.

    Source: Foster C, Florhaug JA, Franklin J, Gottschall L, Hrovatin LA, Parker S,
    Doleshal P, Dodge C. "A new approach to monitoring exercise training."
    J Strength Cond Res 15(1):109-115, 2001.  Load = RPE (modified Borg CR-10, 0-10)
    × session duration (min).

    Raises ValueError for an RPE outside 0-10 or a negative duration.
    """
    if not 0 <= rpe <= 10:
        raise ValueError(f"session RPE must be on the CR-10 scale (0-10), got {rpe}")
    if minutes < 0:
        raise ValueError(f"duration must be >= 0 minutes, got {minutes}")
    return rpe * minutes


def heart_rate_reserve_fraction(hr: float, hr_rest: float, hr_max: float) -> float:
    """HRr = (HR − HRrest) / (HRmax − HRrest), clamped to [0, 1].

    Clamping keeps a reading below rest or above a stale HRmax from giving a negative or
    super-maximal weight.  Raises ValueError unless hr_max > hr_rest.
    """
    if hr_max <= hr_rest:
        raise ValueError(f"hr_max ({hr_max}) must be above hr_rest ({hr_rest})")
    return min(1.0, max(0.0, (hr - hr_rest) / (hr_max - hr_rest)))


def banister_weighting(hrr: float, sex: str | None) -> float:
    """Banister's intensity weighting y(HRr): 0.64·e^(1.92·HRr) for men, 0.86·e^(1.67·HRr)
    for women (Morton RH, Fitz-Clarke JR, Banister EW. "Modeling human performance in
    running." J Appl Physiol 69(3):1171-1177, 1990).

    ``sex`` is "male" or "female" (case-insensitive).  Any other value, or None, gives the
    mean of the two weightings, our documented choice: it sits between them at every HRr
    (the two TRIMPs differ by at most 0.24 per minute, near HRr 0.85) rather than
    silently picking one.
    """
    key = (sex or "").strip().lower()
    male = _MALE[0] * math.exp(_MALE[1] * hrr)
    female = _FEMALE[0] * math.exp(_FEMALE[1] * hrr)
    if key == "male":
        return male
    if key == "female":
        return female
    return (male + female) / 2


def banister_trimp(
    minutes: float, hr_avg: float, hr_rest: float, hr_max: float, sex: str | None
) -> float:
    """Banister TRIMP from a session's average heart rate.

    Source: Banister EW. "Modeling elite athletic performance." In: MacDougall JD, Wenger
    HA, Green HJ (eds), Physiological Testing of the High-Performance Athlete, 2nd ed.
    Champaign, IL: Human Kinetics; 1991:403-424.  Weightings from Morton et al. 1990.

        TRIMP = D × HRr × 0.64·e^(1.92·HRr)   (men)
        TRIMP = D × HRr × 0.86·e^(1.67·HRr)   (women)

    with D the duration in minutes and HRr = (HRavg − HRrest)/(HRmax − HRrest) clamped to
    [0, 1].  See ``banister_weighting`` for other/unknown ``sex``.
    """
    if minutes < 0:
        raise ValueError(f"duration must be >= 0 minutes, got {minutes}")
    hrr = heart_rate_reserve_fraction(hr_avg, hr_rest, hr_max)
    return minutes * hrr * banister_weighting(hrr, sex)


def banister_trimp_histogram(
    seconds_at_bpm: Mapping[int, float], hr_rest: float, hr_max: float, sex: str | None
) -> float:
    """Banister TRIMP integrated over a heart-rate histogram.

    Same source and formula as ``banister_trimp``, summed bin by bin:
    TRIMP = Σ (s_bpm / 60) × HRr(bpm) × y(HRr(bpm)), where s_bpm is the seconds spent at
    that heart rate.  With one bin it equals ``banister_trimp`` for that duration.
    """
    total = 0.0
    for bpm, seconds in seconds_at_bpm.items():
        if seconds < 0:
            raise ValueError(f"seconds at {bpm} bpm must be >= 0, got {seconds}")
        hrr = heart_rate_reserve_fraction(bpm, hr_rest, hr_max)
        total += seconds / 60 * hrr * banister_weighting(hrr, sex)
    return total


def edwards_zone_weight(hr: float, hr_max: float,
                        bounds_pct: Sequence[float] | None = None) -> int:
    """Edwards zone weight (0-5) of one heart rate.

    ``bounds_pct``: the athlete's own zone bounds in % of HRmax (setting
    ``hr_zone_bounds_pct``, e.g. [50, 60, 70, 80, 90, 100]): zone k, weighted k, runs from
    the k-th bound (included) to the next; at or above the last bound counts as the top
    zone.  None: Edwards' own tenths, as follows.

    Zones (Edwards 1993): 50-60 % HRmax → 1, 60-70 → 2, 70-80 → 3, 80-90 → 4,
    90-100 → 5.  Boundary handling (ours, the book gives none): each zone includes its
    lower bound and excludes its upper one, so exactly 60 % is zone 2; below 50 % counts 0;
    at or above 100 % (HRmax out of date) counts as zone 5.  The percentage is rounded to
    1e-9 first so that e.g. 120/200 is not lost to binary floating point.
    """
    if hr_max <= 0:
        raise ValueError(f"hr_max must be > 0, got {hr_max}")
    if bounds_pct is not None:
        pct = round(100 * hr / hr_max, 9)
        return sum(1 for b in bounds_pct[:-1] if pct >= b)
    tenths = math.floor(round(10 * hr / hr_max, 9))
    if tenths < _EDWARDS_FIRST_ZONE_PCT10:
        return 0
    return min(_EDWARDS_TOP_WEIGHT, tenths - _EDWARDS_FIRST_ZONE_PCT10 + 1)


def edwards_trimp(seconds_at_bpm: Mapping[int, float], hr_max: float,
                  bounds_pct: Sequence[float] | None = None) -> float:
    """Edwards' summated heart-rate-zone TRIMP from a heart-rate histogram.

    Source: Edwards S. The Heart Rate Monitor Book. Sacramento, CA: Fleet Feet Press;
    1993.  TRIMP = Σ_k (minutes in zone k) × k, zones 50-60, 60-70, 70-80, 80-90,
    90-100 % HRmax weighted 1..5 (boundaries: see ``edwards_zone_weight``).
    """
    total = 0.0
    for bpm, seconds in seconds_at_bpm.items():
        if seconds < 0:
            raise ValueError(f"seconds at {bpm} bpm must be >= 0, got {seconds}")
        total += seconds / 60 * edwards_zone_weight(bpm, hr_max, bounds_pct)
    return total


def edwards_trimp_avg(minutes: float, hr_avg: float, hr_max: float,
                      bounds_pct: Sequence[float] | None = None) -> float:
    """Fallback Edwards TRIMP when only the session's average heart rate is known:
    minutes × zone weight of HRavg (Edwards 1993, zones as in ``edwards_zone_weight``).

    Coarser than the histogram form: a session alternating zones 1 and 5 scores as its
    average zone.
    """
    if minutes < 0:
        raise ValueError(f"duration must be >= 0 minutes, got {minutes}")
    return minutes * edwards_zone_weight(hr_avg, hr_max, bounds_pct)


NP_WINDOW_S = 30  # Coggan's rolling average


def normalized_power(watts_per_second: Sequence[float]) -> float | None:
    """Normalized Power (W) of a power series sampled once a second.

    Source: Allen H, Coggan A. Training and Racing with a Power Meter, 2nd ed. Boulder, CO:
    VeloPress; 2010, ch. 7: the 30-second rolling average of power, each raised to the
    fourth power, averaged, and the fourth root taken.  None under 30 s of samples.
    """
    if len(watts_per_second) < NP_WINDOW_S:
        return None
    window = sum(watts_per_second[:NP_WINDOW_S])
    fourth = (window / NP_WINDOW_S) ** 4
    for i in range(NP_WINDOW_S, len(watts_per_second)):
        window += watts_per_second[i] - watts_per_second[i - NP_WINDOW_S]
        fourth += (max(window, 0.0) / NP_WINDOW_S) ** 4
    return float((fourth / (len(watts_per_second) - NP_WINDOW_S + 1)) ** 0.25)


def power_tss(minutes: float, normalized_w: float, threshold_w: float) -> float:
    """Training Stress Score from power: hours × IF² × 100, IF = NP / FTP.

    Source: Allen H, Coggan A. Training and Racing with a Power Meter, 2nd ed. (2010),
    ch. 7: TSS = (s × NP × IF) / (FTP × 3600) × 100, which is hours × IF² × 100; an hour at
    FTP scores 100.  ``threshold_w`` is the FTP, or a critical power standing in for it (as
    Stryd's running power does).  Raises ValueError unless the threshold is positive and
    the duration not negative.
    """
    if threshold_w <= 0:
        raise ValueError(f"the threshold power must be > 0 W, got {threshold_w}")
    if minutes < 0:
        raise ValueError(f"duration must be >= 0 minutes, got {minutes}")
    intensity = normalized_w / threshold_w
    return minutes / 60 * intensity**2 * 100
