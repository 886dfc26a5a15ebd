"""A participant's plan draws its randomness (positions, catch placement, anchors) from the server's
secret and the participant, never from the public study seed alone."""

from __future__ import annotations

import pytest
from django.test import override_settings

from studyapp import planning, services

pytestmark = pytest.mark.django_db


def positions(plan: list[planning.PlannedTrial]) -> list[list[int]]:
    return [[s.pk for s in trial.stimuli] for trial in plan]


def test_positions_follow_the_secret_and_the_participant(make_study) -> None:
    study = make_study()
    participant = services.participant_register(study=study)
    secret = planning.participant_secret(participant)
    first = planning.plan_trials(study, number=participant.number, secret=secret)
    assert positions(first) == positions(
        planning.plan_trials(study, number=participant.number, secret=secret)
    )
    with override_settings(SECRET_KEY="another-server-secret-" + "x" * 40):
        other_server = planning.participant_secret(participant)
    assert other_server != secret
    other = planning.plan_trials(study, number=participant.number, secret=other_server)
    # Same study, seed and arrival number: the same design (clips and systems) but other positions.
    assert sorted(t.clip.pk for t in other if t.kind == "test") == sorted(
        t.clip.pk for t in first if t.kind == "test"
    )
    assert positions(other) != positions(first)


def test_catch_trials_never_replay_material_a_participant_judges(make_study) -> None:
    """Over 40 arrivals: no participant meets a test clip's real soundtrack (or any stimulus of it)
    outside that clip's own test trials, in any task; catch trials show only reserved clips, each at
    most once per task; ranking catch trials show as many videos as the others."""
    from studyapp.models import Trial, TrialStimulus

    study = make_study()
    for _ in range(40):
        services.participant_register(study=study)
    rows = TrialStimulus.objects.filter(trial__participant__study=study).select_related(
        "trial", "stimulus__clip", "stimulus__system"
    )
    judged: dict[int, set[int]] = {}
    for row in rows:
        if row.trial.kind == Trial.Kind.TEST:
            judged.setdefault(row.trial.participant_id, set()).add(row.stimulus.clip_id)
    assert len(judged) == 40
    catch_trials = 0
    for row in rows:
        if row.trial.kind == Trial.Kind.CATCH:
            catch_trials += 1
            assert row.stimulus.clip.catch, f"catch trial shows {row.stimulus.clip}, not a reserved clip"
            assert row.stimulus.clip_id not in judged[row.trial.participant_id]
    assert catch_trials > 0
    catch = Trial.objects.filter(participant__study=study, kind=Trial.Kind.CATCH)
    per_task = catch.values_list("participant", "task", "clip")
    assert len(per_task) == len(set(per_task)), "a reserved clip came twice in one task"
    sizes = {
        (trial.kind, trial.stimuli.count())
        for trial in Trial.objects.filter(participant__study=study, task__type="ranking").exclude(
            kind="practice"
        )
    }
    assert sizes == {(Trial.Kind.TEST, 3), (Trial.Kind.CATCH, 3)}  # real + 2 systems; anchor takes a place
