"""Session load formulas: session-RPE (Foster 2001), Banister TRIMP, Edwards TRIMP, Normalized
Power and TSS (Allen & Coggan 2010)."""

from __future__ import annotations

import math

import pytest

from projections.science.load import (
    banister_trimp,
    banister_trimp_histogram,
    banister_weighting,
    edwards_trimp,
    edwards_trimp_avg,
    edwards_zone_weight,
    heart_rate_reserve_fraction,
    normalized_power,
    power_tss,
    session_rpe_load,
)


def test_session_rpe_load_published_example() -> None:
    # Secondary published example (fellrnr.com/wiki/TRIMP, "TRIMPcr10 Session RPE
    # Scaling", after Foster et al. 2001): a two-hour run rated RPE 6 → 120 × 6 = 720.
    assert session_rpe_load(6, 120) == 720
    # Foster et al. 2001 publish no per-session worked example; hand-worked:
    # 45 min at RPE 7.5 → 7.5 × 45 = 337.5 AU.
    assert session_rpe_load(7.5, 45) == pytest.approx(337.5)


def test_session_rpe_load_rejects_values_off_the_cr10_scale() -> None:
    with pytest.raises(ValueError, match="CR-10"):
        session_rpe_load(11, 30)
    with pytest.raises(ValueError, match="duration"):
        session_rpe_load(5, -1)


def test_banister_trimp_published_worked_example() -> None:
    # Secondary published example (fellrnr.com/wiki/TRIMP, "Worked Example", after
    # Banister 1991 / Morton et al. 1990): male, HRmax 200, HRrest 40, 30 min at 130 bpm:
    #   TRIMP = 30 × (130−40)/(200−40) × 0.64·e^(1.92 × (130−40)/(200−40)) = "a value of 32".
    # Rounded to a whole number there, hence abs=0.5.
    assert banister_trimp(30, 130, 40, 200, "male") == pytest.approx(32, abs=0.5)


def test_banister_trimp_hand_worked_male_female_unknown() -> None:
    # Banister 1991 gives the formula, not this example; hand-worked, same session:
    #   HRr = (130 − 40) / (200 − 40) = 90/160 = 0.5625
    #   male:   y = 0.64·e^(1.92 × 0.5625) = 0.64·e^1.08   = 0.64 × 2.944680 = 1.884595
    #           TRIMP = 30 × 0.5625 × 1.884595 = 31.8025
    #   female: y = 0.86·e^(1.67 × 0.5625) = 0.86·e^0.939375 = 0.86 × 2.558382 = 2.200208
    #           TRIMP = 30 × 0.5625 × 2.200208 = 37.1285
    #   other/unknown: mean weighting (1.884595 + 2.200208)/2 = 2.042402 → 34.4655
    assert banister_trimp(30, 130, 40, 200, "male") == pytest.approx(31.8025, abs=1e-4)
    assert banister_trimp(30, 130, 40, 200, "Female") == pytest.approx(37.1285, abs=1e-4)
    assert banister_trimp(30, 130, 40, 200, None) == pytest.approx(34.4655, abs=1e-4)
    assert banister_trimp(30, 130, 40, 200, "unspecified") == pytest.approx(34.4655, abs=1e-4)


def test_heart_rate_reserve_is_clamped_and_needs_max_above_rest() -> None:
    # Below rest → 0 (no load); above HRmax → 1 (a stale HRmax does not inflate the weight).
    assert heart_rate_reserve_fraction(35, 40, 200) == 0.0
    assert heart_rate_reserve_fraction(210, 40, 200) == 1.0
    assert banister_trimp(60, 35, 40, 200, "male") == 0.0
    # At HRr = 1: male weighting 0.64·e^1.92 = 0.64 × 6.820958 = 4.365413 per minute.
    assert banister_weighting(1.0, "male") == pytest.approx(4.365413, abs=1e-6)
    assert banister_trimp(1, 210, 40, 200, "male") == pytest.approx(4.365413, abs=1e-6)
    with pytest.raises(ValueError, match="hr_max"):
        heart_rate_reserve_fraction(120, 60, 60)


def test_banister_histogram_sums_bins() -> None:
    # Hand-worked, male, HRrest 40, HRmax 200:
    #   600 s at 120 bpm: HRr = 80/160 = 0.5;  y = 0.64·e^0.96  = 0.64 × 2.611696 = 1.671486
    #                     10 min × 0.5 × 1.671486 = 8.357429
    #   300 s at 168 bpm: HRr = 128/160 = 0.8; y = 0.64·e^1.536 = 0.64 × 4.645969 = 2.973420
    #                     5 min × 0.8 × 2.973420 = 11.893681
    #   total = 20.251110
    hist = {120: 600.0, 168: 300.0}
    assert banister_trimp_histogram(hist, 40, 200, "male") == pytest.approx(20.251110, abs=1e-5)
    # One bin equals the average-HR form for the same duration.
    assert banister_trimp_histogram({130: 1800.0}, 40, 200, "male") == pytest.approx(
        banister_trimp(30, 130, 40, 200, "male")
    )
    assert banister_trimp_histogram({}, 40, 200, "male") == 0.0


