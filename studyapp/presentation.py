"""What reaches a participant's browser, and nothing more (reads only).

Every payload here is built from a whitelist: a trial is its index, its task's question and scale,
whether it is practice, and its soundtracks as letters and media URLs minted for this participant and
trial (studyapp.media_tokens). Which soundtrack is
real, which system made it, whether a trial is a catch trial and the answer key stay on the server;
tests/studyapp/test_participant_views.py scans every page and payload for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

from django.db.models import Count
from django.urls import reverse

from studyapp import framing
from studyapp.media_tokens import media_token
from studyapp.models import Participant, Study, Trial, TrialStimulus
from studyapp.tasks import registry
from studyapp.tasks.base import letter

# Steps of the participant's journey, in order; `participant_step` says where one stands.
CONSENT, SCREENING, SCREENING_FAILED, TRIALS, QUESTIONNAIRE, COMPLETE = (
    "consent",
    "screening",
    "screening_failed",
    "trials",
    "questionnaire",
    "complete",
)

MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"
MTURK_SUBMIT_HOSTS = {"www.mturk.com", "workersandbox.mturk.com"}
PROLIFIC_COMPLETE = "https://app.prolific.com/submissions/complete"
PROLIFIC_PARAMS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID")
MTURK_PARAMS = ("workerId", "assignmentId", "hitId", "turkSubmitTo")


def participant_step(participant: Participant | None) -> str:
    if participant is None:
        return CONSENT
    if participant.status == Participant.Status.SCREENING_FAILED:
        return SCREENING_FAILED
    if participant.status == Participant.Status.FINISHED:
        return COMPLETE
    if participant.study.screening and not participant.screening_passed:
        return SCREENING
    if participant.trials.filter(response__isnull=True).exists() or not participant.trials.exists():
        return TRIALS
    return QUESTIONNAIRE


def answering(participant: Participant | None) -> bool:
    """Whether the trial API serves this participant (steps TRIALS and QUESTIONNAIRE), from the
    participant row alone: the API asks on every request, and the trials are read next anyway."""
    ended = {Participant.Status.SCREENING_FAILED, Participant.Status.FINISHED}
    if participant is None or participant.status in ended:
        return False
    return not participant.study.screening or bool(participant.screening_passed)


def task_scripts(study: Study) -> list[tuple[str, str]]:
    """The JavaScript renderers the study's task types need: (static path, the types it renders)."""
    scripts: dict[str, list[str]] = {}
    for name in set(study.tasks.values_list("type", flat=True)):
        scripts.setdefault(registry.get(name).script, []).append(name)
    return [(script, " ".join(sorted(types))) for script, types in sorted(scripts.items())]


def next_trial(participant: Participant) -> Trial | None:
    return participant.trials.filter(response__isnull=True).order_by("index").first()


def _media_urls(participant: Participant, trials: list[Trial], carry: str = "") -> list[list[str]]:
    """This participant's URLs for each trial's soundtracks, in the order shown (studyapp.media_tokens);
    with the participant token where the page carries one (studyapp.framing). One query for all."""
    positions: dict[int, list[int]] = {trial.pk: [] for trial in trials}
    shown = TrialStimulus.objects.filter(trial__in=trials).order_by("trial", "position")
    for trial_pk, position in shown.values_list("trial_id", "position"):
        positions[trial_pk].append(position)
    return [
        [
            framing.with_token(
                reverse("stimulus-media", args=[media_token(participant.public_id, trial.pk, n)]), carry
            )
            for n in positions[trial.pk]
        ]
        for trial in trials
    ]


def trial_payload(participant: Participant, carry: str = "") -> dict:
    """The next unanswered trial, or {"done": true}; with the following trial's media to preload."""
    counts = participant.trials.aggregate(total=Count("pk"), answered=Count("response"))
    progress = {"answered": counts["answered"], "total": counts["total"]}
    unanswered = participant.trials.filter(response__isnull=True).select_related("task")
    pending = list(unanswered.order_by("index")[:2])  # this trial and the one to preload
    if not pending:
        return {"done": True, "progress": progress}
    trial, task = pending[0], pending[0].task
    tasks = list(participant.study.tasks.values_list("pk", flat=True))
    urls, *following = _media_urls(participant, pending[:2], carry)
    return {
        "done": False,
        "progress": progress,
        "trial": {
            "index": trial.index,
            "practice": trial.kind == Trial.Kind.PRACTICE,
            "task": {
                "number": tasks.index(task.pk) + 1,
                "of": len(tasks),
                "type": task.type,
                "question": task.question,
                "intro": task.task_type.intro,
                "scale_labels": list(task.scale_labels) if task.is_rating else [],
            },
            "stimuli": [{"label": letter(n), "src": url} for n, url in enumerate(urls)],
        },
        "preload": following[0] if following else [],
    }


@dataclass(frozen=True)
class Completion:
    """How a finished participant leaves: shown a code, sent to a URL, or posting back to MTurk."""

    code: str
    redirect_url: str = ""
    mturk_submit_url: str = ""
    mturk_assignment_id: str = ""


def completion(study: Study, participant: Participant, turk_submit_to: str = "") -> Completion:
    code = study.completion_code
    submit_url = mturk_submit_url(turk_submit_to)
    if participant.mturk_assignment_id and submit_url:
        return Completion(
            code, mturk_submit_url=submit_url, mturk_assignment_id=participant.mturk_assignment_id
        )
    if study.completion_url:
        return Completion(code, redirect_url=study.completion_url)
    if study.platform == Study.Platform.PROLIFIC:
        return Completion(code, redirect_url=f"{PROLIFIC_COMPLETE}?{urlencode({'cc': code})}")
    return Completion(code)


def _outcome(study: Study, code: str, url: str) -> Completion | None:
    if url:
        return Completion(code, redirect_url=url)
    if code and study.platform == Study.Platform.PROLIFIC:
        return Completion(code, redirect_url=f"{PROLIFIC_COMPLETE}?{urlencode({'cc': code})}")
    return Completion(code) if code else None


def screened_out(study: Study) -> Completion | None:
    """The screen-out code / URL of a participant whose headphone check failed (None: not set)."""
    return _outcome(study, study.screenout_code, study.screenout_url)


def turned_away(study: Study) -> Completion | None:
    """The "study full" code / URL of a participant who arrives when every cell is full."""
    return _outcome(study, study.full_code, study.full_url)


def mturk_submit_url(turk_submit_to: str) -> str:
    """MTurk's external-submit endpoint, only on MTurk's own hosts (never an open redirect)."""
    parsed = urlparse(turk_submit_to or "")
    if parsed.scheme != "https" or parsed.hostname not in MTURK_SUBMIT_HOSTS:
        return ""
    return f"https://{parsed.hostname}/mturk/externalSubmit"
