"""The statistics of the report: Wilson score intervals, percentages and the exact McNemar test."""

from __future__ import annotations

from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint


def wilson_interval(count: int, n: int) -> tuple[float | None, float | None]:
    """95% Wilson score interval of ``count / n`` as percentages; ``(None, None)`` when ``n == 0``."""
    if n == 0:
        return None, None
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return 100.0 * float(low), 100.0 * float(high)


def percent(count: int, n: int) -> float | None:
    """``100 * count / n``, or ``None`` for an empty denominator."""
    return None if n == 0 else 100.0 * count / n


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact (binomial) McNemar p-value from the two discordant counts."""
    result = mcnemar([[0, only_a], [only_b, 0]], exact=True)
    return float(result.pvalue)
