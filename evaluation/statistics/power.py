"""How many participants a Turing study needs to detect a difference in fool rates."""

from __future__ import annotations

import math
from dataclasses import dataclass

from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize


@dataclass(frozen=True)
class SampleSize:
    trials_per_system: int  # judgements needed per system (after the design effect)
    participants: int  # participants at the given trials per system each
    cohens_h: float
    design_effect: float


def participants_needed(
    p1: float,
    p2: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    trials_per_participant_per_system: int = 4,
    icc: float = 0.0,
) -> SampleSize:
    """Two-sided test of two proportions by the arcsine transform (Cohen 1988, ch. 6), solved by
    statsmodels' NormalIndPower: n ≈ 2·((z₁₋α/₂ + z₁₋β) / h)² judgements per system (two samples),
    h = 2·asin√p1 − 2·asin√p2; inflated by the design effect 1 + (m − 1)·ICC for m judgements per
    participant (Kish 1965), since one participant's answers are not independent."""
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError("p1 and p2 must be different proportions strictly between 0 and 1")
    if trials_per_participant_per_system < 1:
        raise ValueError("trials_per_participant_per_system must be at least 1")
    h = abs(proportion_effectsize(p1, p2))
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
    effect = 1 + (trials_per_participant_per_system - 1) * icc
    trials = math.ceil(n * effect)
    return SampleSize(trials, math.ceil(trials / trials_per_participant_per_system), h, effect)
