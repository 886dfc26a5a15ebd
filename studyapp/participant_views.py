"""The participant's pages under /s/<slug>/ and the small JSON API their trial page talks to.

Thin: the journey's state lives in the database (studyapp.presentation.participant_step says which
page to show), writes go through studyapp.services, and everything rendered or serialised comes
from studyapp.presentation's whitelists. The participant is known by an opaque id in their Django
session, so a reload or a second tab resumes where they were and nobody can address another
participant's trials; inside MTurk's cross-site frame, where the browser sends no cookies, by the
signed participant token its pages carry instead (studyapp.framing).
"""

from __future__ import annotations

import json
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from rest_framework import serializers

from studyapp import framing, presentation, rate_limits, screening, selectors, services
from studyapp.models import Participant, Study
from studyapp.ranged import ranged_file_response
from studyapp.validation import StrictBoolean, StrictInteger, error_lines

NOT_A_PARTICIPANT = "Your session has expired or was never started: open the study link again."


SESSION_PREFIX = "vis2sound.participant."


def _session_key(study: Study) -> str:
    return f"{SESSION_PREFIX}{study.pk}"


def _turk_key(study: Study) -> str:
    return f"{_session_key(study)}.turk"  # where MTurk's submit host waits for the end


def _participant(request: HttpRequest, study: Study) -> Participant | None:
    """From the session, or else from a participant token the request carries (studyapp.framing)."""
    public_id = request.session.get(_session_key(study))
    if not public_id and (token := framing.carried(request)) and token.study_pk == study.pk:
        public_id = token.public_id
    if not public_id:
        return None
    return Participant.objects.filter(study=study, public_id=public_id).select_related("study").first()


def _turk_submit_to(request: HttpRequest, study: Study) -> str:
    token = framing.carried(request)
    return request.session.get(_turk_key(study)) or (token.turk_submit_to if token else "")


def _carry(request: HttpRequest) -> str:
    """The participant token to put in this page's links and forms: the one the request came with."""
    token = framing.carried(request)
    return token.token if token else ""


def _to_entry(slug: str, token: str = "") -> HttpResponse:
    return redirect(framing.with_token(reverse("participant-entry", args=[slug]), token))


MAX_ANSWER_BYTES = 4096  # an answer is a few small fields; anything bigger is not one


def _study(slug: str) -> Study:
    """The study behind a participant link; a simulation sandbox is no study to people (404)."""
    return get_object_or_404(Study, slug=slug, sandbox=False)


def _message(
    request: HttpRequest, study: Study, message: str, status: int = 200, outcome: object = None
) -> HttpResponse:
    context = {"study": study, "message": message, "outcome": outcome, "carry": _carry(request)}
    return render(request, "studyapp/participant/message.html", context, status=status)


