"""Synchronisation rating: how well does the sound match the timing of what is seen? Catch trials
move the real soundtrack 0.5 s early or late."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from evaluation import task_types
from studyapp.tasks.base import SHIFT_EARLY, SHIFT_LATE, Pick
from studyapp.tasks.rating import RatingTask


class SyncRating(RatingTask):
    name = task_types.SYNC_RATING
    label = "synchronisation rating"
    question = "How well does the sound match the timing of what you see?"
    intro = (
        "You will see one video at a time. Play it to the end, then rate how well the sound is "
        "synchronised with what you see, from 1 to 5."
    )
    scale = (
        "Not at all in sync",
        "Poorly in sync",
        "Somewhat in sync",
        "Mostly in sync",
        "Perfectly in sync",
    )
    script = "js/tasks/rating.js"
    anchors = (SHIFT_EARLY, SHIFT_LATE)

    def catch_stimuli(self, pick: Pick, *, systems: Sequence[Any], real: Any, rng: random.Random):
        return [pick(real, rng.choice([SHIFT_EARLY, SHIFT_LATE]))]
