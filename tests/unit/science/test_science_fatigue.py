"""Performance Manager (TrainingPeaks, GoldenCheetah), ACWR, monotony and strain."""

from __future__ import annotations

import pytest

from projections.science.fatigue import (
    PmcDay,
    acwr_ewma,
    acwr_flag,
    acwr_rolling,
    ewma,
    monotony,
    monotony_flag,
    pmc_goldencheetah,
    pmc_trainingpeaks,
    strain,
)

TOL = 1e-6


def test_pmc_trainingpeaks_hand_worked() -> None:
    # TrainingPeaks publishes the recurrences, not a daily table; hand-worked, loads
    # 100, 0, 50 (CTL τ = 42, ATL τ = 7, both 0 the day before):
    #   day 0: CTL = 0 + (100 − 0)/42 = 2.380952   ATL = 0 + 100/7 = 14.285714
    #          TSB = CTL_{−1} − ATL_{−1} = 0
    #   day 1: CTL = 2.380952 + (0 − 2.380952)/42 = 2.324263
    #          ATL = 14.285714 + (0 − 14.285714)/7 = 12.244898
    #          TSB = 2.380952 − 14.285714 = −11.904762
    #   day 2: CTL = 2.324263 + (50 − 2.324263)/42 = 3.459400
    #          ATL = 12.244898 + (50 − 12.244898)/7 = 17.638484
    #          TSB = 2.324263 − 12.244898 = −9.920635
    days = pmc_trainingpeaks([100, 0, 50])
    expected = [
        (2.380952, 14.285714, 0.0),
        (2.324263, 12.244898, -11.904762),
        (3.459400, 17.638484, -9.920635),
    ]
    for got, (ctl, atl, tsb) in zip(days, expected, strict=True):
        assert got.ctl == pytest.approx(ctl, abs=TOL)
        assert got.atl == pytest.approx(atl, abs=TOL)
        assert got.tsb == pytest.approx(tsb, abs=TOL)


def test_pmc_trainingpeaks_constant_load_closed_form() -> None:
    # Hand-derived: with a constant daily load L from 0, CTL_n = L·(1 − (41/42)^n).
    # After 42 days of 100: 100 × (1 − (41/42)^42) = 100 × (1 − 0.363456) = 63.654405,
    # i.e. "42 days of 100 TSS" is not a CTL of 100.
    last = pmc_trainingpeaks([100.0] * 42)[-1]
    assert last.ctl == pytest.approx(63.654405, abs=TOL)
    assert last.atl == pytest.approx(100 * (1 - (6 / 7) ** 42), abs=TOL)


def test_pmc_goldencheetah_hand_worked() -> None:
    # GoldenCheetah src/Metrics/PMCData.cpp: X_t = L_t·(1 − k) + X_{t−1}·k, k = e^(−1/τ):
    #   k42 = e^(−1/42) = 0.976472, 1 − k42 = 0.023528
    #   k7  = e^(−1/7)  = 0.866878, 1 − k7  = 0.133122
    # Hand-worked, loads 100, 0, 50:
    #   day 0: LTS = 100 × 0.023528 = 2.352831   STS = 100 × 0.133122 = 13.312210
    #   day 1: LTS = 2.352831 × 0.976472 = 2.297473   STS = 13.312210 × 0.866878 = 11.540061
    #   day 2: LTS = 50 × 0.023528 + 2.297473 × 0.976472 = 3.419833
    #          STS = 50 × 0.133122 + 11.540061 × 0.866878 = 16.659929
    # SB (default "shown tomorrow": sb_[day + 1] = lts_[day] − sts_[day]):
    #   day 0: 0;  day 1: 2.352831 − 13.312210 = −10.959379;
    #   day 2: 2.297473 − 11.540061 = −9.242587
    days = pmc_goldencheetah([100, 0, 50])
    expected = [
        (2.352831, 13.312210, 0.0),
        (2.297473, 11.540061, -10.959379),
        (3.419833, 16.659929, -9.242587),
    ]
    for got, (lts, sts, sb) in zip(days, expected, strict=True):
        assert got.ctl == pytest.approx(lts, abs=TOL)
        assert got.atl == pytest.approx(sts, abs=TOL)
        assert got.tsb == pytest.approx(sb, abs=TOL)


