"""Simulations stay out of the real study (the sandbox `<slug>-sim`, never served to people), and a
participant who leaves holds their cells only for the study's plan_hold_minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from studyapp import selectors, services
from studyapp.models import Participant, Study
from studyapp.services.participants import STUDY_FULL, ParticipationError

pytestmark = pytest.mark.django_db


def test_simulations_go_into_a_sandbox_copy_never_served_to_people(make_study, client, capsys) -> None:
    study = make_study()
    call_command("simulate_participants", study.slug, "--n", "5")
    out = capsys.readouterr().out
    assert "5 SIMULATED participants in test-study-sim" in out and "never served to people" in out
    sandbox = Study.objects.get(slug="test-study-sim")
    assert sandbox.sandbox and sandbox.title.startswith("[SIMULATION")
    assert not study.participants.exists(), "the real study got simulated participants"
    assert sandbox.participants.filter(simulated=True).count() == 5
    assert [t.type for t in sandbox.tasks.all()] == [t.type for t in study.tasks.all()]
    assert set(sandbox.clips.all()) == set(study.clips.all())

    # People cannot reach it: every participant page is a 404, and registration is refused.
    assert client.get("/s/test-study-sim/").status_code == 404
    assert client.post("/s/test-study-sim/consent", {"agree": "on"}).status_code == 404
    with pytest.raises(ParticipationError) as refused:
        services.participant_register(study=sandbox)
    assert refused.value.status == 404

    call_command("simulate_participants", study.slug, "--n", "2")  # adds to the same sandbox
    assert sandbox.participants.count() == 7
    call_command("simulate_participants", study.slug, "--n", "1", "--reset")
    assert Study.objects.get(slug="test-study-sim").participants.count() == 1

    call_command("simulate_participants", study.slug, "--n", "1", "--into-study")
    assert study.participants.filter(simulated=True).count() == 1


def test_an_abandoned_plan_releases_its_cells_after_the_hold(make_study) -> None:
    tasks = [
        {
            "type": "turing_2afc",
            "trials_per_participant": 4,
            "target_per_cell": 2,
            "catch_rate": 0,
            "practice_trials": 0,
        }
    ]
    study = make_study(tasks=tasks)
    study.plan_hold_minutes = 30
    study.save()
    first, second = (services.participant_register(study=study) for _ in range(2))  # 4 cells × quota 2: full
    task = study.tasks.get()
    answered = first.trials.order_by("index").first()
    services.response_record(
        participant=first, index=answered.index, idempotency_key="k1", answer=services.Answer(choice=0)
    )
    with pytest.raises(ParticipationError, match=STUDY_FULL):
        services.participant_register(study=study)

    # Both leave. After the hold, only the one answered trial still counts; the rest is released.
    long_ago = timezone.now() - timedelta(minutes=31)
    Participant.objects.filter(pk__in=[first.pk, second.pk]).update(last_active_at=long_ago)
    cells, _ = selectors.cell_counts(task)
    assert sum(cells.values()) == 1
    assert sum(selectors.cell_counts(task, now=long_ago)[0].values()) == 8  # still held back then
    newcomer = services.participant_register(study=study)
    assert newcomer.trials.filter(kind="test").count() == 4
    cells, _ = selectors.cell_counts(task)
    assert sorted(cells.values()) == [1, 1, 1, 2]  # the newcomer's plan (held) + the one answer
