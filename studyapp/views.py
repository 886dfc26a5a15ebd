from pathlib import Path

from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from studyapp import selectors
from studyapp.ranged import ranged_file_response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "studyapp/home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.health_status())


@require_safe
def stimulus_media(request: HttpRequest, public_id: str) -> HttpResponse:
    """A stimulus by its opaque id, with Range support; nothing in the URL or headers names its system."""
    stimulus = selectors.stimulus_by_public_id(public_id)
    if stimulus is None or not stimulus.media:
        raise Http404("no such media")
    response = ranged_file_response(request, Path(default_storage.path(stimulus.media.name)), "video/mp4")
    response["Cache-Control"] = "private, max-age=86400"
    return response
