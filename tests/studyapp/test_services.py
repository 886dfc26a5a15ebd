"""Participants through the services: balanced assignment over many participants, quotas, answers
(idempotent, in order, only one's own), and the exclusion rule."""

from __future__ import annotations

from collections import Counter

import pytest

from studyapp import selectors, services
from studyapp.models import Response, Trial
from studyapp.services import Answer, ParticipationError
from studyapp.services import participants as participants_service
from studyapp.services.participants import (
    ALREADY_ANSWERED,
    NOT_NEXT_TRIAL,
    NOT_YOUR_TRIAL,
    STUDY_FULL,
    STUDY_NOT_OPEN,
)
from tests.studyapp.answers import answer_all, right_answer

pytestmark = pytest.mark.django_db


def test_per_cell_counts_differ_by_at_most_one_over_40_participants(make_study) -> None:
    study = make_study()
    participants = [services.participant_register(study=study) for _ in range(40)]
    for task in study.tasks.all():
        design, problems = selectors.task_design(task)
        assert problems == []
        cells, _ = selectors.cell_counts(task)
        counts = [cells[cell] for cell in design.cells]
        assert max(counts) - min(counts) <= 1, (task.type, counts)
        for participant in participants:
            tests = participant.trials.filter(task=task, kind=Trial.Kind.TEST)
            clips = list(tests.values_list("clip_id", flat=True))
            assert len(clips) == task.trials_per_participant
            assert len(set(clips)) == len(clips)  # each clip at most once per task
            assert not tests.filter(clip__practice=True).exists()
    orders = {tuple(p.trials.values_list("clip__clip_id", flat=True)) for p in participants}
    assert len(orders) == 40  # each participant's own order


def test_trials_per_task_come_in_study_order_with_practice_first(make_study) -> None:
    study = make_study()
    participant = services.participant_register(study=study)
    kinds = list(participant.trials.values_list("task__order", "kind"))
    assert [order for order, _ in kinds] == sorted(order for order, _ in kinds)
    for task in study.tasks.all():
        mine = [kind for order, kind in kinds if order == task.order]
        assert mine[0] == "practice"
        assert mine.count("catch") == round(task.trials_per_participant * task.catch_rate)


def test_quota_fills_cells_then_refuses_new_participants(make_study) -> None:
    tasks = [{"type": "turing_2afc", "trials_per_participant": 4, "target_per_cell": 2, "catch_rate": 0}]
    study = make_study(tasks=tasks)
    for _ in range(2):  # 2 participants × 4 trials = 2 per each of the 4 cells
        services.participant_register(study=study)
    cells, _ = selectors.cell_counts(study.tasks.get())
    assert sorted(cells.values()) == [2, 2, 2, 2]
    with pytest.raises(ParticipationError, match=STUDY_FULL):
        services.participant_register(study=study)
    assert study.participants.count() == 2  # the refused arrival left nothing behind


def test_a_draft_study_takes_no_participants(make_study) -> None:
    study = make_study(open=False)
    with pytest.raises(ParticipationError, match=STUDY_NOT_OPEN):
        services.participant_register(study=study)


def test_a_returning_prolific_participant_resumes_their_session(make_study) -> None:
    study = make_study()
    ids = {"PROLIFIC_PID": "p1", "STUDY_ID": "s", "SESSION_ID": "x"}
    first = services.participant_register(study=study, prolific=ids)
    assert services.participant_register(study=study, prolific=ids) == first


def test_screening_failure_ends_the_session_without_trials(make_study) -> None:
    study = make_study(screening=True)
    failed = services.participant_register(study=study)
    assert not failed.trials.exists()
    failed = services.participant_record_screening(participant=failed, correct=4)
    assert (failed.status, failed.screening_passed, failed.trials.count()) == ("screening_failed", False, 0)
    passed = services.participant_record_screening(
        participant=services.participant_register(study=study), correct=5
    )
    assert passed.status == "in_progress" and passed.trials.exists()


