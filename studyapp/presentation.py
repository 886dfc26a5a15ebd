"""What reaches a participant's browser, and nothing more (reads only).

Every payload here is built from a whitelist: a trial is its index, its task's question and scale,
whether it is practice, and its soundtracks as letters and opaque media URLs. Which soundtrack is
real, which system made it, whether a trial is a catch trial and the answer key stay on the server;
tests/studyapp/test_participant_views.py scans every page and payload for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

from django.urls import reverse

from studyapp.models import Participant, Response, Study, Task, Trial

# Steps of the participant's journey, in order; `participant_step` says where one stands.
CONSENT, SCREENING, SCREENING_FAILED, TRIALS, QUESTIONNAIRE, COMPLETE = (
    "consent",
    "screening",
    "screening_failed",
    "trials",
    "questionnaire",
    "complete",
)

TASK_INTROS = {
    Task.Type.TURING_2AFC: (
        "You will see the same video twice, with two different soundtracks, A and B. One is the original "
        "recording; the other was made by a computer. Play both to the end, then choose."
    ),
    Task.Type.TURING_SINGLE: (
        "You will see one video at a time. Its soundtrack is either the original recording or was made "
        "by a computer. Play it to the end, then say which you think it is."
    ),
    Task.Type.SYNC_RATING: (
        "You will see one video at a time. Play it to the end, then rate how well the sound is "
        "synchronised with what you see, from 1 to 5."
    ),
    Task.Type.FIDELITY_RATING: (
        "You will see one video at a time. Play it to the end, then rate how realistic the sound is, "
        "from 1 to 5, whatever you think of its timing."
    ),
    Task.Type.RANKING: (
        "You will see the same video several times, each with a different soundtrack. Play each one to "
        "the end, then give each a rank: 1 for the most realistic."
    ),
}
NO_RIGHT_ANSWER = "Saved. There are no right or wrong answers here: go by your own impression."

MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"
MTURK_SUBMIT_HOSTS = {"www.mturk.com", "workersandbox.mturk.com"}
PROLIFIC_COMPLETE = "https://app.prolific.com/submissions/complete"
PROLIFIC_PARAMS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID")
MTURK_PARAMS = ("workerId", "assignmentId", "hitId", "turkSubmitTo")


def letter(position: int) -> str:
    return chr(ord("A") + position)


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


def next_trial(participant: Participant) -> Trial | None:
    return participant.trials.filter(response__isnull=True).order_by("index").first()


def _media_urls(trial: Trial) -> list[str]:
    presented = trial.presented.select_related("stimulus").order_by("position")
    return [reverse("stimulus-media", args=[p.stimulus.public_id]) for p in presented]


def trial_payload(participant: Participant) -> dict:
    """The next unanswered trial, or {"done": true}; with the following trial's media to preload."""
    trials = list(participant.trials.select_related("task").order_by("index"))
    answered = set(Response.objects.filter(trial__participant=participant).values_list("trial_id", flat=True))
    pending = [t for t in trials if t.pk not in answered]
    progress = {"answered": len(answered), "total": len(trials)}
    if not pending:
        return {"done": True, "progress": progress}
    trial, task = pending[0], pending[0].task
    tasks = list(participant.study.tasks.values_list("pk", flat=True))
    urls = _media_urls(trial)
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
                "intro": TASK_INTROS[task.type],
                "scale_labels": list(task.scale_labels) if task.is_rating else [],
            },
            "stimuli": [{"label": letter(n), "src": url} for n, url in enumerate(urls)],
        },
        "preload": _media_urls(pending[1]) if len(pending) > 1 else [],
    }


def practice_feedback(response: Response) -> str:
    """Feedback after a practice answer has been saved. Practice clips are never analysed, and they
    are not used as test clips, so telling the right answer here teaches the task and leaks nothing."""
    trial = response.trial
    real = [
        p.position
        for p in trial.presented.select_related("stimulus__system")
        if p.stimulus.system.is_real and not p.stimulus.variant
    ]
    if trial.task.type == Task.Type.TURING_2AFC and real:
        verdict = "Right." if response.choice in real else "Not this time."
        return f"{verdict} The original recording was {letter(real[0])}."
    if trial.task.type == Task.Type.TURING_SINGLE:
        truth = "the original recording" if real else "made by a computer"
        verdict = "Right." if response.judged_real == bool(real) else "Not this time."
        return f"{verdict} This soundtrack was {truth}."
    return NO_RIGHT_ANSWER


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


def mturk_submit_url(turk_submit_to: str) -> str:
    """MTurk's external-submit endpoint, only on MTurk's own hosts (never an open redirect)."""
    parsed = urlparse(turk_submit_to or "")
    if parsed.scheme != "https" or parsed.hostname not in MTURK_SUBMIT_HOSTS:
        return ""
    return f"https://{parsed.hostname}/mturk/externalSubmit"
