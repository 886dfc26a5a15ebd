"""Rate limits on what a crowd, a script or an attacker can hammer: consent (new participants per
address), answers and media (per participant session), admin login and the API's HTTP Basic auth
(failed attempts per address). Counting is django-ratelimit's; the limits live in settings.RATE_LIMITS
(each overridable from the environment) and an exceeded one answers HTTP 429.

Behind a proxy every request comes from the proxy's address: set RATELIMIT_IP_META_KEY (e.g.
HTTP_X_REAL_IP, which deploy/nginx.conf sets) so that addresses are the participants' own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage, is_ratelimited
from django_ratelimit.decorators import ratelimit
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from studyapp import framing

TOO_MANY = "Too many requests in a short time. Please wait a minute and try again."
JSON_VIEWS = {"participant-trial", "participant-answer"}  # the trial page's own requests


def _rate(group: str, request: HttpRequest) -> str:
    return settings.RATE_LIMITS[group]


def _session_or_ip(group: str, request: HttpRequest) -> str:
    """A participant's own session (or, in MTurk's frame, their token); before either, their address."""
    token = framing.carried(request)
    return request.session.session_key or (token and token.public_id) or request.META.get("REMOTE_ADDR", "")


def limit(group: str, *, key: str | Callable = "ip", method: str | tuple = ("GET", "POST")) -> Callable:
    """Decorate a view with the limit named ``group`` in settings.RATE_LIMITS."""
    return ratelimit(group=group, key=key, rate=_rate, method=method, block=True)


def per_participant(group: str, *, method: str | tuple = ("GET", "POST")) -> Callable:
    return limit(group, key=_session_or_ip, method=method)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """settings.RATELIMIT_VIEW: 429, as JSON for API and answer requests, else a page."""
    match = request.resolver_match
    wants_json = request.path.startswith("/api/") or (match is not None and match.url_name in JSON_VIEWS)
    if wants_json:
        response = JsonResponse({"error": TOO_MANY}, status=429)
    else:
        response = render(
            request, "studyapp/participant/rate_limited.html", {"message": TOO_MANY}, status=429
        )
    response["Retry-After"] = "60"
    return response


class RateLimitedBasicAuthentication(BasicAuthentication):
    """HTTP Basic for the researcher API, with failed attempts per address limited (guessing a
    password is the attack; a script with the right one is never slowed down)."""

    def authenticate(self, request):
        django_request = request._request
        usage = get_usage(django_request, group="api_auth", key="ip", rate=_rate, increment=False)
        # Refused once the failures so far have used up the limit (the next one would exceed it).
        if settings.RATELIMIT_ENABLE and usage is not None and usage["count"] >= usage["limit"]:
            raise exceptions.Throttled(wait=usage["time_left"], detail=TOO_MANY)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            is_ratelimited(django_request, group="api_auth", key="ip", rate=_rate, increment=True)
            raise


class RateLimitedBasicScheme(BasicScheme):
    """The OpenAPI schema describes it as the HTTP Basic it is."""

    target_class = RateLimitedBasicAuthentication
