"""Fidelity rating: how realistic and natural does the sound seem, whatever its timing? Catch trials
show the degraded real soundtrack (low-passed, with noise)."""

from __future__ import annotations

from evaluation import task_types
from studyapp.tasks.rating import RatingTask


class FidelityRating(RatingTask):
    name = task_types.FIDELITY_RATING
    label = "fidelity rating"
    question = "How realistic and natural does the sound seem?"
    intro = (
        "You will see one video at a time. Play it to the end, then rate how realistic the sound is, "
        "from 1 to 5, whatever you think of its timing."
    )
    scale = ("Very unnatural", "Unnatural", "Somewhat natural", "Natural", "Completely natural")
    script = "js/tasks/rating.js"
