"""Ratings on a 5-point scale: mean opinion scores with intervals, non-parametric repeated-measures
tests on per-participant means, effect sizes. (The mixed models are in evaluation.statistics.mixed.)"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.statistics.proportions import holm


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def cluster_bootstrap_interval(
    values: np.ndarray,
    clusters: np.ndarray,
    *,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of the mean, resampling whole participants (their ratings are correlated)."""
    values, clusters = np.asarray(values, dtype=float), np.asarray(clusters)
    ids, inverse = np.unique(clusters, return_inverse=True)
    if len(ids) < 2:
        return float("nan"), float("nan")
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(ids), size=(resamples, len(ids)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - confidence) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def mos_table(table: pd.DataFrame, by: list[str], *, seed: int = 0) -> pd.DataFrame:
    """MOS ± 95 % CI (t-based, and cluster bootstrap over participants) per group of `by`."""
    rows = []
    for key, group in table.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ratings = group["rating"].to_numpy(dtype=float)
        t_low, t_high = t_interval(ratings)
        b_low, b_high = cluster_bootstrap_interval(ratings, group["participant"].to_numpy(), seed=seed)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "n": len(ratings),
                "participants": group["participant"].nunique(),
                "mos": float(ratings.mean()),
                "sd": float(ratings.std(ddof=1)) if len(ratings) > 1 else float("nan"),
                "ci_low": t_low,
                "ci_high": t_high,
                "boot_low": b_low,
                "boot_high": b_high,
            }
        )
    return pd.DataFrame(rows)


def participant_means(table: pd.DataFrame, value: str = "rating") -> pd.DataFrame:
    """Participants × systems of mean values, keeping participants who judged every system."""
    wide = table.pivot_table(index="participant", columns="system", values=value, aggfunc="mean")
    return wide.dropna()


def friedman(wide: pd.DataFrame) -> dict:
    """Friedman's test over the columns of a blocks × treatments table; Kendall's W as effect size."""
    if wide.shape[1] < 3 or wide.shape[0] < 2:
        return {
            "statistic": float("nan"),
            "p_value": float("nan"),
            "kendalls_w": float("nan"),
            "n": len(wide),
        }
    with warnings.catch_warnings():  # every block tied (identical answers): nan, said in the table
        warnings.simplefilter("ignore")
        statistic, p = stats.friedmanchisquare(*(wide[c].to_numpy() for c in wide.columns))
    w = statistic / (len(wide) * (wide.shape[1] - 1))
    return {"statistic": float(statistic), "p_value": float(p), "kendalls_w": float(w), "n": len(wide)}


def pairwise_wilcoxon(wide: pd.DataFrame) -> pd.DataFrame:
    """Wilcoxon signed-rank test for every pair of columns, Holm-adjusted; effect sizes: the
    matched-pairs rank-biserial correlation (Kerby 2014) and Cohen's d_z."""
    rows = []
    for a, b in itertools.combinations(wide.columns, 2):
        diff = (wide[a] - wide[b]).to_numpy()
        nonzero = diff[diff != 0]
        if len(nonzero) == 0:
            p, r = 1.0, 0.0
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = float(stats.wilcoxon(wide[a], wide[b], zero_method="wilcox").pvalue)
            ranks = stats.rankdata(np.abs(nonzero))
            r = float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())
        if len(diff) == 0:  # nobody judged both: nothing to compare
            continue
        sd = diff.std(ddof=1) if len(diff) > 1 else float("nan")
        rows.append(
            {
                "a": a,
                "b": b,
                "n": len(diff),
                "mean_difference": float(diff.mean()),
                "p_value": p,
                "rank_biserial": r,
                "cohens_dz": float(diff.mean() / sd) if sd else float("nan"),
            }
        )
    result = pd.DataFrame(
        rows, columns=["a", "b", "n", "mean_difference", "p_value", "rank_biserial", "cohens_dz"]
    )
    result["p_holm"] = holm(result["p_value"].to_numpy()) if len(result) else []
    return result
