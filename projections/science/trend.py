"""Straight-line trends: ordinary least squares and when the line reaches a target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    """y = slope·x + intercept."""

    slope: float
    intercept: float

    def at(self, x: float) -> float:
        return self.slope * x + self.intercept


def least_squares(points: Sequence[tuple[float, float]]) -> Line | None:
    """Ordinary least-squares line through (x, y) points.

    Source: the normal equations of simple linear regression (Legendre 1805, Gauss 1809;
    any statistics text, e.g. Draper NR, Smith H. Applied Regression Analysis, 3rd ed.,
    Wiley 1998, ch. 1):  slope = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²,  intercept = ȳ − slope·x̄.

    None with fewer than 2 points or when every x is the same (no unique line).
    """
    if len(points) < 2:
        return None
    n = len(points)
    x_mean = math.fsum(x for x, _ in points) / n
    y_mean = math.fsum(y for _, y in points) / n
    sxx = math.fsum((x - x_mean) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    sxy = math.fsum((x - x_mean) * (y - y_mean) for x, y in points)
    slope = sxy / sxx
    return Line(slope, y_mean - slope * x_mean)


def projected_crossing(points: Sequence[tuple[float, float]], target: float) -> float | None:
    """x at which the fitted line reaches ``target``, looking forward from the last point.

    x = (target − intercept) / slope.  None when there is no line, the slope is 0, or the
    line moves away from the target (its value at the last x is below the target and the
    slope is negative, or above it and the slope is positive), so the result is never
    before the last point.  A target already met at the last x returns that x.
    """
    line = least_squares(points)
    if line is None or line.slope == 0:
        return None
    last_x = max(x for x, _ in points)
    gap = target - line.at(last_x)
    if gap == 0:
        return last_x
    if (gap > 0) != (line.slope > 0):
        return None
    return (target - line.intercept) / line.slope
