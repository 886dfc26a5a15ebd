"""Proportions: Wilson intervals, exact binomial tests, TOST equivalence, Holm's correction — each by
statsmodels or scipy, here given the project's conventions (nan for no data, results as dataclasses) —
and their participant-clustered versions: every participant answers several trials, and their answers
are correlated, so the study's per-system rates use `clustered_rate`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
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


@dataclass(frozen=True)
class ClusteredRate:
    """A proportion from clustered binary answers (several per participant): the rate, its
    cluster-robust standard error (CR1, as statsmodels' OLS with cov_type="cluster"), a t-based 95 %
    interval and t-tests with clusters − 1 degrees of freedom, equivalence by two one-sided tests."""

    n: int
    clusters: int
    rate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_chance: float  # H0: rate = centre
    p_tost: float  # H0: |rate − centre| ≥ margin
    margin: float

    def equivalent(self, alpha: float = 0.05) -> bool:
        return self.p_tost < alpha


def clustered_rate(
    values, clusters, *, centre: float = 0.5, margin: float = 0.1, confidence: float = 0.95
) -> ClusteredRate:
    """``values`` 0/1 answers, ``clusters`` who gave each. When every answer agrees the robust standard
    error is 0; the interval is then Wilson's over participants (one answer each), the most
    conservative reading of the clustering."""
    y = np.asarray(values, dtype=float)
    groups = np.unique(np.asarray(clusters), return_inverse=True)[1]
    n, g = len(y), int(groups.max()) + 1 if len(y) else 0
    if n == 0 or g < 2:
        nan = float("nan")
        return ClusteredRate(n, g, float(y.mean()) if n else nan, nan, nan, nan, nan, nan, margin)
    rate = float(y.mean())
    fit = sm.OLS(y, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    se = float(fit.bse[0])
    dist = stats.t(g - 1)
    if se > 0:
        half = dist.ppf(0.5 + confidence / 2) * se
        low, high = float(max(0.0, rate - half)), float(min(1.0, rate + half))
        p_chance = float(2 * dist.sf(abs(rate - centre) / se))
        p_lower = float(dist.sf((rate - (centre - margin)) / se))
        p_upper = float(dist.cdf((rate - (centre + margin)) / se))
        p_tost = max(p_lower, p_upper)
    else:
        low, high = wilson_interval(round(rate * g), g, confidence)
        p_chance = binomial_test(round(rate * g), g, centre)
        p_tost = tost_proportion(round(rate * g), g, centre=centre, margin=margin).p_value
    return ClusteredRate(n, g, rate, se, low, high, p_chance, p_tost, margin)
