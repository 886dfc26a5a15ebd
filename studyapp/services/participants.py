"""Writes on participants: registration (at consent), screening, the balanced trial plan, answers,
finishing (with the exclusion rule), and researchers' manual exclusions."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from studyapp import planning, screening, selectors
from studyapp.models import Participant, Response, Study, Task, Trial, TrialStimulus
from studyapp.tasks import Answer, AnswerError

SCREENING_TRIALS = screening.TRIALS
SCREENING_PASS = screening.PASS_MARK  # Woods et al. 2017: at least 5 of 6 correct

STUDY_NOT_OPEN = "This study is not open for participants."
NO_SUCH_STUDY = "No such study."
STUDY_FULL = "This study has all the participants it needs. Thank you for your interest."
NOT_YOUR_TRIAL = "No such trial for this participant."
NOT_NEXT_TRIAL = "Answer the trials in order: this is not the next unanswered trial."
ALREADY_ANSWERED = "This trial has been answered already; an answer cannot be changed."
KEY_REUSED = "This idempotency key was used for another trial."
SCREENING_NOT_PASSED = "The headphone check has not been passed."


class ParticipationError(Exception):
    """A participant's request that cannot be carried out; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class StudyFullError(ParticipationError):
    """Every cell has reached its quota: the arrival is turned away (and shown the study-full code)."""

    def __init__(self) -> None:
        super().__init__(STUDY_FULL, status=409)


@transaction.atomic
def participant_register(
    *,
    study: Study,
    prolific: dict[str, str] | None = None,
    mturk: dict[str, str] | None = None,
    user_agent: str = "",
    simulated: bool = False,
) -> Participant:
    """A participant who has given consent. A Prolific participant or MTurk worker coming back gets
    their existing session (resume), never a second one."""
    study = Study.objects.select_for_update().get(pk=study.pk)  # serialises arrival numbers
    if study.sandbox and not simulated:
        raise ParticipationError(NO_SUCH_STUDY, status=404)  # simulation copies are never served
    if study.status != Study.Status.OPEN:
        raise ParticipationError(STUDY_NOT_OPEN, status=403)
    prolific, mturk = prolific or {}, mturk or {}
    if prolific.get("PROLIFIC_PID"):
        found = study.participants.filter(prolific_pid=prolific["PROLIFIC_PID"]).first()
        if found:
            return found
    if mturk.get("workerId"):
        found = study.participants.filter(mturk_worker_id=mturk["workerId"]).first()
        if found:
            return found
    number = (study.participants.aggregate(n=Max("number"))["n"] or 0) + 1
    participant = Participant(
        study=study,
        number=number,
        prolific_pid=prolific.get("PROLIFIC_PID", "")[:64],
        prolific_study_id=prolific.get("STUDY_ID", "")[:64],
        prolific_session_id=prolific.get("SESSION_ID", "")[:64],
        mturk_worker_id=mturk.get("workerId", "")[:64],
        mturk_assignment_id=mturk.get("assignmentId", "")[:64],
        mturk_hit_id=mturk.get("hitId", "")[:64],
        user_agent=user_agent[:500],
        consented_at=timezone.now(),
        last_active_at=timezone.now(),
        simulated=simulated,
    )
    participant.full_clean()
    participant.save()
    if not study.screening:
        study_assign_trials(participant=participant)
    return participant


