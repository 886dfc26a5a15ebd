"""A participant's trial sequence, computed from the study and the counts so far (reads only): per
task in study order, its practice trials first, then its test and catch trials in a random order.
Test trials come from the balanced design (studyapp.design); the order is seeded by the study's seed
and the participant's number, so a plan can be previewed and reproduced. Stored by
`services.study_assign_trials`; shown by the admin's preview."""

from __future__ import annotations

import random
from dataclasses import dataclass

from studyapp import design, scoring, selectors
from studyapp.models import Clip, Stimulus, Study, System, Task, Trial


@dataclass(frozen=True)
class PlannedTrial:
    task: Task
    kind: str
    clip: Clip
    system: System | None  # under test; None for ranking
    stimuli: list[Stimulus]  # in the order shown
    answer_key: dict


def plan_trials(study: Study, *, number: int) -> list[PlannedTrial]:
    rng = random.Random(f"{study.seed}:{number}")
    real = study.systems.filter(kind=System.Kind.REAL).first()
    stimuli = {
        (s.clip_id, s.system_id, s.variant): s
        for s in Stimulus.objects.filter(clip__in=study.clips.all(), system__in=study.systems.all())
    }
    clips = {(c.category, c.clip_id): c for c in study.clips.all()}
    practice_clips = sorted((c for c in clips.values() if c.practice), key=lambda c: (c.category, c.clip_id))
    systems = {s.name: s for s in study.systems.all()}
    planned: list[PlannedTrial] = []
    for task in study.tasks.all():
        task_design, _ = selectors.task_design(task)
        cell_counts, clip_counts = selectors.cell_counts(task)
        chosen = design.choose_trials(
            task_design, rotation=number - 1, cell_counts=cell_counts, clip_counts=clip_counts
        )
        if not chosen:
            continue  # every cell of this task has reached its quota
        task_systems = selectors.task_systems(task)
        block = [
            _test_trial(task, clips[(category, clip_id)], systems.get(name), task_systems, real, stimuli, rng)
            for clip_id, name, category in chosen
        ]
        seen = {clip_id for clip_id, _, _ in chosen}
        test_clips = [clips[(category, c)] for category, ids in task_design.clips.items() for c in ids]
        pool = [c for c in test_clips if c.clip_id not in seen] or test_clips
        for _ in range(round(len(chosen) * task.catch_rate)):
            block.append(_catch_trial(task, rng.choice(pool), task_systems, real, stimuli, rng))
        rng.shuffle(block)
        for n in range(min(task.practice_trials, len(practice_clips))):
            clip = practice_clips[(number + n) % len(practice_clips)]
            system = task_systems[(number + n) % len(task_systems)] if task_systems else None
            planned.append(
                _test_trial(task, clip, system, task_systems, real, stimuli, rng, kind=Trial.Kind.PRACTICE)
            )
        planned.extend(block)
    return planned


def _test_trial(
    task, clip, system, task_systems, real, stimuli, rng, *, kind: str = Trial.Kind.TEST
) -> PlannedTrial:
    if task.type == Task.Type.RANKING:
        shown = [stimuli[(clip.pk, s.pk, "")] for s in task_systems]
        rng.shuffle(shown)
        return PlannedTrial(task, kind, clip, None, shown, {})
    tested = stimuli[(clip.pk, system.pk, "")]
    if task.type == Task.Type.TURING_2AFC:
        shown = [stimuli[(clip.pk, real.pk, "")], tested]
        rng.shuffle(shown)
        return PlannedTrial(task, kind, clip, system, shown, {})
    return PlannedTrial(task, kind, clip, system, [tested], {})


def _catch_trial(task, clip, task_systems, real, stimuli, rng) -> PlannedTrial:
    """A trial with an anchor whose right answer is obvious to anyone attending (studyapp.scoring)."""
    degraded = stimuli[(clip.pk, real.pk, "degraded")]
    catch = Trial.Kind.CATCH
    if task.type == Task.Type.TURING_2AFC:
        shown = [stimuli[(clip.pk, real.pk, "")], degraded]
        rng.shuffle(shown)
        return PlannedTrial(task, catch, clip, real, shown, {"catch": scoring.CHOOSE_REAL})
    if task.type == Task.Type.TURING_SINGLE:
        return PlannedTrial(task, catch, clip, real, [degraded], {"catch": scoring.SAY_GENERATED})
    if task.type == Task.Type.SYNC_RATING:
        shifted = stimuli[(clip.pk, real.pk, rng.choice(["shift_early", "shift_late"]))]
        return PlannedTrial(task, catch, clip, real, [shifted], {"catch": scoring.RATE_LOW})
    if task.type == Task.Type.FIDELITY_RATING:
        return PlannedTrial(task, catch, clip, real, [degraded], {"catch": scoring.RATE_LOW})
    shown = [stimuli[(clip.pk, s.pk, "")] for s in task_systems] + [degraded]
    rng.shuffle(shown)
    return PlannedTrial(task, catch, clip, real, shown, {"catch": scoring.RANK_LAST})
