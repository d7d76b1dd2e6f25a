"""RMSSD (Task Force 1996), artefact rule, lnRMSSD and baseline status (Plews 2012/2013)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projections.science.recovery import (
    ln_rmssd,
    recovery_status,
    rmssd,
    rr_artefact_mask,
)

TOL = 1e-6


def test_rmssd_task_force_formula_hand_worked() -> None:
    # Task Force 1996 gives the definition, no worked series; hand-worked:
    #   RR 800, 810, 790, 800 → differences 10, −20, 10 → squares 100, 400, 100
    #   mean = 600/3 = 200 → RMSSD = sqrt(200) = 14.142136 ms
    assert rmssd([800, 810, 790, 800]) == pytest.approx(14.142136, abs=TOL)
    assert rmssd([800]) is None
    assert rmssd([]) is None


def test_artefact_rule_drops_ectopic_beat_without_bridging_the_gap() -> None:
    # Our rule: keep 300-2000 ms and ≤ 20 % change from the last kept interval.
    #   1000 ✓, 1020 ✓ (2 %), 600 ✗ (41 % below 1020), 1010 ✓ (1 % from 1020), 1000 ✓, 990 ✓
    rr = [1000.0, 1020.0, 600.0, 1010.0, 1000.0, 990.0]
    assert rr_artefact_mask(rr) == [True, True, False, True, True, True]
    # Pairs of adjacent kept beats: (1000,1020) 20² = 400; (1010,1000) 100; (1000,990) 100.
    # (1020,600) and (600,1010) are not used, nor the gap 1020→1010.
    # RMSSD = sqrt((400 + 100 + 100)/3) = sqrt(200) = 14.142136
    assert rmssd(rr) == pytest.approx(14.142136, abs=TOL)
    # Unfiltered: squares 400, 176400, 168100, 100, 100 → 345100/5 = 69020 → 262.716577
    assert rmssd(rr, filter_artefacts=False) == pytest.approx(262.716577, abs=TOL)


def test_artefact_rule_bounds() -> None:
    # Out of range: 250 ms (240 bpm) and 2100 ms (29 bpm) are dropped.
    assert rr_artefact_mask([250.0, 800.0, 810.0, 2100.0]) == [False, True, True, False]
    assert rmssd([250.0, 800.0, 810.0, 2100.0]) == pytest.approx(10.0)
    # Exactly 20 % is kept, just over is not.
    assert rr_artefact_mask([1000.0, 1200.0]) == [True, True]
    assert rr_artefact_mask([1000.0, 1201.0]) == [True, False]
    # Nothing left → None.
    assert rmssd([100.0, 150.0, 3000.0]) is None


def test_ln_rmssd() -> None:
    # ln(14.142136) = ln(sqrt(200)) = 0.5 × ln 200 = 0.5 × 5.298317 = 2.649159
    assert ln_rmssd(14.142136) == pytest.approx(2.649159, abs=TOL)
    with pytest.raises(ValueError, match="> 0"):
        ln_rmssd(0)


DAY = date(2026, 3, 31)
WINDOW_START = DAY - timedelta(days=6)  # 25 March; the 60 baseline days end on 24 March


def _baseline(values: list[float]) -> dict[date, float]:
    """One value a day, ending the day before the 7-day window."""
    return {WINDOW_START - timedelta(days=i + 1): v for i, v in enumerate(values)}


def _window(values: list[float]) -> dict[date, float]:
    return {DAY - timedelta(days=i): v for i, v in enumerate(values)}


def _status(values: dict[date, float], higher_is_better: bool) -> str | None:
    result = recovery_status(values, DAY, higher_is_better)
    return None if result is None else result.status


def test_recovery_status_lnrmssd_hand_worked() -> None:
    # Method: Plews et al. 2012 (Eur J Appl Physiol), 2013 (Sports Med): 7-day rolling
    # mean of lnRMSSD against baseline mean ± SWC, SWC = 0.5 × SD.  Hand-worked:
    #   baseline: 7 × 4.0 and 7 × 4.2 → mean 4.1; deviations ±0.1; Σd² = 14 × 0.01 = 0.14
    #             sample SD = sqrt(0.14/13) = 0.103775; SWC = 0.5 × 0.103775 = 0.051887
    #             normal band 4.048113 .. 4.151887
    #   window 3.9, 4.0, 4.1 → mean 4.0 < 4.048113 → suppressed (lower lnRMSSD is worse)
    base = _baseline([4.0, 4.2] * 7)
    result = recovery_status(base | _window([3.9, 4.0, 4.1]), DAY, higher_is_better=True)
    assert result is not None
    assert result.status == "suppressed"
    assert result.rolling_mean == pytest.approx(4.0)
    assert result.baseline_mean == pytest.approx(4.1)
    assert result.swc == pytest.approx(0.051887, abs=TOL)
    assert (result.window_values, result.baseline_values) == (3, 14)
    # window 4.1 × 3 → 4.1, inside the band → normal; 4.2 × 3 → 4.2 > 4.151887 → elevated
    assert _status(base | _window([4.1] * 3), higher_is_better=True) == "normal"
    assert _status(base | _window([4.2] * 3), higher_is_better=True) == "elevated"


def test_recovery_status_resting_heart_rate_direction() -> None:
    # Resting HR: higher is worse.  Hand-worked:
    #   baseline: 7 × 50 and 7 × 52 → mean 51; sample SD = sqrt(14 × 1/13) = 1.037749;
    #             SWC = 0.518875; band 50.481125 .. 51.518875
    #   window 53, 52, 54 → mean 53 > 51.518875 → suppressed
    #   window 49, 50, 48 → mean 49 < 50.481125 → elevated (better than usual)
    base = _baseline([50.0, 52.0] * 7)
    up = recovery_status(base | _window([53.0, 52.0, 54.0]), DAY, higher_is_better=False)
    assert up is not None
    assert up.status == "suppressed"
    assert up.swc == pytest.approx(0.518875, abs=TOL)
    assert _status(base | _window([49.0, 50.0, 48.0]), higher_is_better=False) == "elevated"


def test_recovery_status_needs_enough_data_and_ignores_other_days() -> None:
    base = _baseline([4.0, 4.2] * 7)
    # Only 2 of 7 window days → None (Plews et al. 2014: at least 3 a week).
    assert recovery_status(base | _window([3.9, 4.0]), DAY, higher_is_better=True) is None
    # Only 13 baseline days → None (our minimum of 14).
    short = _baseline([4.0, 4.2] * 6 + [4.1])
    assert recovery_status(short | _window([4.0] * 3), DAY, True) is None
    # Values after the day, and older than 60 baseline days, do not count.
    noise = {DAY + timedelta(days=1): 1.0, WINDOW_START - timedelta(days=61): 9.0}
    result = recovery_status(base | _window([3.9, 4.0, 4.1]) | noise, DAY, True)
    assert result is not None
    assert result.rolling_mean == pytest.approx(4.0)
    assert result.baseline_values == 14
