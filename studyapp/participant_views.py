"""The participant's pages under /s/<slug>/ (their trial page's JSON API: studyapp.participant_api).

Thin: the journey's state lives in the database (studyapp.presentation.participant_step says which
page to show), writes go through studyapp.services, and everything rendered or serialised comes
from studyapp.presentation's whitelists. The participant is known by an opaque id in their Django
session, so a reload or a second tab resumes where they were and nobody can address another
participant's trials; inside MTurk's cross-site frame, where the browser sends no cookies, by the
signed participant token its pages carry instead (studyapp.framing).
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from studyapp import framing, presentation, rate_limits, screening, selectors, services
from studyapp import participant_identity as identity
from studyapp.models import Study
from studyapp.ranged import ranged_file_response


def _message(
    request: HttpRequest, study: Study, message: str, status: int = 200, outcome: object = None
) -> HttpResponse:
    context = {"study": study, "message": message, "outcome": outcome, "carry": identity.carry(request)}
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
    study = identity.study_of(slug)
    participant = identity.participant_of(request, study)
    step = presentation.participant_step(participant)
    carry = identity.carry(request) if participant else ""
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
    done = presentation.completion(study, participant, identity.turk_submit_to(request, study))
    return render(request, "studyapp/participant/complete.html", {**context, "completion": done})


@require_POST
@framing.participant_post
@framing.frameable
@rate_limits.limit("consent", method="POST")
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    study = identity.study_of(slug)
    if identity.participant_of(request, study) is not None:
        return identity.to_entry(slug, identity.carry(request))
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
    request.session[identity.session_key(study)] = participant.public_id
    request.session[identity.turk_key(study)] = hidden["turkSubmitTo"][:200]
    # An MTurk HIT is shown in MTurk's frame, where the cookie just set may never come back: its
    # pages carry the participant token from here on.
    carry = ""
    if participant.mturk_assignment_id:
        carry = framing.token_for(study.pk, participant.public_id, hidden["turkSubmitTo"][:200])
    return identity.to_entry(slug, carry)


@require_safe
def headphones_audio(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    study = identity.study_of(slug)
    participant = identity.participant_of(request, study)
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
    study = identity.study_of(slug)
    participant = identity.participant_of(request, study)
    if presentation.participant_step(participant) != presentation.SCREENING:
        return identity.to_entry(slug, identity.carry(request))
    answers = []
    for n in range(screening.TRIALS):
        value = request.POST.get(f"trial{n}", "")
        answers.append(int(value) - 1 if value in {"1", "2", "3"} else None)
    try:
        services.participant_screen(participant=participant, answers=answers)
    except services.ParticipationError as error:
        return _message(request, study, str(error), status=error.status)
    return identity.to_entry(slug, identity.carry(request))


@require_POST
@framing.participant_post
@framing.frameable
def questionnaire(request: HttpRequest, slug: str) -> HttpResponse:
    study = identity.study_of(slug)
    participant = identity.participant_of(request, study)
    if presentation.participant_step(participant) != presentation.QUESTIONNAIRE:
        return identity.to_entry(slug, identity.carry(request))
    form = QuestionnaireForm(request.POST)
    if not form.is_valid():
        context = {"study": study, "participant": participant, "form": form, "carry": identity.carry(request)}
        return render(request, "studyapp/participant/questionnaire.html", context, status=400)
    answers = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        services.participant_finish(participant=participant, questionnaire=answers)
    except services.ParticipationError as error:
        return _message(request, study, str(error), status=error.status)
    return identity.to_entry(slug, identity.carry(request))


@require_safe
@rate_limits.per_participant("media")
def stimulus_media(request: HttpRequest, token: str) -> HttpResponse:
    """A stimulus by one of the asking participant's media tokens (another session, or none: 404),
    or, for staff (the admin's preview), by its opaque id; with Range support. Nothing in the URL or
    headers names its system."""
    asking = identity.asking_participants(request)
    stimulus = next((s for p in asking if (s := selectors.participant_stimulus(p, token))), None)
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