def test_answers_are_idempotent_in_order_and_final(make_study) -> None:
    study = make_study()
    participant = services.participant_register(study=study)
    other = services.participant_register(study=study)
    first = participant.trials.get(index=0)
    answer = right_answer(first)
    saved = services.response_record(participant=participant, index=0, idempotency_key="k0", answer=answer)
    again = services.response_record(participant=participant, index=0, idempotency_key="k0", answer=answer)
    assert again.pk == saved.pk and Response.objects.filter(trial=first).count() == 1
    with pytest.raises(ParticipationError, match=ALREADY_ANSWERED):
        services.response_record(participant=participant, index=0, idempotency_key="k0b", answer=answer)
    with pytest.raises(ParticipationError, match=NOT_NEXT_TRIAL):
        services.response_record(participant=participant, index=5, idempotency_key="k5", answer=answer)
    with pytest.raises(ParticipationError, match=NOT_YOUR_TRIAL) as error:
        services.response_record(participant=participant, index=10_000, idempotency_key="kx", answer=answer)
    assert error.value.status == 404
    with pytest.raises(ParticipationError, match="another trial"):  # someone else's key
        services.response_record(participant=other, index=0, idempotency_key="k0", answer=answer)


def test_a_retry_that_raced_its_original_gets_the_saved_answer(make_study) -> None:
    """Found by the load test through a kill -9: a client that gave up waiting resends its answer
    while the original is still being saved; the resend passes the key check before the original
    commits and then finds the trial answered — by itself. It must get the answer back, not a 409."""
    study = make_study()
    participant = services.participant_register(study=study)
    answer = right_answer(participant.trials.get(index=0))
    saved = services.response_record(participant=participant, index=0, idempotency_key="k0", answer=answer)
    # The resend's own transaction, from after its key check (which ran before the original committed).
    resent = participants_service._record(participant, 0, "k0", answer)
    assert resent.pk == saved.pk and Response.objects.filter(trial__participant=participant).count() == 1
    with pytest.raises(ParticipationError, match=ALREADY_ANSWERED):
        participants_service._record(participant, 0, "another key", answer)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(choice=2), "choice: expected a position from 0 to 1"),
        (Answer(choice=None), "choice: expected a position from 0 to 1"),
        (Answer(choice=0, play_counts=[1]), "play_counts: expected 2 counts"),
    ],
)
def test_invalid_answers_are_refused_naming_the_field(make_study, answer, message) -> None:
    participant = services.participant_register(study=make_study())
    with pytest.raises(ParticipationError, match=message):
        services.response_record(participant=participant, index=0, idempotency_key="k", answer=answer)
    assert not Response.objects.exists()


def test_finishing_applies_the_catch_trial_rule(make_study) -> None:
    study = make_study()
    attentive = services.participant_register(study=study)
    answer_all(attentive)
    attentive = services.participant_finish(participant=attentive, questionnaire={"age": "30-39"})
    assert (attentive.status, attentive.excluded) == ("finished", False)

    careless = services.participant_register(study=study)

    def always_first(trial: Trial) -> Answer:
        return Answer(choice=0, judged_real=True, rating=5, ranking=list(range(trial.presented.count())))

    answer_all(careless, always_first)
    careless = services.participant_finish(participant=careless)
    assert careless.excluded
    assert "catch trials in task 1 (turing_single); the rule allows 0" in careless.exclusion_reason


def test_finishing_early_is_refused(make_study) -> None:
    participant = services.participant_register(study=make_study())
    with pytest.raises(ParticipationError, match="Not every trial"):
        services.participant_finish(participant=participant)


def test_a_researcher_exclusion_needs_a_reason_and_frees_the_cells(make_study) -> None:
    study = make_study()
    participant = services.participant_register(study=study)
    with pytest.raises(ParticipationError, match="exclusion_reason"):
        services.participant_set_exclusion(participant=participant, excluded=True)
    services.participant_set_exclusion(participant=participant, excluded=True, reason="bot")
    cells, _ = selectors.cell_counts(study.tasks.first())
    assert sum(cells.values()) == 0
    assert Counter(study.participants.values_list("excluded", flat=True)) == {True: 1}


def test_failing_every_task_s_catch_trials_still_finishes_with_every_reason(make_study) -> None:
    """The reason names each failed task; five of them outgrew the old 300-character column, which
    PostgreSQL enforces: the participant could never finish."""
    study = make_study()
    participant = services.participant_register(study=study)

    def fails_every_catch(trial: Trial) -> Answer:
        presented = list(trial.presented.select_related("stimulus"))
        anchors = [p.position for p in presented if p.stimulus.variant]
        others = [p.position for p in presented if not p.stimulus.variant]
        return Answer(choice=(anchors or others)[0], judged_real=True, rating=5, ranking=anchors + others)

    answer_all(participant, fails_every_catch)
    participant = services.participant_finish(participant=participant)
    participant.refresh_from_db()
    assert participant.status == "finished" and participant.excluded
    assert participant.exclusion_reason.count("catch trials in task") == study.tasks.count() == 5
    assert len(participant.exclusion_reason) > 300
