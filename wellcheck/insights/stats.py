"""The significance test behind the "rising demand" flag.

Test used: a one-sided **exact Poisson test** of a week's count against its baseline. The baseline
rate ``lam`` is the mean weekly count of the same area over the previous ``BASELINE_WEEKS`` (8)
weeks (floored at ``MIN_RATE`` so an area with an empty history is not flagged for a handful of
calls). Under the null hypothesis that the week's count ``x`` is Poisson(lam), the p-value is
``P(X >= x) = sum_{i >= x} exp(-lam) lam^i / i!``. A week is flagged when ``p < ALPHA`` (0.01)
and ``x >= MIN_COUNT`` (5): with some dozens of areas tested each week, 0.01 keeps the expected
number of false flags per week below one for most agencies; the page says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE_WEEKS = 8
ALPHA = 0.01
MIN_COUNT = 5
MIN_RATE = 0.5
TEST_NAME = (
    "one-sided exact Poisson test of the week's count against the mean of the previous "
    f"{BASELINE_WEEKS} weeks (flag when p < {ALPHA} and the count is at least {MIN_COUNT})"
)


def poisson_upper_tail(x: int, lam: float) -> float:
    """P(X >= x) for X ~ Poisson(lam), summed in log space (no underflow for large lam)."""
    if x <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_lam = math.log(lam)
    total = 0.0
    i = x
    while True:
        term = math.exp(-lam + i * log_lam - math.lgamma(i + 1))
        total += term
        if i > lam and term < 1e-17 * max(total, 1e-300):
            break
        if i > x + 10 * (lam + 10):
            break
        i += 1
    return min(1.0, total)


@dataclass(frozen=True)
class RiseTest:
    count: int
    baseline_mean: float
    p_value: float | None  # None when the count cannot reach significance (not computed)
    flagged: bool


def rise_test(count: int, history: list[int]) -> RiseTest:
    """Test one week's ``count`` against the counts of the weeks before it (oldest first)."""
    recent = history[-BASELINE_WEEKS:]
    mean = sum(recent) / len(recent) if recent else 0.0
    lam = max(mean, MIN_RATE)
    if count < lam + 2 * math.sqrt(lam):
        # Below lam + 2 sqrt(lam) the upper tail is above 0.02 for every lam >= MIN_RATE (it tends
        # to 0.023 for large lam and is larger for small lam), so the week cannot be flagged:
        # skip the exact sum (the dashboard tests thousands of area-weeks).
        return RiseTest(count, mean, None, False)
    p = poisson_upper_tail(count, lam)
    return RiseTest(count, mean, p, flagged=(p < ALPHA and count >= MIN_COUNT))
