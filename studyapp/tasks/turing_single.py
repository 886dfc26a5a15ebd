"""Turing test, single stimulus: one video at a time; is its soundtrack real or generated? Gives the
rate at which each system is judged real, and d′ against the real soundtracks."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from evaluation import task_types
from studyapp.tasks.base import SAY_GENERATED, Answer, AnswerError, Rater, Shown, TaskType


class TuringSingle(TaskType):
    name = task_types.TURING_SINGLE
    label = "Turing test, single stimulus"
    question = "Is the sound of this video real or generated?"
    intro = (
        "You will see one video at a time. Its soundtrack is either the original recording or was made "
        "by a computer. Play it to the end, then say which you think it is."
    )
    script = "js/tasks/turing_single.js"
    catch_rule = SAY_GENERATED

    def validate(self, answer: Answer, positions: int) -> None:
        if answer.judged_real is None:
            raise AnswerError("judged_real: expected true (real) or false (generated)")

    def correct(self, answer: Answer, shown: Sequence[Shown]) -> bool | None:
        return answer.judged_real == any(s.real for s in shown)

    def catch_passed(self, answer: Answer, shown: Sequence[Shown]) -> bool:
        return answer.judged_real is False

    def practice_feedback(self, answer: Answer, shown: Sequence[Shown]) -> str:
        real = any(s.real for s in shown)
        truth = "the original recording" if real else "made by a computer"
        verdict = "Right." if answer.judged_real == real else "Not this time."
        return f"{verdict} This soundtrack was {truth}."

    def export_rows(self, answer: Answer, shown: Sequence[Shown]) -> list[dict]:
        return [{"shown": shown[0], "answer": "real" if answer.judged_real else "generated"}]

    def simulated_answer(self, quality, shown, rater: Rater, rng: random.Random) -> Answer:
        p_real = 0.5 if rater.careless else 1 / (1 + math.exp(-(rater.k * (quality[0] - 0.5) + rater.c)))
        return Answer(judged_real=rng.random() < p_real)
