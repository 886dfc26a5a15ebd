"""Reads. Views, API endpoints, admin actions and management commands call these, never the ORM directly."""

from __future__ import annotations

import hmac
import json
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from studyapp import design, tasks
from studyapp.media_tokens import media_token
from studyapp.models import Participant, Response, Stimulus, Study, System, Task, Trial, TrialStimulus


def health_status() -> dict[str, str]:
    """What a load balancer or `make demo` polls: the process serves and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "database": connection.vendor}


# --- study design -------------------------------------------------------------------------------------


def task_systems(task: Task) -> list[System]:
    """The systems whose soundtracks form this task's cells, as its type says (2AFC: the generated
    ones, real being the reference of every trial; the others: every system, real included)."""
    return task.task_type.systems_judged(sorted(task.study.systems.all(), key=lambda s: s.name))


def stimuli_index(study: Study) -> dict[tuple[int, int, str], Stimulus]:
    """(clip pk, system pk, variant) → stimulus, for every stimulus the study can show."""
    return {
        (s.clip_id, s.system_id, s.variant): s
        for s in Stimulus.objects.filter(clip__in=study.clips.all(), system__in=study.systems.all())
    }


def _ordered(clips) -> list:
    """By category and clip id. Filtered and sorted here, not in SQL, so that a study whose clips
    and systems are prefetched (a trial plan, made under the study's lock) asks the database once."""
    return sorted(clips, key=lambda c: (c.category, c.clip_id))


def _real(study: Study) -> System | None:
    return next((s for s in study.systems.all() if s.is_real), None)


def _stimuli_wanted(task: Task) -> list[tuple[System, str]]:
    """(system, variant) of every stimulus a clip needs to serve in this task's trials."""
    real = _real(task.study)
    task_type = task.task_type
    wanted = [(s, "") for s in task_systems(task)]
    if (task_type.real_is_reference or task.catch_rate > 0) and real is not None:
        wanted.append((real, ""))
        wanted.extend((real, v) for v in task_type.anchors)
    return wanted


def _missing(clip, wanted: list[tuple[System, str]], index: dict) -> list[str]:
    return [f"{s.name}{'/' + v if v else ''}" for s, v in wanted if (clip.pk, s.pk, v) not in index]


def task_design(task: Task, *, index: dict | None = None) -> tuple[design.TaskDesign, list[str]]:
    """The balanced-design input for a task (test clips per category that have every stimulus the task
    needs), and the problems found while building it."""
    study = task.study
    index = stimuli_index(study) if index is None else index
    systems = task_systems(task)
    real = _real(study)
    task_type = task.task_type
    needs_real = task_type.real_is_reference or task.catch_rate > 0
    problems = []
    label = f"tasks[{task.order}] ({task.type})"
    if needs_real and real is None:
        problems.append(f"{label}: needs the real soundtracks (system 'real') in the study's systems")
    if len(systems) < task_type.min_systems:
        problems.append(f"{label}: {task.type} needs at least {task_type.min_systems} systems")
    if not systems:
        problems.append(f"{label}: no systems to test; add generated systems to the study")
    wanted = _stimuli_wanted(task)
    clips: dict[str, list[str]] = {}
    for clip in _ordered(c for c in study.clips.all() if not c.practice and not c.catch):
        missing = _missing(clip, wanted, index)
        if missing:
            problems.append(f"{label}: clip {clip} has no stimulus for {', '.join(missing)}; import it")
            continue
        clips.setdefault(clip.category, []).append(clip.clip_id)
    names = [None] if task_type.all_systems_at_once else [s.name for s in systems]
    return design.TaskDesign(clips, names, task.trials_per_participant, task.target_per_cell), problems


def catch_trials_per_participant(task: Task) -> int:
    return round(task.trials_per_participant * task.catch_rate)


def task_catch_clips(task: Task, *, index: dict | None = None) -> list:
    """The clips this task's catch trials may show: those reserved for catch trials (never a test or
    practice clip, so a catch trial never replays material a participant judges), with every stimulus
    the task needs."""
    index = stimuli_index(task.study) if index is None else index
    wanted = _stimuli_wanted(task)
    return [
        clip
        for clip in _ordered(c for c in task.study.clips.all() if c.catch)
        if not _missing(clip, wanted, index)
    ]


def _catch_problems(task: Task, index: dict) -> list[str]:
    needed = catch_trials_per_participant(task)
    if not needed:
        return []
    available = len(task_catch_clips(task, index=index))
    if available >= needed:
        return []
    return [
        f"tasks[{task.order}].catch_rate: {needed} catch trials per participant "
        f"({task.trials_per_participant} trials × catch_rate {task.catch_rate}) need {needed} clips reserved "
        f"for catch trials with every stimulus this task plays, and the study has {available}; reserve "
        f"{needed - available} more (import_stimuli --catch N marks N new clips per category), or lower "
        f"catch_rate to {available / task.trials_per_participant:.3g}"
    ]


def study_configuration_problems(study: Study) -> list[str]:
    """Everything that stops this study from running balanced: missing stimuli, too few clips,
    settings that cannot be balanced, practice trials without practice clips."""
    problems = []
    tasks = list(study.tasks.all())
    if not tasks:
        problems.append("tasks: the study has no tasks")
    if not study.systems.exists():
        problems.append("systems: the study has no systems")
    if not study.clips.filter(practice=False, catch=False).exists():
        problems.append("clips: the study has no test clips (clips marked neither practice nor catch)")
    index = stimuli_index(study)
    has_practice = study.clips.filter(practice=True).exists()
    for task in tasks:
        task_design_, found = task_design(task, index=index)
        problems.extend(found)
        problems.extend(_catch_problems(task, index))
        if task.practice_trials and not has_practice:
            problems.append(
                f"tasks[{task.order}].practice_trials: {task.practice_trials} practice trials but the study "
                "has no practice clips; add some (import_stimuli --practice N) or set practice_trials: 0"
            )
        if task_design_.clips and task_design_.systems:
            problems.extend(f"tasks[{task.order}] ({task.type}): {p}" for p in design.check(task_design_))
    return problems


def study_configuration_warnings(study: Study) -> list[str]:
    """Settings that run but weaken the analysis: a task whose participants cannot each judge every
    system, so the within-participant tests (Friedman, pairwise Wilcoxon) have no complete blocks."""
    warnings = []
    for task in study.tasks.all():
        task_type = task.task_type
        if task_type.all_systems_at_once:
            continue
        systems = task_systems(task)
        if task.trials_per_participant < len(systems):
            warnings.append(
                f"tasks[{task.order}] ({task.type}): {task.trials_per_participant} trials per participant "
                f"for {len(systems)} systems, so no participant judges every system: the within-participant "
                "tests (Friedman's test and the pairwise Wilcoxon tests) cannot be run; set "
                f"trials_per_participant to at least {len(systems)}"
            )
    return warnings


def cell_counts(task: Task, *, now: datetime | None = None) -> tuple[Counter, Counter]:
    """What the balanced design and the quotas count: test trials answered by participants who count
    (not excluded, not screened out), plus the unanswered ones of participants active within the
    study's plan_hold_minutes. A participant who consents and leaves holds their cells only that long;
    then the cells go to newcomers. Per (system, category) cell, and per (clip, system)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=task.study.plan_hold_minutes)
    held = Q(participant__last_active_at__gte=cutoff) | Q(
        participant__last_active_at__isnull=True, participant__started_at__gte=cutoff
    )
    groups = (
        Trial.objects.filter(task=task, kind=Trial.Kind.TEST, participant__excluded=False)
        .exclude(participant__status=Participant.Status.SCREENING_FAILED)
        .filter(Q(response__isnull=False) | held)
        .values_list("system__name", "clip__category", "clip__clip_id")
        .annotate(n=Count("id"))  # counted by the database: one row per (clip, system), not per trial
        .order_by()
    )
    cells, clips = Counter(), Counter()
    for system, category, clip, n in groups:
        cells[(system, category)] += n
        clips[(clip, system)] += n
    return cells, clips


# --- progress ----------------------------------------------------------------------------------------


def study_progress(study: Study) -> dict:
    """Participants started / finished / excluded / screened out, and answered test trials per task ×
    system × category cell (excluded participants not counted), with each cell's target."""
    participants = study.participants.all()
    counts = {
        "started": participants.count(),
        "in_progress": participants.filter(status=Participant.Status.IN_PROGRESS).count(),
        "finished": participants.filter(status=Participant.Status.FINISHED).count(),
        "screening_failed": participants.filter(status=Participant.Status.SCREENING_FAILED).count(),
        "excluded": participants.filter(excluded=True).count(),
        "simulated": participants.filter(simulated=True).count(),
    }
    answered = Counter(
        Response.objects.filter(
            trial__participant__study=study, trial__kind=Trial.Kind.TEST, trial__participant__excluded=False
        ).values_list("trial__task_id", "trial__system__name", "trial__clip__category")
    )
    tasks = []
    for task in study.tasks.all():
        task_design_, _ = task_design(task)
        cells = [
            {
                "system": system,
                "category": category,
                "answered": answered[(task.pk, system, category)],
                "target": task.target_per_cell,
            }
            for system, category in task_design_.cells
        ]
        tasks.append({"order": task.order, "type": task.type, "cells": cells})
    return {"study": study.slug, "status": study.status, "participants": counts, "tasks": tasks}


# --- results -----------------------------------------------------------------------------------------


def _iso(value) -> str:
    return value.isoformat() if value else ""


def trial_shown(trial: Trial) -> list[tasks.Shown]:
    """The server's truth about each soundtrack of a trial, in the order shown."""
    return [
        tasks.Shown(
            position=item.position,
            system=item.stimulus.system.name,
            real=item.stimulus.system.is_real and not item.stimulus.variant,
            anchor=item.stimulus.variant,
            role=item.stimulus.role,
        )
        for item in trial.presented.all()
    ]


def _answer(response: Response) -> tasks.Answer:
    return tasks.Answer(
        choice=response.choice,
        judged_real=response.judged_real,
        rating=response.rating,
        ranking=response.ranking,
    )


def catch_passed(response: Response) -> bool | None:
    """Whether the answer to a catch trial passed it (its task type's rule); None for other trials."""
    trial = response.trial
    if not trial.answer_key.get("catch"):
        return None
    return trial.task.task_type.catch_passed(_answer(response), trial_shown(trial))


def practice_feedback(response: Response) -> str:
    """What the task type tells a participant after a practice answer. Practice clips are never
    analysed, and they are not used as test clips, so telling the right answer teaches the task and
    leaks nothing."""
    trial = response.trial
    return trial.task.task_type.practice_feedback(_answer(response), trial_shown(trial))


# The trial page unlocks the answer once every video has played to (at least) 90 % of its length.
PLAYED_SHARE = 0.9


def _server_timing(trial: Trial, response: Response, videos: int) -> dict:
    least = round(PLAYED_SHARE * trial.clip.duration * 1000 * videos)
    if trial.delivered_at is None:
        return {"delivered_time": "", "server_answer_ms": "", "min_play_ms": least, "faster_than_media": ""}
    took = round((response.server_time - trial.delivered_at).total_seconds() * 1000)
    return {
        "delivered_time": _iso(trial.delivered_at),
        "server_answer_ms": took,
        "min_play_ms": least,
        "faster_than_media": int(took < least),
    }


def _trial_rows(study: Study, response: Response) -> list[dict]:
    trial = response.trial
    participant = trial.participant
    task_type = trial.task.task_type
    shown, answer = trial_shown(trial), _answer(response)
    correct = task_type.correct(answer, shown)
    passed = catch_passed(response)
    base = {
        "study": study.slug,
        "participant": participant.public_id,
        "participant_number": participant.number,
        "simulated": int(participant.simulated),
        "excluded": int(participant.excluded),
        "exclusion_reason": participant.exclusion_reason,
        "task": trial.task.order,
        "task_type": trial.task.type,
        "trial_index": trial.index,
        "trial_kind": trial.kind,
        "clip": trial.clip.clip_id,
        "category": trial.clip.category,
        "positions": "".join(s.letter for s in shown),
        "correct": "" if correct is None else int(correct),
        "catch_passed": "" if passed is None else int(passed),
        "rating": "",
        "rank": "",
        "response_time_ms": response.response_time_ms if response.response_time_ms is not None else "",
        "plays": sum(response.play_counts or []),
        "client_time": _iso(response.client_time),
        "server_time": _iso(response.server_time),
        **_server_timing(trial, response, len(shown)),
        "response_id": response.pk,
    }
    rows = []
    for values in task_type.export_rows(answer, shown):
        described = values.pop("shown")
        rows.append(
            base
            | {
                "system": described.system,
                "stimulus_role": described.role,
                "anchor": described.anchor,
                "position": described.letter,
            }
            | values
        )
    return rows


def _responses(study: Study):
    return (
        Response.objects.filter(trial__participant__study=study)
        .select_related("trial__participant", "trial__task", "trial__clip", "trial__system")
        .prefetch_related("trial__presented__stimulus__system", "trial__presented__stimulus__clip")
        .order_by("trial__participant__number", "trial__index")
    )


def study_result_rows(
    study: Study, *, include_excluded: bool = False, participant: Participant | None = None
) -> list[dict]:
    """The tidy long table: one row per response (a ranking: one row per ranked soundtrack), in
    participant and trial order. Excluded participants only with ``include_excluded``; one
    participant's rows only with ``participant``."""
    responses = _responses(study)
    if not include_excluded:
        responses = responses.filter(trial__participant__excluded=False)
    if participant is not None:
        responses = responses.filter(trial__participant=participant)
    rows = []
    for response in responses:
        rows.extend(_trial_rows(study, response))
    return rows


def participant_catch_outcomes(participant: Participant) -> dict[int, list[bool]]:
    """Per task (by id), whether each of the participant's answered catch trials was passed."""
    responses = (
        Response.objects.filter(trial__participant=participant, trial__kind=Trial.Kind.CATCH)
        .select_related("trial__task")
        .prefetch_related("trial__presented__stimulus__system", "trial__presented__stimulus__clip")
    )
    outcomes: dict[int, list[bool]] = {}
    for response in responses:
        outcomes.setdefault(response.trial.task_id, []).append(bool(catch_passed(response)))
    return outcomes


def study_participant_rows(study: Study, *, include_excluded: bool = False) -> list[dict]:
    answered = Counter()
    catch_trials, catch_failed = Counter(), Counter()
    for response in _responses(study):
        number = response.trial.participant.number
        answered[number] += 1
        passed = catch_passed(response)
        if passed is not None:
            catch_trials[number] += 1
            catch_failed[number] += not passed
    participants = study.participants.order_by("number")
    if not include_excluded:
        participants = participants.filter(excluded=False)
    return [
        {
            "study": study.slug,
            "participant": p.public_id,
            "participant_number": p.number,
            "status": p.status,
            "simulated": int(p.simulated),
            "excluded": int(p.excluded),
            "exclusion_reason": p.exclusion_reason,
            "screening_score": "" if p.screening_score is None else p.screening_score,
            "screening_passed": "" if p.screening_passed is None else int(p.screening_passed),
            "prolific_pid": p.prolific_pid,
            "prolific_study_id": p.prolific_study_id,
            "prolific_session_id": p.prolific_session_id,
            "mturk_worker_id": p.mturk_worker_id,
            "mturk_assignment_id": p.mturk_assignment_id,
            "mturk_hit_id": p.mturk_hit_id,
            "user_agent": p.user_agent,
            "consented_at": _iso(p.consented_at),
            "started_at": _iso(p.started_at),
            "finished_at": _iso(p.finished_at),
            "responses": answered[p.number],
            "catch_trials": catch_trials[p.number],
            "catch_failed": catch_failed[p.number],
            "questionnaire": json.dumps(p.questionnaire, sort_keys=True) if p.questionnaire else "",
        }
        for p in participants
    ]


def stimulus_by_public_id(public_id: str) -> Stimulus | None:
    return Stimulus.objects.filter(public_id=public_id).only("media").first()


def participant_stimulus(participant: Participant, token: str) -> Stimulus | None:
    """The stimulus behind one of this participant's media tokens; None when the token is not theirs."""
    shown = TrialStimulus.objects.filter(trial__participant=participant).select_related("stimulus")
    for item in shown.only("trial_id", "position", "stimulus__media"):
        if hmac.compare_digest(media_token(participant.public_id, item.trial_id, item.position), token):
            return item.stimulus
    return None