class QuestionnaireForm(forms.Form):
    """Every question is optional; answers are stored as given in Participant.questionnaire."""

    age = forms.IntegerField(label="Age (years)", required=False, min_value=18, max_value=120)
    gender = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("female", "Female"),
            ("male", "Male"),
            ("other", "Another gender"),
            ("undisclosed", "Prefer not to say"),
        ],
    )
    hearing = forms.ChoiceField(
        label="Do you have normal hearing?",
        required=False,
        choices=[
            ("", "—"),
            ("normal", "Yes"),
            ("impaired", "No, I have a hearing impairment"),
            ("unsure", "Not sure"),
        ],
    )
    listening_device = forms.ChoiceField(
        label="What did you listen with?",
        required=False,
        choices=[
            ("", "—"),
            ("over_ear", "Over-ear or on-ear headphones"),
            ("in_ear", "Earbuds / in-ear"),
            ("loudspeakers", "Loudspeakers"),
            ("other", "Something else"),
        ],
    )
    comments = forms.CharField(
        label="Comments (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


@require_safe
@never_cache
@framing.frameable
def study_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The study link, and the page for whatever step the participant has reached."""
    study = _study(slug)
    participant = _participant(request, study)
    step = presentation.participant_step(participant)
    carry = _carry(request) if participant else ""
    context: dict = {"study": study, "participant": participant, "carry": carry}
    if step == presentation.CONSENT:
        params = {k: request.GET.get(k, "") for k in presentation.PROLIFIC_PARAMS + presentation.MTURK_PARAMS}
        if params["assignmentId"] == presentation.MTURK_PREVIEW:
            return render(request, "studyapp/participant/preview.html", context)
        if study.status != Study.Status.OPEN:
            return _message(request, study, services.participants.STUDY_NOT_OPEN, status=403)
        hidden = {k: v for k, v in params.items() if v}
        return render(request, "studyapp/participant/consent.html", {**context, "hidden": hidden})
    if step == presentation.SCREENING:
        urls = [
            framing.with_token(reverse("participant-headphones-audio", args=[slug, n]), carry)
            for n in range(screening.TRIALS)
        ]
        return render(request, "studyapp/participant/screening.html", {**context, "trials": urls})
    if step == presentation.SCREENING_FAILED:
        outcome = presentation.screened_out(study)
        return render(request, "studyapp/participant/screening_failed.html", {**context, "outcome": outcome})
    if step == presentation.TRIALS:
        return render(
            request,
            "studyapp/participant/trials.html",
            {**context, "task_scripts": presentation.task_scripts(study)},
        )
    if step == presentation.QUESTIONNAIRE:
        return render(
            request, "studyapp/participant/questionnaire.html", {**context, "form": QuestionnaireForm()}
        )
    done = presentation.completion(study, participant, _turk_submit_to(request, study))
    return render(request, "studyapp/participant/complete.html", {**context, "completion": done})


@require_POST
@framing.participant_post
@framing.frameable
@rate_limits.limit("consent", method="POST")
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(slug)
    if _participant(request, study) is not None:
        return _to_entry(slug, _carry(request))
    hidden = {k: request.POST.get(k, "") for k in presentation.PROLIFIC_PARAMS + presentation.MTURK_PARAMS}
    if request.POST.get("consent") != "yes":
        context = {
            "study": study,
            "hidden": {k: v for k, v in hidden.items() if v},
            "error": "To take part, tick the box to say that you agree.",
        }
        return render(request, "studyapp/participant/consent.html", context, status=400)
    try:
        participant = services.participant_register(
            study=study,
            prolific={k: hidden[k] for k in presentation.PROLIFIC_PARAMS},
            mturk={k: hidden[k] for k in ("workerId", "assignmentId", "hitId")},
            user_agent=request.headers.get("User-Agent", ""),
        )
    except services.ParticipationError as error:
        full = isinstance(error, services.participants.StudyFullError)
        outcome = presentation.turned_away(study) if full else None
        return _message(request, study, str(error), status=error.status, outcome=outcome)
    request.session.cycle_key()  # a fresh session id at the start of participation
    request.session[_session_key(study)] = participant.public_id
    request.session[_turk_key(study)] = hidden["turkSubmitTo"][:200]
    # An MTurk HIT is shown in MTurk's frame, where the cookie just set may never come back: its
    # pages carry the participant token from here on.
    carry = ""
    if participant.mturk_assignment_id:
        carry = framing.token_for(study.pk, participant.public_id, hidden["turkSubmitTo"][:200])
    return _to_entry(slug, carry)


@require_safe
def headphones_audio(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    study = _study(slug)
    participant = _participant(request, study)
    if presentation.participant_step(participant) != presentation.SCREENING or number >= screening.TRIALS:
        raise Http404("no such sound")
    quiet, antiphase = screening.trial_layouts(settings.SECRET_KEY, participant.public_id)[number]
    response = HttpResponse(screening.trial_wav(quiet, antiphase), content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@framing.participant_post
@framing.frameable
def headphones(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(slug)
    participant = _participant(request, study)
    if presentation.participant_step(participant) != presentation.SCREENING:
        return _to_entry(slug, _carry(request))
    answers = []
    for n in range(screening.TRIALS):
        value = request.POST.get(f"trial{n}", "")
        answers.append(int(value) - 1 if value in {"1", "2", "3"} else None)
    try:
        services.participant_screen(participant=participant, answers=answers)
    except services.ParticipationError as error:
        return _message(request, study, str(error), status=error.status)
    return _to_entry(slug, _carry(request))


@require_POST
@framing.participant_post
@framing.frameable
def questionnaire(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(slug)
    participant = _participant(request, study)
    if presentation.participant_step(participant) != presentation.QUESTIONNAIRE:
        return _to_entry(slug, _carry(request))
    form = QuestionnaireForm(request.POST)
    if not form.is_valid():
        context = {"study": study, "participant": participant, "form": form, "carry": _carry(request)}
        return render(request, "studyapp/participant/questionnaire.html", context, status=400)
    answers = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        services.participant_finish(participant=participant, questionnaire=answers)
    except services.ParticipationError as error:
        return _message(request, study, str(error), status=error.status)
    return _to_entry(slug, _carry(request))


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_safe
@never_cache
@rate_limits.per_participant("answer")
def trial_next(request: HttpRequest, slug: str) -> JsonResponse:
    study = _study(slug)
    participant = _participant(request, study)
    if presentation.participant_step(participant) not in {presentation.TRIALS, presentation.QUESTIONNAIRE}:
        return _json_error(NOT_A_PARTICIPANT, 403)
    payload = presentation.trial_payload(participant, carry=_carry(request))
    if not payload["done"]:
        services.trial_mark_delivered(participant=participant, index=payload["trial"]["index"])
    return JsonResponse(payload)


@require_POST
@framing.participant_post
@never_cache
@rate_limits.per_participant("answer")
def trial_answer(request: HttpRequest, slug: str, index: int) -> JsonResponse:
    study = _study(slug)
    participant = _participant(request, study)
    if presentation.participant_step(participant) not in {presentation.TRIALS, presentation.QUESTIONNAIRE}:
        return _json_error(NOT_A_PARTICIPANT, 403)
    if len(request.body) > MAX_ANSWER_BYTES:
        return _json_error(
            f"The answer body is over {MAX_ANSWER_BYTES} bytes; an answer is a small object.", 413
        )
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return _json_error("Expected a JSON object.", 400)
    body = AnswerInput(data=data)
    if not body.is_valid():
        return _json_error(error_lines(body.errors)[0], 400)
    fields = dict(body.validated_data)
    key = fields.pop("idempotency_key")
    try:
        response = services.response_record(
            participant=participant, index=index, idempotency_key=key, answer=services.Answer(**fields)
        )
    except services.ParticipationError as error:
        return _json_error(str(error), error.status)
    feedback = selectors.practice_feedback(response) if response.trial.kind == "practice" else ""
    return JsonResponse({"saved": True, "index": index, "feedback": feedback})


class AnswerInput(serializers.Serializer):
    """The JSON body of an answer; each field type-checked, a bad one named in the error. Which fields
    a trial needs, and their ranges, is its task type's business (services.response_record)."""

    MAX_INT = 2_147_483_647  # what every database's integer column holds
    MAX_ITEMS = 32  # more soundtracks than any trial shows

    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    choice = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    judged_real = StrictBoolean(required=False, allow_null=True, default=None)
    rating = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    ranking = serializers.ListField(
        child=StrictInteger(maximum=MAX_INT),
        required=False,
        allow_null=True,
        default=None,
        max_length=MAX_ITEMS,
    )
    response_time_ms = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    play_counts = serializers.ListField(
        child=StrictInteger(maximum=MAX_INT),
        required=False,
        allow_null=True,
        default=None,
        max_length=MAX_ITEMS,
    )
    client_time = serializers.DateTimeField(required=False, allow_null=True, default=None)


def _asking_participants(request: HttpRequest) -> list[Participant]:
    """Every participant of the session, or the one whose token the request carries."""
    ids = [
        v
        for k, v in request.session.items()
        if k.startswith(SESSION_PREFIX) and k[len(SESSION_PREFIX) :].isdigit()
    ]
    if not ids and (token := framing.carried(request)):
        return list(Participant.objects.filter(study_id=token.study_pk, public_id=token.public_id))
    return list(Participant.objects.filter(public_id__in=ids))


@require_safe
@rate_limits.per_participant("media")
def stimulus_media(request: HttpRequest, token: str) -> HttpResponse:
    """A stimulus by one of the asking participant's media tokens (another session, or none: 404),
    or, for staff (the admin's preview), by its opaque id; with Range support. Nothing in the URL or
    headers names its system."""
    stimulus = next(
        (s for p in _asking_participants(request) if (s := selectors.participant_stimulus(p, token))), None
    )
    if stimulus is None and request.user.is_staff:
        stimulus = selectors.stimulus_by_public_id(token)
    if stimulus is None or not stimulus.media:
        raise Http404("no such media")
    if settings.MEDIA_ACCEL_REDIRECT:
        # nginx sends the file (Range included) from its internal location; the app only authorised it.
        response = HttpResponse(content_type="video/mp4")
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + stimulus.media.name
    else:
        response = ranged_file_response(request, Path(default_storage.path(stimulus.media.name)), "video/mp4")
    response["Cache-Control"] = "private, max-age=86400"
    return response
