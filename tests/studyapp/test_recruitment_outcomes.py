"""Prolific / MTurk outcomes besides completion: a screen-out code for a failed headphone check and a
"study full" code for a late arrival, each shown and redirected to, distinct from the completion code."""

from __future__ import annotations

import pytest
from django.test import Client

from studyapp import services
from tests.studyapp.test_participant_views import consent, entry, pass_screening

pytestmark = pytest.mark.django_db
PROLIFIC = "https://app.prolific.com/submissions/complete?cc="


def test_a_failed_headphone_check_gets_the_screen_out_code(make_study) -> None:
    study = make_study(
        screening=True,
        platform="prolific",
        completion_url=PROLIFIC + "DONE1",
        completion_code="DONE1",
        screenout_code="SCREEN1",
    )
    client = Client()
    participant = consent(client, study, PROLIFIC_PID="p1")
    pass_screening(client, study, participant, right=2)
    page = client.get(entry(study)).content.decode()
    assert 'id="outcome-code" class="code">SCREEN1<' in page
    assert f'content="5;url={PROLIFIC}SCREEN1"' in page  # Prolific's own URL for that code
    assert "DONE1" not in page


def test_a_late_arrival_gets_the_study_full_code_and_url(make_study) -> None:
    tasks = [{"type": "turing_2afc", "trials_per_participant": 4, "target_per_cell": 1, "catch_rate": 0}]
    study = make_study(tasks=tasks, full_code="FULL1", full_url="https://example.org/full")
    services.participant_register(study=study)  # takes every cell's only place
    reply = Client().post(f"/s/{study.slug}/consent", {"consent": "yes"})
    assert reply.status_code == 409
    page = reply.content.decode()
    assert "all the participants it needs" in page and ">FULL1<" in page
    assert 'href="https://example.org/full"' in page and study.completion_code not in page


def test_without_codes_nothing_extra_is_shown(make_study) -> None:
    study = make_study(screening=True)
    client = Client()
    participant = consent(client, study)
    pass_screening(client, study, participant, right=0)
    page = client.get(entry(study)).content.decode()
    assert "outcome-code" not in page and "please return the study" in page
