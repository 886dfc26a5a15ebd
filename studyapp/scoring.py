"""What an answer means: whether it is correct (Turing tasks) and whether a catch trial was passed.
Plain functions of plain values, shared by the exclusion rule (services) and the export (selectors)."""

from __future__ import annotations

# Catch-trial rules, stored in Trial.answer_key["catch"].
CHOOSE_REAL = "choose_real"  # 2AFC: real vs. the degraded anchor; must pick the real one
SAY_GENERATED = "say_generated"  # single stimulus: the degraded anchor must not be judged real
RATE_LOW = "rate_low"  # ratings: an anchor (shifted or degraded) must get at most 2 of 5
RANK_LAST = "rank_last"  # ranking: the degraded anchor must be ranked last
LOW_RATING = 2


def correct(
    task_type: str,
    *,
    real_positions: list[int],
    choice: int | None = None,
    judged_real: bool | None = None,
) -> bool | None:
    """Turing tasks: 2AFC, the real soundtrack was chosen; single stimulus, the judgement matches the
    truth. None for tasks without a right answer."""
    if task_type == "turing_2afc" and choice is not None:
        return choice in real_positions
    if task_type == "turing_single" and judged_real is not None:
        return judged_real == bool(real_positions)
    return None


def catch_passed(
    rule: str | None,
    *,
    real_positions: list[int],
    anchor_positions: list[int],
    choice: int | None = None,
    judged_real: bool | None = None,
    rating: int | None = None,
    ranking: list[int] | None = None,
) -> bool | None:
    """None for a trial that is not a catch trial."""
    if rule == CHOOSE_REAL:
        return choice in real_positions
    if rule == SAY_GENERATED:
        return judged_real is False
    if rule == RATE_LOW:
        return rating is not None and rating <= LOW_RATING
    if rule == RANK_LAST:
        return bool(ranking) and ranking[-1] in anchor_positions
    return None
