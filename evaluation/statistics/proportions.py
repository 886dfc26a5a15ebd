"""Proportions: Wilson intervals, exact binomial tests, TOST equivalence, Holm's correction — each by
statsmodels or scipy, here given the project's conventions (nan for no data, results as dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import binom_tost, proportion_confint


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927; Newcombe 1998, method 3). (nan, nan) for n = 0."""
    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def binomial_test(successes: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test (Clopper–Pearson style, scipy's minlike method)."""
    return float(stats.binomtest(successes, n, p, alternative="two-sided").pvalue) if n else float("nan")


@dataclass(frozen=True)
class Equivalence:
    """Two one-sided exact binomial tests (Schuirmann's TOST) of |p − centre| < margin."""

    p_lower: float  # H0: p ≤ centre − margin
    p_upper: float  # H0: p ≥ centre + margin
    margin: float

    @property
    def p_value(self) -> float:
        return max(self.p_lower, self.p_upper)

    def equivalent(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


def tost_proportion(successes: int, n: int, *, centre: float = 0.5, margin: float = 0.1) -> Equivalence:
    """Is the fool rate within `margin` of chance? "Indistinguishable from real" is a claim of
    equivalence, which a non-significant binomial test does not make; TOST does."""
    if not 0 < margin < min(centre, 1 - centre) + 1e-12:
        raise ValueError(f"margin must be in (0, {min(centre, 1 - centre)}], got {margin}")
    if n == 0:
        return Equivalence(float("nan"), float("nan"), margin)
    _, lower, upper = binom_tost(successes, n, centre - margin, centre + margin)
    return Equivalence(float(lower), float(upper), margin)


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order (nan stays nan)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = ~np.isnan(p)
    if valid.any():
        adjusted[valid] = multipletests(p[valid], method="holm")[1]
    return adjusted
