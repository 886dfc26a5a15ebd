"""The balanced assignment of trials to a participant, as plain functions of counts (no database), so
that the same code plans real participants and checks a study's settings before it opens.

A *cell* is (system, category) — for ranking, where every system is shown at once, (None, category).
Each participant's test trials for one task are chosen greedily, one at a time, among the cells that
still have a clip this participant has not seen in this task: first the system this participant has
had least (so everyone judges every system, as evenly as the trial count allows: the within-participant
tests need complete blocks), then the system least filled overall, then its least-filled cell, then
that category's clip least often shown with that system. Ties are broken by how much of each category
this participant already has, so one person's trials spread over categories, and by a rotation that
moves with the participant's number (a Latin-square-style shift), so systems are counterbalanced over
clips across participants. Water-filling keeps every cell's count within one of the others while the
settings allow it (checked over 40 participants for every setting of up to 4 categories × 6 clips × 5
systems that `check` accepts); `check` simulates participants to find settings that do not.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Cell = tuple[str | None, str]  # (system name or None for ranking, category)


@dataclass(frozen=True)
class TaskDesign:
    clips: dict[str, list[str]]  # category -> test clip ids, in a fixed order
    systems: list[str | None]  # the systems whose soundtracks form cells ([None] for ranking)
    trials: int  # test trials per participant
    quota: int | None = None  # per cell; None = no limit

    @property
    def cells(self) -> list[Cell]:
        return [(system, category) for category in sorted(self.clips) for system in self.systems]


def choose_trials(
    design: TaskDesign,
    *,
    rotation: int,
    cell_counts: Counter,
    clip_counts: Counter,
) -> list[tuple[str, str | None, str]]:
    """Up to ``design.trials`` (clip, system, category) for one participant; fewer only when quotas are
    reached. ``cell_counts`` [(system, category)] and ``clip_counts`` [(clip, system)] hold what earlier
    participants were given and are updated in place."""
    cells = design.cells
    used: set[tuple[str, str]] = set()
    per_category: Counter = Counter()
    per_system: Counter = Counter()
    chosen = []
    for _ in range(design.trials):
        open_cells = [
            (index, cell)
            for index, cell in enumerate(cells)
            if (design.quota is None or cell_counts[cell] < design.quota)
            and any((cell[1], clip) not in used for clip in design.clips[cell[1]])
        ]
        if not open_cells:
            break
        _, (system, category) = min(
            open_cells,
            key=lambda item: (
                per_system[item[1][0]],
                sum(cell_counts[(item[1][0], c)] for c in design.clips),
                cell_counts[item[1]],
                per_category[item[1][1]],
                (item[0] - rotation) % len(cells),
            ),
        )
        clips = design.clips[category]
        _, clip = min(
            ((i, c) for i, c in enumerate(clips) if (category, c) not in used),
            key=lambda item: (clip_counts[(item[1], system)], (item[0] - rotation) % len(clips)),
        )
        used.add((category, clip))
        per_category[category] += 1
        per_system[system] += 1
        cell_counts[(system, category)] += 1
        clip_counts[(clip, system)] += 1
        chosen.append((clip, system, category))
    return chosen


def check(design: TaskDesign, *, participants: int | None = None) -> list[str]:
    """Why these settings cannot be balanced (empty when they can): each clip at most once per
    participant, every cell's count within one of the others after every participant."""
    problems = []
    total_clips = sum(len(c) for c in design.clips.values())
    if not design.systems or not design.clips or total_clips == 0:
        return ["no systems or no test clips to build trials from"]
    if design.trials > total_clips:
        problems.append(
            f"{design.trials} trials per participant but only {total_clips} test clips: each clip may be "
            f"shown once per task, so lower trials_per_participant to at most {total_clips}"
        )
        return problems
    smallest = min(design.clips, key=lambda c: len(design.clips[c]))
    needed = math.ceil(design.trials / len(design.clips))
    if needed > len(design.clips[smallest]):
        problems.append(
            f"{design.trials} trials per participant spread over {len(design.clips)} categories need "
            f"{needed} clips of each, but category {smallest!r} has {len(design.clips[smallest])}: add "
            f"clips or lower trials_per_participant to {len(design.clips[smallest]) * len(design.clips)}"
        )
        return problems
    participants = participants or max(2 * len(design.cells), 12)
    cell_counts, clip_counts = Counter(), Counter()
    for number in range(participants):
        chosen = choose_trials(
            TaskDesign(design.clips, design.systems, design.trials),
            rotation=number,
            cell_counts=cell_counts,
            clip_counts=clip_counts,
        )
        spread = spread_of(cell_counts, design.cells)
        if len(chosen) < design.trials or spread > 1:
            problems.append(
                f"with {design.trials} trials per participant the {len(design.cells)} system × category "
                f"cells drift apart (by {spread} after {number + 1} participants): choose a number of "
                f"trials that the clips per category can spread evenly, e.g. a multiple of "
                f"{len(design.clips)}"
            )
            break
    return problems


def spread_of(counts: Counter, cells: Sequence[Cell]) -> int:
    values = [counts[cell] for cell in cells]
    return max(values) - min(values) if values else 0
