"""Reads. Views, API endpoints, admin actions and management commands call these, never the ORM directly."""

from __future__ import annotations

import json
from collections import Counter

from django.db import connection

from studyapp import design, scoring
from studyapp.models import Participant, Response, Stimulus, Study, System, Task, Trial, TrialStimulus


def health_status() -> dict[str, str]:
    """What a load balancer or `make demo` polls: the process serves and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "database": connection.vendor}


# --- study design -------------------------------------------------------------------------------------


def task_systems(task: Task) -> list[System]:
    """The systems whose soundtracks form this task's cells. 2AFC pits each generated system against
    the real soundtrack, so real is the reference there, not a cell; single-stimulus and rating tasks
    include real (hidden reference, and the baseline of d′); ranking shows all at once."""
    systems = list(task.study.systems.order_by("name"))
    if task.type == Task.Type.TURING_2AFC:
        return [s for s in systems if not s.is_real]
    return systems


def _stimuli_index(study: Study) -> dict[tuple[int, int, str], Stimulus]:
    return {
        (s.clip_id, s.system_id, s.variant): s
        for s in Stimulus.objects.filter(clip__in=study.clips.all(), system__in=study.systems.all())
    }


def _real(study: Study) -> System | None:
    return next((s for s in study.systems.all() if s.is_real), None)


def task_design(task: Task, *, index: dict | None = None) -> tuple[design.TaskDesign, list[str]]:
    """The balanced-design input for a task (test clips per category that have every stimulus the task
    needs), and the problems found while building it."""
    study = task.study
    index = _stimuli_index(study) if index is None else index
    systems = task_systems(task)
    real = _real(study)
    needs_real = task.type == Task.Type.TURING_2AFC or task.catch_rate > 0
    problems = []
    label = f"tasks[{task.order}] ({task.type})"
    if needs_real and real is None:
        problems.append(f"{label}: needs the real soundtracks (system 'real') in the study's systems")
    if task.type == Task.Type.RANKING and len(systems) < 2:
        problems.append(f"{label}: ranking needs at least two systems")
    if not systems:
        problems.append(f"{label}: no systems to test; add generated systems to the study")
    clips: dict[str, list[str]] = {}
    for clip in study.clips.filter(practice=False).order_by("category", "clip_id"):
        wanted = [(s, "") for s in systems]
        if needs_real and real is not None:
            wanted.append((real, ""))
            wanted.extend((real, v) for v in ANCHORS_BY_TASK[task.type])
        missing = [f"{s.name}{'/' + v if v else ''}" for s, v in wanted if (clip.pk, s.pk, v) not in index]
        if missing:
            problems.append(f"{label}: clip {clip} has no stimulus for {', '.join(missing)}; import it")
            continue
        clips.setdefault(clip.category, []).append(clip.clip_id)
    names = [None] if task.type == Task.Type.RANKING else [s.name for s in systems]
    return design.TaskDesign(clips, names, task.trials_per_participant, task.target_per_cell), problems


ANCHORS_BY_TASK = {
    Task.Type.TURING_2AFC: ("degraded",),
    Task.Type.TURING_SINGLE: ("degraded",),
    Task.Type.SYNC_RATING: ("shift_early", "shift_late"),
    Task.Type.FIDELITY_RATING: ("degraded",),
    Task.Type.RANKING: ("degraded",),
}


def study_configuration_problems(study: Study) -> list[str]:
    """Everything that stops this study from running balanced: missing stimuli, too few clips,
    settings that cannot be balanced, practice trials without practice clips."""
    problems = []
    tasks = list(study.tasks.all())
    if not tasks:
        problems.append("tasks: the study has no tasks")
    if not study.systems.exists():
        problems.append("systems: the study has no systems")
    if not study.clips.filter(practice=False).exists():
        problems.append("clips: the study has no test clips (clips not marked practice)")
    index = _stimuli_index(study)
    has_practice = study.clips.filter(practice=True).exists()
    for task in tasks:
        task_design_, found = task_design(task, index=index)
        problems.extend(found)
        if task.practice_trials and not has_practice:
            problems.append(
                f"tasks[{task.order}].practice_trials: {task.practice_trials} practice trials but the study "
                "has no practice clips; add some (import_stimuli --practice N) or set practice_trials: 0"
            )
        if task_design_.clips and task_design_.systems:
            problems.extend(f"tasks[{task.order}] ({task.type}): {p}" for p in design.check(task_design_))
    return problems


def cell_counts(task: Task) -> tuple[Counter, Counter]:
    """Test trials given so far to participants who count (not excluded, not screened out):
    per (system, category) cell, and per (clip, system)."""
    trials = (
        Trial.objects.filter(task=task, kind=Trial.Kind.TEST, participant__excluded=False)
        .exclude(participant__status=Participant.Status.SCREENING_FAILED)
        .values_list("system__name", "clip__category", "clip__clip_id")
    )
    cells, clips = Counter(), Counter()
    for system, category, clip in trials:
        cells[(system, category)] += 1
        clips[(clip, system)] += 1
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

RESULT_COLUMNS = [
    "study",
    "participant",
    "participant_number",
    "simulated",
    "excluded",
    "exclusion_reason",
    "task",
    "task_type",
    "trial_index",
    "trial_kind",
    "clip",
    "category",
    "system",
    "stimulus_role",
    "anchor",
    "position",
    "positions",
    "answer",
    "correct",
    "catch_passed",
    "rating",
    "rank",
    "response_time_ms",
    "plays",
    "client_time",
    "server_time",
    "response_id",
]
PARTICIPANT_COLUMNS = [
    "study",
    "participant",
    "participant_number",
    "status",
    "simulated",
    "excluded",
    "exclusion_reason",
    "screening_score",
    "screening_passed",
    "prolific_pid",
    "prolific_study_id",
    "prolific_session_id",
    "mturk_worker_id",
    "mturk_assignment_id",
    "mturk_hit_id",
    "user_agent",
    "consented_at",
    "started_at",
    "finished_at",
    "responses",
    "catch_trials",
    "catch_failed",
    "questionnaire",
]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _trial_rows(study: Study, response: Response) -> list[dict]:
    trial = response.trial
    participant = trial.participant
    presented = list(trial.presented.all())
    real_positions = [p.position for p in presented if p.stimulus.system.is_real and not p.stimulus.variant]
    anchor_positions = [p.position for p in presented if p.stimulus.variant]
    rule = trial.answer_key.get("catch")
    letters = [chr(ord("A") + p.position) for p in presented]
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
        "positions": "".join(letters),
        "correct": "",
        "catch_passed": "",
        "rating": "",
        "rank": "",
        "response_time_ms": response.response_time_ms if response.response_time_ms is not None else "",
        "plays": sum(response.play_counts or []),
        "client_time": _iso(response.client_time),
        "server_time": _iso(response.server_time),
        "response_id": response.pk,
    }
    is_correct = scoring.correct(
        trial.task.type,
        real_positions=real_positions,
        choice=response.choice,
        judged_real=response.judged_real,
    )
    passed = scoring.catch_passed(
        rule,
        real_positions=real_positions,
        anchor_positions=anchor_positions,
        choice=response.choice,
        judged_real=response.judged_real,
        rating=response.rating,
        ranking=response.ranking,
    )
    if is_correct is not None:
        base["correct"] = int(is_correct)
    if passed is not None:
        base["catch_passed"] = int(passed)

    def shown(item: TrialStimulus) -> dict:
        stimulus = item.stimulus
        return {
            "system": stimulus.system.name,
            "stimulus_role": stimulus.role,
            "anchor": stimulus.variant,
            "position": chr(ord("A") + item.position),
        }

    task_type = trial.task.type
    if task_type == Task.Type.RANKING:
        order = response.ranking or []
        return [
            {
                **base,
                **shown(item),
                "answer": ">".join(letters[p] for p in order),
                "rank": order.index(item.position) + 1,
            }
            for item in presented
        ]
    if task_type == Task.Type.TURING_2AFC:
        # The row describes the soundtrack under test: the generated one (or the anchor in a catch).
        tested = next((p for p in presented if p.position not in real_positions), presented[0])
        return [{**base, **shown(tested), "answer": letters[response.choice]}]
    answer = ("real" if response.judged_real else "generated") if task_type == Task.Type.TURING_SINGLE else ""
    if response.rating is not None:
        base["rating"] = response.rating
        answer = str(response.rating)
    return [{**base, **shown(presented[0]), "answer": answer}]


def study_result_rows(
    study: Study, *, include_excluded: bool = False, participant: Participant | None = None
) -> list[dict]:
    """The tidy long table: one row per response (a ranking: one row per ranked soundtrack), in
    participant and trial order. Excluded participants only with ``include_excluded``; one
    participant's rows only with ``participant``."""
    responses = (
        Response.objects.filter(trial__participant__study=study)
        .select_related("trial__participant", "trial__task", "trial__clip", "trial__system")
        .prefetch_related("trial__presented__stimulus__system", "trial__presented__stimulus__clip")
        .order_by("trial__participant__number", "trial__index")
    )
    if not include_excluded:
        responses = responses.filter(trial__participant__excluded=False)
    if participant is not None:
        responses = responses.filter(trial__participant=participant)
    rows = []
    for response in responses:
        rows.extend(_trial_rows(study, response))
    return rows


