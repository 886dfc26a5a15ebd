"""Turing test, two alternatives: the same video twice, the real soundtrack and one system's; which
is real? The fool rate is how often the generated one is chosen."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from evaluation import task_types
from studyapp.tasks.base import CHOOSE_REAL, DEGRADED, Answer, AnswerError, Pick, Rater, Shown, TaskType


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class Turing2AFC(TaskType):
    name = task_types.TURING_2AFC
    label = "Turing test, two alternatives"
    question = "Which video has the real sound?"
    intro = (
        "You will see the same video twice, with two different soundtracks, A and B. One is the original "
        "recording; the other was made by a computer. Play both to the end, then choose."
    )
    script = "js/tasks/turing_2afc.js"
    catch_rule = CHOOSE_REAL
    real_is_reference = True  # every trial pits a generated soundtrack against the real one

    def test_stimuli(self, pick: Pick, *, system: Any, systems: Sequence[Any], real: Any, rng: random.Random):
        shown = [pick(real, ""), pick(system, "")]
        rng.shuffle(shown)
        return shown

    def catch_stimuli(self, pick: Pick, *, systems: Sequence[Any], real: Any, rng: random.Random):
        shown = [pick(real, ""), pick(real, DEGRADED)]
        rng.shuffle(shown)
        return shown

    def validate(self, answer: Answer, positions: int) -> None:
        if answer.choice is None or not 0 <= answer.choice < positions:
            raise AnswerError(f"choice: expected a position from 0 to {positions - 1}")

    def correct(self, answer: Answer, shown: Sequence[Shown]) -> bool | None:
        return answer.choice in [s.position for s in shown if s.real]

    def catch_passed(self, answer: Answer, shown: Sequence[Shown]) -> bool:
        return bool(self.correct(answer, shown))

    def practice_feedback(self, answer: Answer, shown: Sequence[Shown]) -> str:
        real = [s for s in shown if s.real]
        if not real:
            return super().practice_feedback(answer, shown)
        verdict = "Right." if answer.choice == real[0].position else "Not this time."
        return f"{verdict} The original recording was {real[0].letter}."

    def export_rows(self, answer: Answer, shown: Sequence[Shown]) -> list[dict]:
        # The row describes the soundtrack under test: the generated one (or the anchor in a catch).
        tested = next((s for s in shown if not s.real), shown[0])
        return [{"shown": tested, "answer": shown[answer.choice].letter}]

    def simulated_answer(self, quality, shown, rater: Rater, rng: random.Random) -> Answer:
        real = max(range(len(quality)), key=lambda i: (shown[i].real, quality[i]))
        other = 1 - real
        p_real = 0.5 if rater.careless else _sigmoid(rater.k * (quality[real] - quality[other]))
        return Answer(choice=real if rng.random() < p_real else other)
