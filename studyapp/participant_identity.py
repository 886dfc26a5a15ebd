"""Who a participant request comes from, for the participant pages (participant_views) and their JSON
API (participant_api): the opaque id in the participant's Django session, or — in MTurk's cross-site
frame, where the browser sends no cookies — the signed participant token the page carries
(studyapp.framing). Never anything a participant could choose: another participant's trials cannot
be addressed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from studyapp import framing
from studyapp.models import Participant, Study

NOT_A_PARTICIPANT = "Your session has expired or was never started: open the study link again."
SESSION_PREFIX = "vis2sound.participant."


def session_key(study: Study) -> str:
    return f"{SESSION_PREFIX}{study.pk}"


def turk_key(study: Study) -> str:
    return f"{session_key(study)}.turk"  # where MTurk's submit host waits for the end


def study_of(slug: str) -> Study:
    """The study behind a participant link; a simulation sandbox is no study to people (404)."""
    return get_object_or_404(Study, slug=slug, sandbox=False)


def participant_of(request: HttpRequest, study: Study) -> Participant | None:
    """From the session, or else from a participant token the request carries."""
    public_id = request.session.get(session_key(study))
    if not public_id and (token := framing.carried(request)) and token.study_pk == study.pk:
        public_id = token.public_id
    if not public_id:
        return None
    return Participant.objects.filter(study=study, public_id=public_id).select_related("study").first()


def participant_at(request: HttpRequest, slug: str) -> Participant | None:
    """The asking participant of the study at ``slug``, with their study, in one query (the trial API
    asks on every request); None for anyone else. A missing study is a 404. (Opaque ids are unique
    across studies, so the id and the slug together name one participant of that study.)"""
    ids = _session_ids(request)
    if not ids and (token := framing.carried(request)):
        ids = [token.public_id]
    found = (
        Participant.objects.filter(public_id__in=ids, study__slug=slug, study__sandbox=False)
        .select_related("study")
        .first()
    )
    if found is None:
        study_of(slug)  # 404 where there is no such study
    return found


def _session_ids(request: HttpRequest) -> list[str]:
    return [
        v
        for k, v in request.session.items()
        if k.startswith(SESSION_PREFIX) and k[len(SESSION_PREFIX) :].isdigit()
    ]


def asking_participants(request: HttpRequest) -> list[Participant]:
    """Every participant of the session (one per study), or the one whose token the request carries."""
    ids = _session_ids(request)
    if not ids and (token := framing.carried(request)):
        return list(Participant.objects.filter(study_id=token.study_pk, public_id=token.public_id))
    return list(Participant.objects.filter(public_id__in=ids))


def turk_submit_to(request: HttpRequest, study: Study) -> str:
    token = framing.carried(request)
    return request.session.get(turk_key(study)) or (token.turk_submit_to if token else "")


def carry(request: HttpRequest) -> str:
    """The participant token to put in this page's links and forms: the one the request came with."""
    token = framing.carried(request)
    return token.token if token else ""


def to_entry(slug: str, token: str = "") -> HttpResponse:
    """Back to the study link (the page for the participant's step), keeping the token if any."""
    return redirect(framing.with_token(reverse("participant-entry", args=[slug]), token))
