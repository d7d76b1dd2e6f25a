"""Recovery markers: RMSSD / lnRMSSD from RR intervals, and a Plews-style daily status."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

RR_MIN_MS = 300.0
RR_MAX_MS = 2000.0
RR_MAX_CHANGE = 0.20
LOCAL_WINDOW = 11  # beats around an interval whose median it is compared with

MIN_WINDOW_VALUES = 3
MIN_BASELINE_VALUES = 14


def rr_artefact_mask(rr_ms: Sequence[float]) -> list[bool]:
    """Which RR intervals to keep (True) under our artefact rule.

    Our rule (not a published algorithm; threshold filters of this kind are common, e.g.
    Kubios HRV, Tarvainen MP et al., Comput Methods Programs Biomed 113(1):210-220, 2014):
    drop an interval outside 300-2000 ms (200-30 bpm), and drop one that differs by more
    than 20 % from the last kept interval.  Comparing with the last *kept* interval means
    an ectopic beat and its compensatory pause are both dropped without the beats after
    them being dropped in a cascade.  The first in-range interval is the reference.
    """
    keep: list[bool] = []
    reference: float | None = None
    for rr in rr_ms:
        ok = RR_MIN_MS <= rr <= RR_MAX_MS
        if ok and reference is not None:
            ok = abs(rr - reference) <= RR_MAX_CHANGE * reference
        keep.append(ok)
        if ok:
            reference = rr
    return keep


def rmssd(rr_ms: Sequence[float], *, filter_artefacts: bool = True) -> float | None:
    """Root mean square of successive RR differences, in ms.

    Source: Task Force of the European Society of Cardiology and the North American
    Society of Pacing and Electrophysiology. "Heart rate variability: standards of
    measurement, physiological interpretation and clinical use." Circulation
    93(5):1043-1065, 1996:  RMSSD = sqrt( Σ_{i=1}^{N−1} (RR_{i+1} − RR_i)² / (N − 1) ).

    With ``filter_artefacts`` (default) intervals failing ``rr_artefact_mask`` are dropped
    and a difference is only taken between two kept intervals that were adjacent in the
    recording (never across a gap).  None when no such pair is left.
    """
    keep = rr_artefact_mask(rr_ms) if filter_artefacts else [True] * len(rr_ms)
    squares = [
        (rr_ms[i + 1] - rr_ms[i]) ** 2
        for i in range(len(rr_ms) - 1)
        if keep[i] and keep[i + 1]
    ]
    if not squares:
        return None
    return math.sqrt(math.fsum(squares) / len(squares))


def local_artefact_mask(rr_ms: Sequence[float]) -> list[bool]:
    """Which R-R intervals are normal beats (True): within 300-2000 ms and within 20 % of
    the median of the in-range intervals around them (``LOCAL_WINDOW`` beats, centred).

    The 20 % rule is Malik's (Malik M, Farrell T, Cripps T, Camm AJ. Eur Heart J
    10(12):1060-1074, 1989); comparing with a local median rather than with the previous
    beat is Kubios' threshold-based detection (Tarvainen et al. 2014, above), which keeps
    one accepted ectopic beat from rejecting every beat after it.
    """
    half = LOCAL_WINDOW // 2
    in_range = [RR_MIN_MS <= rr <= RR_MAX_MS for rr in rr_ms]
    keep = []
    for i, rr in enumerate(rr_ms):
        around = [rr_ms[j] for j in range(max(0, i - half), min(len(rr_ms), i + half + 1))
                  if in_range[j]]
        keep.append(in_range[i] and abs(rr - statistics.median(around))
                    <= RR_MAX_CHANGE * statistics.median(around))
    return keep


def interpolate_artefacts(rr_ms: Sequence[float]) -> tuple[list[float], int]:
    """The R-R series with each artefact (``local_artefact_mask``) replaced by linear
    interpolation between the accepted beats either side, and how many were replaced.

    Replacing rather than dropping keeps successive differences beat to beat, as Kubios'
    correction does (it interpolates with a cubic spline); at either end the nearest
    accepted beat is taken.  An empty list when no interval is accepted.
    """
    keep = local_artefact_mask(rr_ms)
    good = [i for i, ok in enumerate(keep) if ok]
    if not good:
        return [], len(rr_ms)
    out = [float(rr) for rr in rr_ms]
    before = -1  # position in ``good`` of the accepted beat before i
    for i in range(len(out)):
        if keep[i]:
            before += 1
            continue
        left = good[before] if before >= 0 else good[0]
        right = good[before + 1] if before + 1 < len(good) else good[-1]
        share = (i - left) / (right - left) if right != left else 0.0
        out[i] = rr_ms[left] + (rr_ms[right] - rr_ms[left]) * share
    return out, len(rr_ms) - len(good)


def corrected_rmssd(rr_ms: Sequence[float]) -> float | None:
    """RMSSD (ms) of the series after ``interpolate_artefacts``; None under two beats."""
    corrected, _ = interpolate_artefacts(rr_ms)
    return rmssd(corrected, filter_artefacts=False)


def ln_rmssd(value: float) -> float:
    """Natural log of RMSSD (ms), the form Plews et al. (2012, 2013) track day to day:
    the log makes its skewed, multiplicative day-to-day variation roughly normal."""
    if value <= 0:
        raise ValueError(f"RMSSD must be > 0 to take its log, got {value}")
    return math.log(value)


Status = Literal["suppressed", "normal", "elevated"]


@dataclass(frozen=True, slots=True)
class RecoveryStatus:
    """A day's recovery marker against the athlete's own baseline.

    status: "suppressed" = worse than the normal band, "elevated" = better than it
    (see ``recovery_status`` for the direction of each marker).
    """

    status: Status
    rolling_mean: float
    baseline_mean: float
    swc: float
    window_values: int
    baseline_values: int


def recovery_status(
    values_by_day: Mapping[date, float],
    day: date,
    higher_is_better: bool,
    window: int = 7,
    baseline: int = 60,
) -> RecoveryStatus | None:
    """Rolling mean of a daily recovery marker compared with the athlete's baseline ± SWC.

    Sources: Plews DJ, Laursen PB, Kilding AE, Buchheit M. "Heart rate variability in
    elite triathletes, is variation in variability the key to effective training? A case
    comparison." Eur J Appl Physiol 112(11):3729-3741, 2012; Plews DJ, Laursen PB,
    Stanley J, Kilding AE, Buchheit M. "Training adaptation and heart rate variability in
    elite endurance athletes: opening the door to effective monitoring." Sports Med
    43(9):773-781, 2013; minimum of 3 values a week from Plews DJ et al. "Monitoring
    training with heart-rate variability: how much compliance is needed for valid
    assessment?" Int J Sports Physiol Perform 9(5):783-790, 2014.

        rolling mean  = mean of the values on the ``window`` days ending on ``day``
        baseline mean = mean of the values on the ``baseline`` days before that window
        SWC           = 0.5 × SD (sample) of those baseline values

    Outside baseline mean ± SWC (strictly) the marker is "suppressed" or "elevated":
    with ``higher_is_better`` (lnRMSSD) a low mean is suppressed; without it (resting heart
    rate) a high mean is suppressed and a low one elevated.  The baseline stops where the
    window starts so that the days being judged do not pull their own reference.

    Days missing from the mapping are simply absent.  None with fewer than 3 values in
    the window (Plews et al. 2014) or fewer than 14 in the baseline (our minimum for a
    usable SD); shorter windows/baselines lower these to their own length.
    """
    if window < 1 or baseline < 2:
        raise ValueError("window must be >= 1 day and baseline >= 2 days")
    window_start = day - timedelta(days=window - 1)
    baseline_start = window_start - timedelta(days=baseline)
    recent: list[float] = []
    reference: list[float] = []
    for when, value in values_by_day.items():
        if window_start <= when <= day:
            recent.append(value)
        elif baseline_start <= when < window_start:
            reference.append(value)
    if (len(recent) < min(MIN_WINDOW_VALUES, window)
            or len(reference) < min(MIN_BASELINE_VALUES, baseline)):
        return None
    rolling_mean = statistics.fmean(recent)
    baseline_mean = statistics.fmean(reference)
    swc = 0.5 * statistics.stdev(reference)
    status: Status = "normal"
    if rolling_mean < baseline_mean - swc:
        status = "suppressed" if higher_is_better else "elevated"
    elif rolling_mean > baseline_mean + swc:
        status = "elevated" if higher_is_better else "suppressed"
    return RecoveryStatus(status, rolling_mean, baseline_mean, swc, len(recent), len(reference))
