"""What a study task type is: everything about one kind of trial, in one class, on plain values (no
database), so that planning, answering, scoring, export and simulation all ask the type instead of
branching on its name. Each type is a module of this package; `registry` finds them by name."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

# Catch-trial rules, stored in Trial.answer_key["catch"] (so they stay readable in the database).
CHOOSE_REAL = "choose_real"  # 2AFC: real vs. the degraded anchor; must pick the real one
SAY_GENERATED = "say_generated"  # single stimulus: the degraded anchor must not be judged real
RATE_LOW = "rate_low"  # ratings: an anchor (shifted or degraded) must get at most LOW_RATING of 5
RANK_LAST = "rank_last"  # ranking: the degraded anchor must be ranked last
LOW_RATING = 2

DEGRADED, SHIFT_EARLY, SHIFT_LATE = "degraded", "shift_early", "shift_late"

# pick(system, variant) -> the stimulus of the trial's clip with that system's soundtrack ("" = as is)
Pick = Callable[[Any, str], Any]


class AnswerError(ValueError):
    """An answer that does not fit its trial; the message starts with the field's name."""


@dataclass(frozen=True)
class Answer:
    """A participant's answer, as the API receives it; each type reads the fields it needs."""

    choice: int | None = None
    judged_real: bool | None = None
    rating: int | None = None
    ranking: list[int] | None = None
    response_time_ms: int | None = None
    play_counts: list[int] | None = None
    client_time: datetime | None = None


@dataclass(frozen=True)
class Shown:
    """What the server knows of one soundtrack of an answered trial, for scoring and export."""

    position: int
    system: str
    real: bool  # the real soundtrack, unaltered
    anchor: str  # the anchor variant, "" when not an anchor
    role: str  # test, practice or anchor

    @property
    def letter(self) -> str:
        return letter(self.position)


def letter(position: int) -> str:
    return chr(ord("A") + position)


@dataclass(frozen=True)
class Rater:
    """A simulated rater (studyapp.services.simulation): discrimination k, rating bias b, criterion c."""

    k: float
    b: float
    c: float
    careless: bool
    noise: float  # rating noise within a rater


class TaskType:
    """One kind of trial. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    label: ClassVar[str]  # in the admin
    question: ClassVar[str]  # the default question
    intro: ClassVar[str]  # shown before the task's first trial
    scale: ClassVar[tuple[str, ...]] = ()  # rating types: the labels of 1 to n (n ≤ 5, Response.rating)
    script: ClassVar[str]  # its JavaScript renderer, under static/
    anchors: ClassVar[tuple[str, ...]] = (DEGRADED,)  # the variants its catch trials use
    catch_rule: ClassVar[str]
    real_is_reference: ClassVar[bool] = False  # real is shown in every test trial, not a cell of its own
    all_systems_at_once: ClassVar[bool] = False  # one cell per category, every system in each trial
    min_systems: ClassVar[int] = 1

    @property
    def is_rating(self) -> bool:
        return bool(self.scale)

    # --- design and planning --------------------------------------------------------------------

    def systems_judged(self, systems: Sequence[Any]) -> list[Any]:
        """The systems whose soundtracks form this task's cells (of the study's, ordered by name)."""
        return [s for s in systems if not s.is_real] if self.real_is_reference else list(systems)

    def test_stimuli(
        self, pick: Pick, *, system: Any, systems: Sequence[Any], real: Any, rng: random.Random
    ) -> list[Any]:
        """The stimuli of a test (or practice) trial of ``system``, in the order shown."""
        return [pick(system, "")]

    def catch_stimuli(
        self, pick: Pick, *, systems: Sequence[Any], real: Any, rng: random.Random
    ) -> list[Any]:
        """The stimuli of a catch trial: an anchor whose right answer is obvious to anyone attending."""
        return [pick(real, DEGRADED)]

    # --- answers ---------------------------------------------------------------------------------

    def validate(self, answer: Answer, positions: int) -> None:
        """Raise AnswerError naming the field when ``answer`` does not fit a trial of ``positions``."""

    def correct(self, answer: Answer, shown: Sequence[Shown]) -> bool | None:
        """Whether the answer is right (Turing tasks); None for tasks without a right answer."""
        return None

    def catch_passed(self, answer: Answer, shown: Sequence[Shown]) -> bool:
        raise NotImplementedError

    def practice_feedback(self, answer: Answer, shown: Sequence[Shown]) -> str:
        return "Saved. There are no right or wrong answers here: go by your own impression."

    # --- export ----------------------------------------------------------------------------------

    def export_rows(self, answer: Answer, shown: Sequence[Shown]) -> list[dict]:
        """This type's columns of the results table (evaluation.results.COLUMNS): one row per answer
        (a ranking: one per soundtrack), each with the soundtrack it describes as ``shown``."""
        return [{"shown": shown[0], "answer": ""}]

    # --- simulation ------------------------------------------------------------------------------

    def simulated_answer(
        self, quality: Sequence[float], shown: Sequence[Shown], rater: Rater, rng: random.Random
    ) -> Answer:
        """What a simulated rater answers, from each soundtrack's latent quality in [0, 1]."""
        raise NotImplementedError
