"""Least-squares line and projected crossing (normal equations; hand-worked numbers)."""

from __future__ import annotations

import pytest

from projections.science.trend import Line, least_squares, projected_crossing

POINTS = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)]


def test_least_squares_hand_worked() -> None:
    # x̄ = 15/5 = 3, ȳ = 20/5 = 4
    # x − x̄: −2, −1, 0, 1, 2      y − ȳ: −2, 0, 1, 0, 1
    # Sxy = 4 + 0 + 0 + 0 + 2 = 6;  Sxx = 4 + 1 + 0 + 1 + 4 = 10
    # slope = 6/10 = 0.6; intercept = 4 − 0.6 × 3 = 2.2
    line = least_squares(POINTS)
    assert line is not None
    assert line.slope == pytest.approx(0.6)
    assert line.intercept == pytest.approx(2.2)
    assert line.at(10) == pytest.approx(8.2)


def test_least_squares_degenerate() -> None:
    assert least_squares([]) is None
    assert least_squares([(1.0, 1.0)]) is None
    assert least_squares([(2.0, 1.0), (2.0, 3.0)]) is None  # vertical: no unique line
    assert least_squares([(0.0, 1.0), (2.0, 5.0)]) == Line(2.0, 1.0)


def test_projected_crossing_hand_worked() -> None:
    # Same line y = 0.6x + 2.2: reaches 7 at x = (7 − 2.2)/0.6 = 4.8/0.6 = 8.0
    assert projected_crossing(POINTS, 7.0) == pytest.approx(8.0)
    # Falling line (e.g. body mass): points (0, 80), (7, 79), (14, 78) → slope −1/7,
    # intercept 80; reaches 75 at x = (75 − 80)/(−1/7) = 35
    falling = [(0.0, 80.0), (7.0, 79.0), (14.0, 78.0)]
    assert projected_crossing(falling, 75.0) == pytest.approx(35.0)


def test_projected_crossing_none_when_moving_away_or_flat() -> None:
    # Rising line, target below its value at the last x (5 → 5.2): moving away → None.
    assert projected_crossing(POINTS, 3.0) is None
    # Falling line, target above: None.
    assert projected_crossing([(0.0, 80.0), (7.0, 79.0)], 85.0) is None
    # Flat line: None.
    assert projected_crossing([(0.0, 5.0), (1.0, 5.0)], 6.0) is None
    # Target met exactly at the last point: that x.
    assert projected_crossing([(0.0, 1.0), (1.0, 2.0)], 2.0) == 1.0
    assert projected_crossing([(1.0, 1.0)], 2.0) is None
