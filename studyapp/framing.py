"""Participant pages inside another site's frame — MTurk shows an ExternalQuestion HIT in an iframe
on www.mturk.com — where the browser sends the study no cookies at all: a cross-site frame gets no
SameSite=Lax cookie, and browsers that block third-party cookies (Safari, Firefox's strict mode,
Chrome's incognito) drop every one. So neither the session nor Django's CSRF cookie survives there.

- Identity: a signed participant token (django.core.signing under SECRET_KEY) that the pages carry —
  in their links, forms (field ``pt``) and the trial page's requests (header X-Participant-Token).
  It names the participant and MTurk's submit host; it cannot be forged, and it says nothing about
  any trial. A request with a session is known by the session as before.
- Forgery: a participant POST counts as the study's own when the browser says so — Fetch Metadata's
  ``Sec-Fetch-Site: same-origin``, or else an ``Origin`` equal to the study's — which needs no cookie;
  a request with neither header (old browsers, scripts) goes through Django's CSRF token check.
- Who may frame: participant pages send ``Content-Security-Policy: frame-ancestors`` with
  settings.PARTICIPANT_FRAME_ANCESTORS (MTurk's hosts) instead of ``X-Frame-Options: DENY``; every
  other page (admin, API) stays unframeable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

TOKEN_FIELD = "pt"  # query parameter and form field
TOKEN_HEADER = "X-Participant-Token"
SALT = "vis2sound.participant"
FORGED = "This request did not come from the study's own page. Open the study link again."
CSRF_FAILED = "The page's security token is missing or stale (CSRF). Open the study link again."


@dataclass(frozen=True)
class Carried:
    """What a participant token says: who (study, participant) and where MTurk waits for the HIT."""

    token: str
    study_pk: int
    public_id: str
    turk_submit_to: str = ""


def token_for(study_pk: int, public_id: str, turk_submit_to: str = "") -> str:
    return signing.dumps({"s": study_pk, "p": public_id, "t": turk_submit_to}, salt=SALT, compress=True)


def carried(request: HttpRequest) -> Carried | None:
    """The participant token this request carries (header, form field or query), if any valid one.
    Checked once per request: identity, the page's links and the rate-limit key all ask."""
    if not hasattr(request, "_participant_token"):
        request._participant_token = _read_token(request)
    return request._participant_token


def _read_token(request: HttpRequest) -> Carried | None:
    token = (
        request.headers.get(TOKEN_HEADER)
        or (request.POST.get(TOKEN_FIELD) if request.method == "POST" and not _is_json(request) else None)
        or request.GET.get(TOKEN_FIELD)
    )
    if not token or len(token) > 1024:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PARTICIPANT_TOKEN_MAX_AGE)
        return Carried(token, int(data["s"]), str(data["p"]), str(data.get("t", "")))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"  # its body is not a form to parse


def with_token(url: str, token: str) -> str:
    return f"{url}?{urlencode({TOKEN_FIELD: token})}" if token else url


def _from_this_site(request: HttpRequest) -> bool | None:
    """True/False where the browser says where a POST comes from; None where it says nothing."""
    site = request.headers.get("Sec-Fetch-Site")
    if site:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin:
        own = f"{request.scheme}://{request.get_host()}"
        return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS
    return None


def post_refusal(request: HttpRequest) -> str:
    """Why a participant POST is refused as a possible cross-site forgery ("": it is not)."""
    verdict = _from_this_site(request)
    if verdict is False:
        return FORGED
    # No browser evidence either way: Django's CSRF token check decides.
    if verdict is None and _CSRF.process_view(request, _not_exempt, (), {}) is not None:
        return CSRF_FAILED
    return ""


def _not_exempt(request: HttpRequest) -> None:
    """The view Django's CSRF check is asked about: one that is not csrf_exempt."""


_CSRF = CsrfViewMiddleware(lambda request: None)


def participant_post(view: Callable) -> Callable:
    """A participant POST: accepted from the study's own pages with or without cookies (see above)."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if refusal := post_refusal(request):
            return HttpResponseForbidden(refusal)
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)


def frameable(view: Callable) -> Callable:
    """A participant page that MTurk's hosts (settings.PARTICIPANT_FRAME_ANCESTORS) may frame."""

    @functools.wraps(view)
    def framed(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        ancestors = " ".join(["'self'", *settings.PARTICIPANT_FRAME_ANCESTORS])
        response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        return response

    return xframe_options_exempt(framed)