def test_pmc_goldencheetah_sb_today_setting() -> None:
    # PMCData.cpp with GC_SB_TODAY set: sb_[day] = lts_[day] − sts_[day], same-day balance:
    #   day 0: 2.352831 − 13.312210 = −10.959379; day 2: 3.419833 − 16.659929 = −13.240095
    days = pmc_goldencheetah([100, 0, 50], sb_today=True)
    assert days[0].tsb == pytest.approx(-10.959379, abs=TOL)
    assert days[2].tsb == pytest.approx(-13.240095, abs=TOL)
    # Default SB is exactly the previous day's same-day SB (the code's index shift).
    default = pmc_goldencheetah([100, 0, 50, 80, 0, 120])
    today = pmc_goldencheetah([100, 0, 50, 80, 0, 120], sb_today=True)
    assert [d.tsb for d in default[1:]] == [d.tsb for d in today[:-1]]


def test_pmc_goldencheetah_constant_load_closed_form() -> None:
    # Hand-derived: constant L from 0 gives LTS_n = L·(1 − e^(−n/42)); n = 42 →
    # 100 × (1 − e^−1) = 100 × 0.632121 = 63.212056 (vs TrainingPeaks' 63.654405).
    assert pmc_goldencheetah([100.0] * 42)[-1].ctl == pytest.approx(63.212056, abs=TOL)


def test_pmc_empty_and_bad_constants() -> None:
    assert pmc_trainingpeaks([]) == []
    assert pmc_goldencheetah([]) == []
    assert pmc_trainingpeaks([0, 0]) == [PmcDay(0, 0, 0), PmcDay(0, 0, 0)]
    with pytest.raises(ValueError, match=">= 1"):
        pmc_trainingpeaks([1.0], ctl_days=0)


def test_ewma_hand_worked() -> None:
    # Williams et al. 2017: EWMA_t = L_t·λ + (1 − λ)·EWMA_{t−1}, λ = 2/(N + 1), seed 0.
    # The letter's worked numbers (Menaspà's three athletes: 1.25, 1.41, 1.55 on day 28)
    # rest on daily loads shown only in a figure, so we hand-work a short series instead.
    # N = 2 → λ = 2/3; loads 10, 20, 0, 30:
    #   10 × 2/3 = 6.666667;  20 × 2/3 + 6.666667/3 = 15.555556
    #   0 + 15.555556/3 = 5.185185;  30 × 2/3 + 5.185185/3 = 21.728395
    assert ewma([10, 20, 0, 30], 2) == pytest.approx(
        [6.666667, 15.555556, 5.185185, 21.728395], abs=TOL
    )
    # N = 4 → λ = 0.4: 4.0; 8 + 2.4 = 10.4; 6.24; 12 + 3.744 = 15.744
    assert ewma([10, 20, 0, 30], 4) == pytest.approx([4.0, 10.4, 6.24, 15.744], abs=TOL)


def test_acwr_ewma_ratios_and_warm_up() -> None:
    # Ratios of the two series above: 6.666667/4 = 1.666667; 15.555556/10.4 = 1.495726;
    # 5.185185/6.24 = 0.830959; 21.728395/15.744 = 1.380106
    assert acwr_ewma([10, 20, 0, 30], 2, 4, min_days=1) == pytest.approx(
        [1.666667, 1.495726, 0.830959, 1.380106], abs=TOL
    )
    # Default windows 7/28 on 28 days of 100: λa = 0.25, λc = 2/29;
    #   acute   = 100 × (1 − 0.75^28)      = 99.968252
    #   chronic = 100 × (1 − (27/29)^28)   = 86.477984 → ratio 99.968252/86.477984 = 1.155997
    # The first 27 days are warm-up (None) by default.
    ratios = acwr_ewma([100.0] * 28)
    assert ratios[:27] == [None] * 27
    acute = 100 * (1 - 0.75**28)
    chronic = 100 * (1 - (27 / 29) ** 28)
    assert ratios[27] == pytest.approx(acute / chronic, abs=TOL)
    assert ratios[27] == pytest.approx(1.155997, abs=TOL)
    # Chronic 0 → None.
    assert acwr_ewma([0.0, 0.0], min_days=1) == [None, None]