@transaction.atomic
def participant_record_screening(*, participant: Participant, correct: int) -> Participant:
    """The headphone check's score (of 6). A pass plans the trials; a failure ends the session."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.screening_passed is not None:
        return participant  # recorded once; a reload does not get a second attempt
    if not 0 <= correct <= SCREENING_TRIALS:
        raise ParticipationError(f"screening score must be 0 to {SCREENING_TRIALS}, got {correct}")
    participant.screening_score = correct
    participant.screening_passed = correct >= SCREENING_PASS
    participant.last_active_at = timezone.now()
    if not participant.screening_passed:
        participant.status = Participant.Status.SCREENING_FAILED
        participant.finished_at = timezone.now()
    participant.save(
        update_fields=["screening_score", "screening_passed", "status", "finished_at", "last_active_at"]
    )
    if participant.screening_passed:
        study_assign_trials(participant=participant)
    return participant


def participant_screen(*, participant: Participant, answers: list[int | None]) -> Participant:
    """Score the participant's answers to the headphone check (the quiet tone's position per trial,
    0-based) against the layouts only the server knows, and record the score."""
    if len(answers) != SCREENING_TRIALS:
        raise ParticipationError(f"headphone check: expected {SCREENING_TRIALS} answers, got {len(answers)}")
    layouts = screening.trial_layouts(settings.SECRET_KEY, participant.public_id)
    return participant_record_screening(participant=participant, correct=screening.score(layouts, answers))


@transaction.atomic
def study_assign_trials(*, participant: Participant) -> list[Trial]:
    """Store the participant's planned sequence (studyapp.planning); an arrival when every cell has
    reached its quota is refused (409)."""
    study = Study.objects.select_for_update().get(pk=participant.study_id)  # one plan at a time
    if participant.trials.exists():
        return list(participant.trials.all())
    planned = planning.plan_trials(
        study, number=participant.number, secret=planning.participant_secret(participant)
    )
    if not any(p.kind == Trial.Kind.TEST for p in planned):
        raise StudyFullError
    # Two inserts for the whole plan (PostgreSQL and SQLite ≥ 3.35 return the new ids): the plan is
    # made under the study's lock, so its length is how long every other arrival waits.
    trials = Trial.objects.bulk_create(
        Trial(
            participant=participant,
            task=item.task,
            index=index,
            kind=item.kind,
            clip=item.clip,
            system=item.system,
            answer_key=item.answer_key,
        )
        for index, item in enumerate(planned)
    )
    TrialStimulus.objects.bulk_create(
        TrialStimulus(trial=trial, position=position, stimulus=stimulus)
        for trial, item in zip(trials, planned, strict=True)
        for position, stimulus in enumerate(item.stimuli)
    )
    participant.status = Participant.Status.IN_PROGRESS
    participant.last_active_at = timezone.now()
    participant.save(update_fields=["status", "last_active_at"])
    return trials


def trial_mark_delivered(*, participant: Participant, index: int) -> None:
    """Record, once, when the server first sent trial ``index``: the server's own clock, against which
    an answer that came sooner than the trial's videos could play is flagged (the browser's timings
    are only what the browser says)."""
    pending = participant.trials.filter(index=index, delivered_at__isnull=True)
    if pending.exists():  # a read first: a refetch of the same trial takes no write lock (SQLite)
        pending.update(delivered_at=timezone.now())


def _validate_answer(task: Task, positions: int, answer: Answer) -> None:
    try:
        task.task_type.validate(answer, positions)
    except AnswerError as error:
        raise ParticipationError(str(error)) from None
    if answer.play_counts is not None and (
        len(answer.play_counts) != positions or any(c < 0 for c in answer.play_counts)
    ):
        raise ParticipationError(f"play_counts: expected {positions} counts ≥ 0, one per soundtrack")


def response_record(
    *, participant: Participant, index: int, idempotency_key: str, answer: Answer
) -> Response:
    """Save the answer to the participant's trial ``index``. A retry with the same key returns the
    saved response unchanged; a second, different answer to a trial is refused; so is an answer to a
    trial that is not this participant's, or not their next one."""
    if not idempotency_key or len(idempotency_key) > 64:
        raise ParticipationError("idempotency_key: expected 1 to 64 characters")
    existing = Response.objects.filter(idempotency_key=idempotency_key).select_related("trial").first()
    if existing is not None:
        if existing.trial.participant_id == participant.pk and existing.trial.index == index:
            return existing
        raise ParticipationError(KEY_REUSED, status=409)
    try:
        with transaction.atomic():
            return _record(participant, index, idempotency_key, answer)
    except IntegrityError:
        # Two requests raced: the loser finds the winner's row.
        existing = Response.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None and existing.trial.participant_id == participant.pk:
            return existing
        raise ParticipationError(ALREADY_ANSWERED, status=409) from None


def _record(participant: Participant, index: int, idempotency_key: str, answer: Answer) -> Response:
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    trial = participant.trials.filter(index=index).select_related("task", "response").first()
    if trial is None:
        raise ParticipationError(NOT_YOUR_TRIAL, status=404)
    if hasattr(trial, "response"):
        if trial.response.idempotency_key == idempotency_key:
            # A retry that passed the check above while its original was still being saved (the
            # client gave up waiting on a slow server, then resent): the original's answer stands.
            return trial.response
        raise ParticipationError(ALREADY_ANSWERED, status=409)
    next_trial = participant.trials.filter(response__isnull=True).order_by("index").first()
    if next_trial is None or next_trial.pk != trial.pk:
        raise ParticipationError(NOT_NEXT_TRIAL, status=409)
    _validate_answer(trial.task, trial.presented.count(), answer)
    response = Response(
        trial=trial,
        idempotency_key=idempotency_key,
        choice=answer.choice,
        judged_real=answer.judged_real,
        rating=answer.rating,
        ranking=answer.ranking,
        response_time_ms=answer.response_time_ms,
        play_counts=answer.play_counts or [],
        client_time=answer.client_time,
    )
    response.full_clean(validate_unique=False)  # uniqueness is the database's job, race-free
    response.save()
    participant.last_active_at = response.server_time
    participant.save(update_fields=["last_active_at"])  # keeps their plan held (selectors.cell_counts)
    return response


@transaction.atomic
def participant_finish(*, participant: Participant, questionnaire: dict | None = None) -> Participant:
    """Mark finished once every trial is answered, and apply each task's exclusion rule."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status == Participant.Status.FINISHED:
        return participant
    if participant.trials.filter(response__isnull=True).exists() or not participant.trials.exists():
        raise ParticipationError("Not every trial has been answered yet.", status=409)
    if questionnaire:
        participant.questionnaire = questionnaire
    reasons = []
    outcomes = selectors.participant_catch_outcomes(participant)
    for task in participant.study.tasks.all():
        passed = outcomes.get(task.pk, [])
        failed = passed.count(False)
        if failed > task.max_failed_catch:
            reasons.append(
                f"failed {failed} of {len(passed)} catch trials in task {task.order} ({task.type}); "
                f"the rule allows {task.max_failed_catch}"
            )
    if reasons and not participant.excluded:
        participant.excluded, participant.exclusion_reason = True, "; ".join(reasons)
    participant.status = Participant.Status.FINISHED
    participant.finished_at = timezone.now()
    participant.save(update_fields=["status", "finished_at", "excluded", "exclusion_reason", "questionnaire"])
    return participant


@transaction.atomic
def participant_set_exclusion(*, participant: Participant, excluded: bool, reason: str = "") -> Participant:
    """A researcher's decision, recorded with its reason (required when excluding)."""
    if excluded and not reason.strip():
        raise ParticipationError("exclusion_reason: say why the participant is excluded")
    participant.excluded = excluded
    participant.exclusion_reason = reason.strip() if excluded else ""
    participant.save(update_fields=["excluded", "exclusion_reason"])
    return participant
