"""Rankings of several soundtracks of one video: mean rank and Friedman's test over participants' mean
ranks, and the win matrix over trials."""

from __future__ import annotations

import pandas as pd

from evaluation.statistics.ratings import friedman


def rank_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Trials × systems of ranks (1 = best), from the export's one row per ranked soundtrack; only
    test trials' systems (a catch trial's anchor is not a system)."""
    keys = ["participant", "trial_index"]
    wide = table.pivot_table(index=keys, columns="system", values="rank", aggfunc="first")
    return wide.dropna()


def participant_mean_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Participants × systems of each participant's mean rank: a participant ranks several videos, and
    those rankings are not independent, so the participant is the block of Friedman's test."""
    return rank_matrix(table).groupby(level="participant").mean()


def mean_ranks(wide: pd.DataFrame) -> pd.DataFrame:
    n = len(wide)
    rows = []
    for system in wide.columns:
        ranks = wide[system]
        sd = float(ranks.std(ddof=1)) if n > 1 else float("nan")
        half = 1.96 * sd / n**0.5 if n > 1 else float("nan")
        rows.append(
            {
                "system": system,
                "n": n,
                "mean_rank": float(ranks.mean()),
                "ci_low": ranks.mean() - half,
                "ci_high": ranks.mean() + half,
            }
        )
    return pd.DataFrame(rows).sort_values("mean_rank").reset_index(drop=True)


def win_matrix(wide: pd.DataFrame) -> pd.DataFrame:
    """Share of trials in which the row system was ranked above (better than) the column system."""
    systems = list(wide.columns)
    return pd.DataFrame(
        [[float((wide[a] < wide[b]).mean()) if a != b else float("nan") for b in systems] for a in systems],
        index=systems,
        columns=systems,
    )


def ranking_friedman(wide: pd.DataFrame) -> dict:
    return friedman(wide)