def study_participant_rows(study: Study, *, include_excluded: bool = False) -> list[dict]:
    rows = []
    result_rows = study_result_rows(study, include_excluded=True)
    by_participant: dict[str, list[dict]] = {}
    for row in result_rows:
        by_participant.setdefault(row["participant"], []).append(row)
    participants = study.participants.order_by("number")
    if not include_excluded:
        participants = participants.filter(excluded=False)
    for p in participants:
        mine = {r["response_id"]: r for r in by_participant.get(p.public_id, [])}.values()
        catch = [r for r in mine if r["trial_kind"] == Trial.Kind.CATCH]
        rows.append(
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
                "responses": len(mine),
                "catch_trials": len(catch),
                "catch_failed": sum(1 for r in catch if r["catch_passed"] == 0),
                "questionnaire": json.dumps(p.questionnaire, sort_keys=True) if p.questionnaire else "",
            }
        )
    return rows


def stimulus_by_public_id(public_id: str) -> Stimulus | None:
    return Stimulus.objects.filter(public_id=public_id).only("media").first()


def study_preview(study: Study, *, number: int) -> tuple[list, list[str]]:
    """The trials participant ``number`` would get now (nothing saved), and the configuration problems."""
    from studyapp import planning  # planning builds on the selectors above

    problems = study_configuration_problems(study)
    if problems:
        return [], problems
    return planning.plan_trials(study, number=number), []