def test_acwr_rolling_coupled_and_uncoupled() -> None:
    # Hand-worked: 21 days at 10 then 7 days at 20 (28 days; index 27 = first full window):
    #   acute = mean(last 7) = 20
    #   coupled chronic   = (21 × 10 + 7 × 20)/28 = 350/28 = 12.5 → 20/12.5 = 1.6
    #   uncoupled chronic = mean(21 days before the acute week) = 10 → 20/10 = 2.0
    loads = [10.0] * 21 + [20.0] * 7
    coupled = acwr_rolling(loads)
    uncoupled = acwr_rolling(loads, coupled=False)
    assert coupled[:27] == [None] * 27
    assert coupled[27] == pytest.approx(1.6)
    assert uncoupled[27] == pytest.approx(2.0)
    # Day 28 with one more day at 20:
    #   acute = 20; coupled = (20 × 10 + 8 × 20)/28 = 360/28 = 12.857143 → 1.555556
    #   uncoupled = (20 × 10 + 1 × 20)/21 = 220/21 = 10.476190 → 1.909091
    loads.append(20.0)
    assert acwr_rolling(loads)[28] == pytest.approx(1.555556, abs=TOL)
    assert acwr_rolling(loads, coupled=False)[28] == pytest.approx(1.909091, abs=TOL)
    # Chronic mean 0 → None.
    assert acwr_rolling([0.0] * 28) == [None] * 28
    with pytest.raises(ValueError, match="shorter"):
        acwr_rolling(loads, acute=28, chronic=28)


def test_monotony_and_strain_sample_and_population_sd() -> None:
    # Foster 1998: monotony = daily mean / SD; strain = weekly load × monotony.
    # Hand-worked week 100, 200, ..., 700:
    #   mean = 2800/7 = 400; deviations −300..300; Σd² = 2 × (90000 + 40000 + 10000) = 280000
    #   sample SD     = sqrt(280000/6) = 216.024690 → monotony = 400/216.024690 = 1.851640
    #                   strain = 2800 × 1.851640 = 5184.5926
    #   population SD = sqrt(280000/7) = 200        → monotony = 2.0, strain = 5600
    week = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0]
    assert monotony(week) == pytest.approx(1.851640, abs=TOL)
    assert strain(week) == pytest.approx(5184.5926, abs=1e-4)
    assert monotony(week, sd="population") == pytest.approx(2.0)
    assert strain(week, sd="population") == pytest.approx(5600.0)


def test_monotony_undefined_when_every_day_is_equal() -> None:
    # SD 0 → None (documented): seven equal days, or a week of rest.
    assert monotony([300.0] * 7) is None
    assert strain([300.0] * 7) is None
    assert monotony([0.0] * 7) is None
    # A typical week with two rest days, hand-worked (sample SD):
    #   loads 0, 450, 300, 0, 600, 350, 500: Σ = 2200, mean = 314.285714
    #   Σd² = 98775.51 + 18418.37 + 204.08 + 98775.51 + 81632.65 + 1275.51 + 34489.80
    #       = 333571.43; SD = sqrt(333571.43/6) = 235.786425
    #   monotony = 314.285714/235.786425 = 1.332925; strain = 2200 × 1.332925 = 2932.44
    week = [0.0, 450.0, 300.0, 0.0, 600.0, 350.0, 500.0]
    assert monotony(week) == pytest.approx(1.332925, abs=TOL)
    assert strain(week) == pytest.approx(2932.44, abs=0.01)
    with pytest.raises(ValueError, match="2 days"):
        monotony([1.0])


def test_flags() -> None:
    # Gabbett 2016: > 1.5 high, < 0.8 low; Foster 1998: monotony > 2.0.
    assert acwr_flag(1.51) == "high"
    assert acwr_flag(1.5) is None
    assert acwr_flag(0.79) == "low"
    assert acwr_flag(0.8) is None
    assert acwr_flag(1.1) is None
    assert acwr_flag(None) is None
    assert monotony_flag(2.01) is True
    assert monotony_flag(2.0) is False
    assert monotony_flag(None) is False
