"""Signal detection for single-stimulus Turing tests: is a soundtrack judged real more often when it
is real than when a system made it? d′ and criterion c per system (Macmillan & Creelman 2005)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Sensitivity:
    d_prime: float
    criterion: float
    d_prime_ci: tuple[float, float]
    criterion_ci: tuple[float, float]
    hit_rate: float
    false_alarm_rate: float


def sensitivity(
    hits: int,
    signal_trials: int,
    false_alarms: int,
    noise_trials: int,
    confidence: float = 0.95,
    correction: bool = True,
) -> Sensitivity:
    """d′ = z(H) − z(F), c = −(z(H) + z(F)) / 2, with the log-linear correction (Hautus 1995: add 0.5 to
    each count and 1 to each total) so that rates of 0 or 1 stay finite. Intervals from Gourevitch &
    Galanter's (1967) variance, var(z(r)) = r(1 − r) / (N φ(z(r))²); var(c) = var(d′) / 4."""
    add, extra = (0.5, 1) if correction else (0.0, 0)
    h = (hits + add) / (signal_trials + extra)
    f = (false_alarms + add) / (noise_trials + extra)
    zh, zf = stats.norm.ppf(h), stats.norm.ppf(f)
    var_h = h * (1 - h) / ((signal_trials + extra) * stats.norm.pdf(zh) ** 2)
    var_f = f * (1 - f) / ((noise_trials + extra) * stats.norm.pdf(zf) ** 2)
    z = stats.norm.ppf(0.5 + confidence / 2)
    d, c = zh - zf, -(zh + zf) / 2
    sd_d = np.sqrt(var_h + var_f)
    return Sensitivity(
        d_prime=float(d),
        criterion=float(c),
        d_prime_ci=(float(d - z * sd_d), float(d + z * sd_d)),
        criterion_ci=(float(c - z * sd_d / 2), float(c + z * sd_d / 2)),
        hit_rate=float(h),
        false_alarm_rate=float(f),
    )
