"""What the two rating tasks share: one video at a time, rated 1 to 5 on the task's scale; catch
trials show an anchor that an attentive rater rates low."""

from __future__ import annotations

import random
from collections.abc import Sequence

from studyapp.tasks.base import LOW_RATING, RATE_LOW, Answer, AnswerError, Rater, Shown, TaskType


class RatingTask(TaskType):
    catch_rule = RATE_LOW

    def validate(self, answer: Answer, positions: int) -> None:
        if answer.rating is None or not 1 <= answer.rating <= len(self.scale):
            raise AnswerError(f"rating: expected a whole number from 1 to {len(self.scale)}")

    def catch_passed(self, answer: Answer, shown: Sequence[Shown]) -> bool:
        return answer.rating is not None and answer.rating <= LOW_RATING

    def export_rows(self, answer: Answer, shown: Sequence[Shown]) -> list[dict]:
        return [{"shown": shown[0], "answer": str(answer.rating), "rating": answer.rating}]

    def simulated_answer(self, quality, shown, rater: Rater, rng: random.Random) -> Answer:
        if rater.careless:
            return Answer(rating=rng.randint(1, 5))
        rating = round(1 + 4 * quality[0] + rater.b + rng.gauss(0, rater.noise))
        return Answer(rating=min(5, max(1, rating)))
