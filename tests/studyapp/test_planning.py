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
