"""The balanced design, as plain functions: cells stay within one of each other, clips are not repeated
within a participant, quotas stop a cell, and settings that cannot balance are refused."""

from __future__ import annotations

from collections import Counter

import pytest

from studyapp.design import TaskDesign, check, choose_trials, spread_of


def clips(categories: int, per_category: int) -> dict[str, list[str]]:
    return {f"cat{c}": [f"c{c}_{i}" for i in range(per_category)] for c in range(categories)}


@pytest.mark.parametrize(
    ("categories", "per_category", "systems", "trials"),
    [(2, 5, 3, 4), (4, 5, 5, 8), (2, 10, 4, 6), (3, 4, 1, 3), (1, 6, 2, 5)],
)
def test_cells_stay_within_one_and_clips_never_repeat(categories, per_category, systems, trials) -> None:
    design = TaskDesign(clips(categories, per_category), [f"s{s}" for s in range(systems)], trials)
    assert check(design) == []
    cell_counts, clip_counts = Counter(), Counter()
    for number in range(40):
        chosen = choose_trials(design, rotation=number, cell_counts=cell_counts, clip_counts=clip_counts)
        assert len(chosen) == trials
        assert len({(category, clip) for clip, _, category in chosen}) == trials  # each clip at most once
        assert spread_of(cell_counts, design.cells) <= 1
    # Counterbalanced: every clip is shown with every system over the 40 participants.
    if trials * 40 >= 2 * categories * per_category * systems:
        shown = {(clip, system) for (clip, system), n in clip_counts.items() if n}
        assert len(shown) == categories * per_category * systems


def test_a_full_cell_is_no_longer_assigned() -> None:
    design = TaskDesign(clips(2, 5), ["a", "b"], trials=4, quota=3)
    cell_counts, clip_counts = Counter(), Counter()
    given = [
        len(choose_trials(design, rotation=n, cell_counts=cell_counts, clip_counts=clip_counts))
        for n in range(5)
    ]
    assert set(cell_counts.values()) == {3}  # every cell exactly at its target
    assert given == [4, 4, 4, 0, 0]


def test_too_many_trials_for_the_clips_is_refused_with_the_numbers() -> None:
    problems = check(TaskDesign(clips(2, 3), ["a"], trials=7))
    assert problems == [
        "7 trials per participant but only 6 test clips: each clip may be shown once per task, so lower "
        "trials_per_participant to at most 6"
    ]


def test_a_category_with_too_few_clips_is_refused() -> None:
    design = TaskDesign({"drum": ["a", "b", "c", "d"], "fireworks": ["e"]}, ["s"], trials=4)
    (problem,) = check(design)
    assert "category 'fireworks' has 1" in problem


def test_empty_designs_are_refused() -> None:
    assert check(TaskDesign({}, ["s"], trials=1)) == ["no systems or no test clips to build trials from"]


@pytest.mark.parametrize(
    ("categories", "per_category", "systems", "trials"), [(4, 2, 5, 8), (4, 3, 4, 8), (2, 5, 3, 4)]
)
def test_every_participant_judges_every_system_as_evenly_as_the_trials_allow(
    categories, per_category, systems, trials
) -> None:
    """The within-participant tests need each participant to judge every system (complete blocks)."""
    design = TaskDesign(clips(categories, per_category), [f"s{s}" for s in range(systems)], trials)
    cell_counts, clip_counts = Counter(), Counter()
    for number in range(40):
        chosen = choose_trials(design, rotation=number, cell_counts=cell_counts, clip_counts=clip_counts)
        per_system = Counter(system for _, system, _ in chosen)
        assert set(per_system) == set(design.systems)
        assert max(per_system.values()) - min(per_system.values()) <= 1
        assert spread_of(cell_counts, design.cells) <= 1
