"""e1RM: Epley 1985, Brzycki 1993, RIR-based RPE (Zourdos/Helms 2016), Tuchscherer chart."""

from __future__ import annotations

import pytest

from projections.science.strength import (
    brzycki,
    e1rm,
    e1rm_rpe_table,
    epley,
    reps_in_reserve,
    reps_to_failure,
    rpe_chart_percent,
)


def test_epley_hand_worked() -> None:
    # Epley 1985 (a poundage chart) prints no worked example we could read; hand-worked:
    #   100 kg × 5:  100 × (1 + 5/30)  = 100 × 1.166667 = 116.667
    #   140 kg × 3:  140 × (1 + 3/30)  = 140 × 1.1      = 154.0
    assert epley(100, 5) == pytest.approx(116.6667, abs=1e-4)
    assert epley(140, 3) == pytest.approx(154.0)
    # reps == 1 returns the load itself (stated convention), not 100 × 31/30.
    assert epley(180, 1) == 180


def test_brzycki_hand_worked_and_cap() -> None:
    # Brzycki 1993: w × 36/(37 − r) (= w / (1.0278 − 0.0278·r)); hand-worked:
    #   100 kg × 5:  100 × 36/32 = 112.5
    #   100 kg × 1:  100 × 36/36 = 100 (a single is its own 1RM)
    assert brzycki(100, 5) == pytest.approx(112.5)
    assert brzycki(100, 1) == pytest.approx(100)
    # Cap: Brzycki's protocol is for loads failed within 10 reps → None above 10.
    assert brzycki(100, 10) is not None
    assert brzycki(100, 11) is None
    assert brzycki(100, 10.5) is None


def test_epley_and_brzycki_agree_at_ten_reps() -> None:
    # Published property (cdchester.co.uk, "1RM formulae and its applications", 2019:
    # "Epley and Brzycki return identical results for 10 repetitions"):
    #   1 + 10/30 = 36/27 = 1.3333.
    assert epley(100, 10) == pytest.approx(133.3333, abs=1e-4)
    assert brzycki(100, 10) == pytest.approx(133.3333, abs=1e-4)


def test_reps_in_reserve_from_rpe() -> None:
    # Zourdos et al. 2016 / Helms et al. 2016 RIR-based RPE scale: RPE 10 = no rep left,
    # 9 = 1 rep remaining, 8 = 2, 7 = 3; half points are halfway (9.5 → 0.5).
    assert reps_in_reserve(10) == 0
    assert reps_in_reserve(9) == 1
    assert reps_in_reserve(8) == 2
    assert reps_in_reserve(7) == 3
    assert reps_in_reserve(9.5) == 0.5
    with pytest.raises(ValueError, match="RPE"):
        reps_in_reserve(11)


def test_reps_to_failure() -> None:
    # 5 reps @ RPE 8 → 5 + (10 − 8) = 7 reps to failure (Helms et al. 2016 scale).
    assert reps_to_failure(5, rpe=8) == 7
    assert reps_to_failure(5, rir=2) == 7
    assert reps_to_failure(5, rpe=8, rir=2) == 7
    assert reps_to_failure(3, rpe=9.5) == 3.5
    assert reps_to_failure(6) == 6  # neither given: taken to failure
    with pytest.raises(ValueError, match="reps in reserve"):
        reps_to_failure(5, rpe=8, rir=1)
    with pytest.raises(ValueError, match="reps"):
        reps_to_failure(0, rpe=8)


def test_e1rm_with_rir_hand_worked() -> None:
    # 100 kg × 5 @ RPE 8 → 7 reps to failure;
    #   Epley:   100 × (1 + 7/30) = 123.333
    #   Brzycki: 100 × 36/(37 − 7) = 100 × 1.2 = 120.0
    assert e1rm(100, 5, rpe=8) == pytest.approx(123.3333, abs=1e-4)
    assert e1rm(100, 5, rir=2, formula="brzycki") == pytest.approx(120.0)
    # To failure (no RPE/RIR) it is the plain formula.
    assert e1rm(100, 5) == epley(100, 5)
    # 1 rep @ RPE 10 is a true single: Epley's reps == 1 rule returns the load.
    assert e1rm(200, 1, rpe=10) == 200
    # Brzycki's cap applies to reps to failure: 9 reps @ RPE 8 = 11 → None.
    assert e1rm(100, 9, rpe=8, formula="brzycki") is None
    # More than 4 RIR (RPE below 6) is too far from failure → None.
    assert e1rm(100, 5, rpe=6) is not None
    assert e1rm(100, 5, rpe=5.5) is None
    with pytest.raises(ValueError, match="formula"):
        e1rm(100, 5, formula="lombardi")  # type: ignore[arg-type]


def test_rpe_chart_values() -> None:
    # Values of Tuchscherer's RTS RPE chart (The Reactive Training Manual, 2008), as
    # reproduced in many places; RPE 10 row, reps 1..10:
    row_rpe_10 = [100.0, 95.5, 92.2, 89.2, 86.3, 83.7, 81.1, 78.6, 76.2, 73.9]
    assert [rpe_chart_percent(r, 10) for r in range(1, 11)] == row_rpe_10
    # 1 rep, RPE 10 → 6.5 in half points:
    assert [rpe_chart_percent(1, rpe) for rpe in (10, 9.5, 9, 8.5, 8, 7.5, 7, 6.5)] == [
        100.0, 97.8, 95.5, 93.9, 92.2, 90.7, 89.2, 87.8,
    ]
    # The chart's diagonal property: 3 @ RPE 8 = 5 @ RPE 10 (both a 5-rep max) = 86.3 %.
    assert rpe_chart_percent(3, 8) == rpe_chart_percent(5, 10) == 86.3
    # Extent: reps 1-12, RPE 6-10 in half points; 12 @ 6 left out (reproductions differ).
    assert rpe_chart_percent(12, 6.5) == 58.6
    assert rpe_chart_percent(11, 6) == 59.9
    assert rpe_chart_percent(12, 6) is None
    assert rpe_chart_percent(13, 10) is None
    assert rpe_chart_percent(0, 10) is None
    assert rpe_chart_percent(5, 5.5) is None
    assert rpe_chart_percent(5, 8.25) is None


def test_e1rm_rpe_table_published_worked_example() -> None:
    # Secondary published worked example (coachsheet.fitness glossary "RPE", using the
    # Tuchscherer RTS table): 100 kg × 5 @ RPE 8 → 81.1 % → 100 / 0.811 = 123.3 kg;
    # the same set @ RPE 9 → 83.7 % → 100 / 0.837 = 119.5 kg.  Printed to 0.1 kg.
    assert e1rm_rpe_table(100, 5, 8) == pytest.approx(123.3, abs=0.05)
    assert e1rm_rpe_table(100, 5, 9) == pytest.approx(119.5, abs=0.05)
    # Hand-worked: 150 kg × 3 @ RPE 9 → 89.2 % → 150 × 100/89.2 = 168.161
    assert e1rm_rpe_table(150, 3, 9) == pytest.approx(168.161, abs=1e-3)
    assert e1rm_rpe_table(100, 12, 6) is None
