"""Inter-rater agreement: Krippendorff's alpha (interval metric), which copes with raters who each
rate only some of the items, as in a balanced study design."""

from __future__ import annotations

import numpy as np


def krippendorff_alpha_interval(ratings: np.ndarray) -> float:
    """`ratings`: raters × units, nan where a rater did not rate a unit. Units with fewer than two
    ratings carry no information about agreement and are left out (Krippendorff 2011)."""
    data = np.asarray(ratings, dtype=float)
    units = [col[~np.isnan(col)] for col in data.T]
    units = [u for u in units if len(u) >= 2]
    n = sum(len(u) for u in units)
    if n < 2:
        return float("nan")
    # Observed disagreement: squared differences between pairable values within units, weighted 1/(m−1).
    observed = sum(((u[:, None] - u[None, :]) ** 2).sum() / (len(u) - 1) for u in units) / n
    values = np.concatenate(units)
    expected = ((values[:, None] - values[None, :]) ** 2).sum() / (n * (n - 1))
    return float(1 - observed / expected) if expected > 0 else float("nan")