def test_edwards_zone_boundaries() -> None:
    # Edwards 1993 zones 50-60/60-70/70-80/80-90/90-100 % HRmax → 1..5; our boundary rule:
    # lower bound included, upper excluded; < 50 % → 0; ≥ 100 % → 5.  HRmax 200:
    assert edwards_zone_weight(99, 200) == 0  # 49.5 %
    assert edwards_zone_weight(100, 200) == 1  # 50 %
    assert edwards_zone_weight(119, 200) == 1  # 59.5 %
    assert edwards_zone_weight(120, 200) == 2  # exactly 60 % → zone 2
    assert edwards_zone_weight(140, 200) == 3  # 70 %
    assert edwards_zone_weight(160, 200) == 4  # 80 %
    assert edwards_zone_weight(180, 200) == 5  # 90 %
    assert edwards_zone_weight(200, 200) == 5  # 100 %
    assert edwards_zone_weight(205, 200) == 5  # above a stale HRmax
    # 0.7 × 190 = 133: floating point must not push it down into zone 2.
    assert edwards_zone_weight(133, 190) == 3


def test_edwards_trimp_hand_worked() -> None:
    # Edwards 1993 gives the method, not this session; hand-worked with HRmax 190:
    #   10 min at  95 bpm (50.0 %) → zone 1: 10 × 1 = 10
    #   20 min at 125 bpm (65.8 %) → zone 2: 20 × 2 = 40
    #   15 min at 145 bpm (76.3 %) → zone 3: 15 × 3 = 45
    #    8 min at 160 bpm (84.2 %) → zone 4:  8 × 4 = 32
    #    2 min at 175 bpm (92.1 %) → zone 5:  2 × 5 = 10
    #    5 min at  80 bpm (42.1 %) → below zone 1: 0
    #   total = 10 + 40 + 45 + 32 + 10 = 137
    hist = {95: 600.0, 125: 1200.0, 145: 900.0, 160: 480.0, 175: 120.0, 80: 300.0}
    assert edwards_trimp(hist, 190) == pytest.approx(137)


def test_edwards_trimp_from_average_heart_rate() -> None:
    # Hand-worked: 60 min averaging 150 bpm, HRmax 190 → 78.9 % → zone 3 → 60 × 3 = 180.
    assert edwards_trimp_avg(60, 150, 190) == 180
    assert edwards_trimp_avg(60, 90, 190) == 0  # 47.4 %: below zone 1
    assert math.isclose(edwards_trimp_avg(0, 150, 190), 0.0)


def test_edwards_with_the_athletes_own_zone_bounds() -> None:
    # Hand-worked: bounds [55, 65, 75, 85, 95, 100] % of HRmax 200 -> zones from 110, 130,
    # 150, 170, 190 bpm.  10 min at 120 (zone 1), 10 min at 150 (zone 3, bound included),
    # 5 min at 198 (zone 5), 5 min at 100 (below zone 1: 0):
    # 10 x 1 + 10 x 3 + 5 x 5 + 5 x 0 = 65
    bounds = [55, 65, 75, 85, 95, 100]
    histogram = {120: 600.0, 150: 600.0, 198: 300.0, 100: 300.0}
    assert edwards_trimp(histogram, 200, bounds) == pytest.approx(65)
    # the default bounds reproduce Edwards' own tenths
    default = [50, 60, 70, 80, 90, 100]
    for bpm in range(80, 215):
        assert edwards_zone_weight(bpm, 200, default) == edwards_zone_weight(bpm, 200)


def test_normalized_power_worked_example() -> None:
    # Steady power: every 30-s average is 250 W, so NP = 250 W.
    assert normalized_power([250.0] * 3600) == pytest.approx(250.0)
    # Hand-worked, 60 s at 200 W then 60 s at 100 W (1-s samples): 91 rolling 30-s
    # averages (ending at seconds 29..119): 31 at 200 W, 29 straddling the change (ending
    # at i = 60..88: (200 (89 - i) + 100 (i - 59)) / 30 W), 31 at 100 W.  NP = (mean of
    # their fourth powers)^(1/4) = 166.81 W, against an average power of 150 W.
    straddling = sum(((200 * (89 - i) + 100 * (i - 59)) / 30) ** 4 for i in range(60, 89))
    expected = ((31 * 200**4 + straddling + 31 * 100**4) / 91) ** 0.25
    assert expected == pytest.approx(166.81, abs=0.01)
    assert normalized_power([200.0] * 60 + [100.0] * 60) == pytest.approx(expected)
    assert normalized_power([300.0] * 29) is None  # under one 30-s window


def test_power_tss_worked_example() -> None:
    # Allen & Coggan (2010), ch. 7: an hour at FTP is 100 TSS by definition.
    assert power_tss(60, 250, 250) == pytest.approx(100)
    # TSS = (s × NP × IF) / (FTP × 3600) × 100 = hours × IF² × 100: a 2-hour ride at
    # NP 200 W with FTP 250 W is IF 0.8, so (7200 × 200 × 0.8) / (250 × 3600) × 100 = 128.
    assert power_tss(120, 200, 250) == pytest.approx(7200 * 200 * 0.8 / (250 * 3600) * 100)
    assert power_tss(120, 200, 250) == pytest.approx(128)
    # A 45-min run at NP 276 W against a critical power of 290 W: IF 0.9517, 67.9 TSS.
    assert power_tss(45, 276, 290) == pytest.approx(0.75 * (276 / 290) ** 2 * 100)
    with pytest.raises(ValueError, match="threshold"):
        power_tss(60, 200, 0)
