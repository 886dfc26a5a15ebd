"""A participant's trial sequence, computed from the study and the counts so far (reads only): per
task in study order, its practice trials first, then its test and catch trials in a random order.
Test trials come from the balanced design (studyapp.design), which follows the counts so far and the
participant's arrival number; which stimuli each trial shows is the task type's business
(studyapp.tasks). Everything random in a plan — A/B and ranking positions, where the catch trials
fall, which anchor a catch trial plays — is drawn from a secret (`participant_secret`: SECRET_KEY,
the study's seed and the participant's opaque id), so nobody can work the answer key out from the
public study file and an arrival order. Stored by `services.study_assign_trials`; shown by the
admin's preview (`study_preview`), whose positions are an example."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db.models import prefetch_related_objects

from studyapp import design, selectors
from studyapp.models import Clip, Participant, Stimulus, Study, System, Task, Trial


@dataclass(frozen=True)
class PlannedTrial:
    task: Task
    kind: str
    clip: Clip
    system: System | None  # under test; None when a trial shows every system (ranking)
    stimuli: list[Stimulus]  # in the order shown
    answer_key: dict


def participant_secret(participant: Participant) -> str:
    """The seed of a participant's plan: reproducible on this server, unguessable anywhere else."""
    message = f"vis2sound.plan:{participant.study.seed}:{participant.public_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def plan_trials(study: Study, *, number: int, secret: str) -> list[PlannedTrial]:
    rng = random.Random(secret)
    # The study's systems and clips read once, shared by every task (a plan is made under the
    # study's lock: its queries are how long every other arrival waits).
    prefetch_related_objects([study], "systems", "clips")
    tasks = list(study.tasks.all())
    for task in tasks:
        task.study = study
    real = next((s for s in study.systems.all() if s.kind == System.Kind.REAL), None)
    stimuli = selectors.stimuli_index(study)  # once per plan, shared by every task
    clips = {(c.category, c.clip_id): c for c in study.clips.all()}
    practice_clips = sorted((c for c in clips.values() if c.practice), key=lambda c: (c.category, c.clip_id))
    systems = {s.name: s for s in study.systems.all()}
    planned: list[PlannedTrial] = []
    for task in tasks:
        task_design, _ = selectors.task_design(task, index=stimuli)
        cell_counts, clip_counts = selectors.cell_counts(task)
        chosen = design.choose_trials(
            task_design, rotation=number - 1, cell_counts=cell_counts, clip_counts=clip_counts
        )
        if not chosen:
            continue  # every cell of this task has reached its quota
        plan = _TaskPlan(task, selectors.task_systems(task), real, stimuli, rng)
        block = [
            plan.test(clips[(category, clip_id)], systems.get(name)) for clip_id, name, category in chosen
        ]
        # Reserved clips only (never a test clip), each at most once per task: a catch trial never
        # replays the real soundtrack of a clip this participant judges. The configuration check
        # refuses studies with fewer reserved clips than catch trials.
        pool = selectors.task_catch_clips(task, index=stimuli)
        count = min(round(len(chosen) * task.catch_rate), len(pool))
        block.extend(plan.catch(clip) for clip in rng.sample(pool, count))
        rng.shuffle(block)
        for n in range(min(task.practice_trials, len(practice_clips))):
            clip = practice_clips[(number + n) % len(practice_clips)]
            system = plan.systems[(number + n) % len(plan.systems)] if plan.systems else None
            planned.append(plan.test(clip, system, kind=Trial.Kind.PRACTICE))
        planned.extend(block)
    return planned


@dataclass
class _TaskPlan:
    """Builds one task's trials; the task type says which stimuli each shows."""

    task: Task
    systems: list[System]
    real: System | None
    stimuli: dict[tuple[int, int, str], Stimulus]
    rng: random.Random

    def _picker(self, clip: Clip):
        return lambda system, variant: self.stimuli[(clip.pk, system.pk, variant)]

    def test(self, clip: Clip, system: System | None, *, kind: str = Trial.Kind.TEST) -> PlannedTrial:
        task_type = self.task.task_type
        shown = task_type.test_stimuli(
            self._picker(clip), system=system, systems=self.systems, real=self.real, rng=self.rng
        )
        tested = None if task_type.all_systems_at_once else system
        return PlannedTrial(self.task, kind, clip, tested, shown, {})

    def catch(self, clip: Clip) -> PlannedTrial:
        task_type = self.task.task_type
        shown = task_type.catch_stimuli(
            self._picker(clip), systems=self.systems, real=self.real, rng=self.rng
        )
        return PlannedTrial(
            self.task, Trial.Kind.CATCH, clip, self.real, shown, {"catch": task_type.catch_rule}
        )


def study_preview(study: Study, *, number: int) -> tuple[list[PlannedTrial], list[str]]:
    """The trials participant ``number`` would get now (nothing saved), and the configuration problems."""
    problems = selectors.study_configuration_problems(study)
    if problems:
        return [], problems
    return plan_trials(study, number=number, secret=secrets.token_hex(16)), []
