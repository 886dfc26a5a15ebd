"""Ranking: the same video with every system's soundtrack, ranked from most to least realistic. One
cell per category; in catch trials the degraded real soundtrack takes one system's place and must be
ranked last."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from evaluation import task_types
from studyapp.tasks.base import DEGRADED, RANK_LAST, Answer, AnswerError, Pick, Rater, Shown, TaskType


class Ranking(TaskType):
    name = task_types.RANKING
    label = "ranking"
    question = "Order the soundtracks from most to least realistic."
    intro = (
        "You will see the same video several times, each with a different soundtrack. Play each one to "
        "the end, then give each a rank: 1 for the most realistic."
    )
    script = "js/tasks/ranking.js"
    catch_rule = RANK_LAST
    all_systems_at_once = True
    min_systems = 2

    def test_stimuli(self, pick: Pick, *, system: Any, systems: Sequence[Any], real: Any, rng: random.Random):
        shown = [pick(s, "") for s in systems]
        rng.shuffle(shown)
        return shown

    def catch_stimuli(self, pick: Pick, *, systems: Sequence[Any], real: Any, rng: random.Random):
        # The anchor takes one system's place, so a catch trial shows as many videos as any other.
        kept = list(systems)
        kept.pop(rng.randrange(len(kept)))
        shown = [pick(s, "") for s in kept] + [pick(real, DEGRADED)]
        rng.shuffle(shown)
        return shown

    def validate(self, answer: Answer, positions: int) -> None:
        if sorted(answer.ranking or []) != list(range(positions)):
            raise AnswerError(f"ranking: expected every position 0 to {positions - 1} once, best first")

    def catch_passed(self, answer: Answer, shown: Sequence[Shown]) -> bool:
        return bool(answer.ranking) and answer.ranking[-1] in [s.position for s in shown if s.anchor]

    def export_rows(self, answer: Answer, shown: Sequence[Shown]) -> list[dict]:
        order = answer.ranking or []
        text = ">".join(shown[p].letter for p in order)
        return [{"shown": s, "answer": text, "rank": order.index(s.position) + 1} for s in shown]

    def simulated_answer(self, quality, shown, rater: Rater, rng: random.Random) -> Answer:
        noisy = [rng.random() if rater.careless else q + rng.gauss(0, rater.noise / 4) for q in quality]
        return Answer(ranking=sorted(range(len(quality)), key=lambda i: -noisy[i]))
