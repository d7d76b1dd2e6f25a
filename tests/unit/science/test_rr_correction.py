"""R-R artefact correction: Malik et al. 1989's 20 % rule against a local median (Kubios'
threshold-based detection), artefacts replaced by interpolation, RMSSD on the result."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.science.recovery import corrected_rmssd, interpolate_artefacts, rmssd


def test_worked_example_ectopic_beat_and_its_pause_are_interpolated() -> None:
    # Median of the six (window of 11 holds them all): (805 + 810) / 2 = 807.5, 20 % = 161.5
    # 800 ✓, 810 ✓, 400 ✗ (407.5 below), 1220 ✗ (412.5 above), 805 ✓, 815 ✓.
    # The two artefacts lie between 810 (index 1) and 805 (index 4), a third apart each:
    #   index 2: 810 + (805 − 810) × 1/3 = 808.333…;  index 3: 810 + (805 − 810) × 2/3 = 806.667
    rr = [800.0, 810.0, 400.0, 1220.0, 805.0, 815.0]
    corrected, replaced = interpolate_artefacts(rr)
    assert replaced == 2
    assert corrected == pytest.approx([800.0, 810.0, 808.333333, 806.666667, 805.0, 815.0])
    # Differences 10, −1.667, −1.667, −1.667, 10 → squares 100 + 3 × 2.7778 + 100 = 208.333
    # RMSSD = sqrt(208.333 / 5) = sqrt(41.6667) = 6.454972 ms
    assert corrected_rmssd(rr) == pytest.approx(6.454972, abs=1e-6)
    # Uncorrected, the two artefacts dominate: squares 100, 168100, 672400, 172225, 100
    # → 1012925 / 5 = 202585 → RMSSD 450.094 ms
    assert rmssd(rr, filter_artefacts=False) == pytest.approx(450.094, abs=1e-3)


def test_artefacts_at_the_ends_take_the_nearest_accepted_beat() -> None:
    corrected, replaced = interpolate_artefacts([250.0, 800.0, 820.0, 3000.0])
    assert (corrected, replaced) == ([800.0, 800.0, 820.0, 820.0], 2)
    assert interpolate_artefacts([100.0, 2500.0]) == ([], 2)
    assert corrected_rmssd([100.0, 2500.0]) is None


def test_one_accepted_odd_beat_does_not_reject_the_beats_after_it() -> None:
    # Against the previous accepted beat, 500 as the first reference would reject the rest.
    corrected, replaced = interpolate_artefacts([500.0, 800.0, 810.0, 805.0, 800.0])
    assert replaced == 1
    assert corrected[0] == 800.0


def clean_series(seed: int, n: int, base_ms: float, spread_ms: float) -> list[float]:
    """Sinus rhythm: a slow respiratory wave plus beat-to-beat noise (within ±10 % of
    ``base_ms``, so an ectopic beat 30 % or more premature stands out by the 20 % rule)."""
    rng = random.Random(seed)
    return [base_ms + 0.5 * spread_ms * ((i % 5) - 2) / 2 + rng.uniform(-spread_ms, spread_ms)
            for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), base=st.floats(600, 1200), spread=st.floats(10, 40),
       ectopics=st.lists(st.tuples(st.integers(1, 197), st.floats(0.3, 0.5)),
                         min_size=1, max_size=6, unique_by=lambda e: e[0]))
def test_injected_ectopic_beats_leave_rmssd_within_5_percent(
        seed: int, base: float, spread: float, ectopics: list[tuple[int, float]]) -> None:
    clean = clean_series(seed, 600, base, spread)
    noisy = list(clean)
    for slot, prematurity in ectopics:  # a premature beat, then its compensatory pause
        at = 3 * slot  # ectopic beats apart from each other, as in sinus rhythm
        early = noisy[at] * prematurity
        noisy[at] -= early
        noisy[at + 1] += early
    reference = corrected_rmssd(clean)
    assert reference is not None
    got = corrected_rmssd(noisy)
    assert got is not None
    assert got == pytest.approx(reference, rel=0.05)
    uncorrected = rmssd(noisy, filter_artefacts=False)
    assert uncorrected is not None
    assert uncorrected > 1.05 * reference  # the artefacts did matter
