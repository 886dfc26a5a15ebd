"""Inter-rater agreement: Krippendorff's alpha (interval metric), which copes with raters who each
rate only some of the items, as in a balanced study design. Computed by the `krippendorff` package,
whose coincidence matrices grow with the number of distinct values (5 for a rating scale), not with
the number of ratings."""

from __future__ import annotations

import krippendorff
import numpy as np


def krippendorff_alpha_interval(ratings: np.ndarray) -> float:
    """`ratings`: raters × units, nan where a rater did not rate a unit. Units with fewer than two
    ratings carry no information about agreement and are left out (Krippendorff 2011); nan when
    there is nothing to compare or no variation at all."""
    data = np.asarray(ratings, dtype=float)
    if data.size == 0 or ((~np.isnan(data)).sum(axis=0) >= 2).sum() == 0:
        return float("nan")
    try:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
    except (ValueError, ZeroDivisionError):  # a single value in the whole domain: nothing to compare
        return float("nan")
