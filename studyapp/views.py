from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from studyapp import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "studyapp/home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.health_status())
