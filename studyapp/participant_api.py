"""The small JSON API the trial page talks to: the next trial, and an answer to one. In the OpenAPI
schema (/api/schema/, tag "participant") next to the researcher API, and fuzzed with it.

The participant is known by their session, or in MTurk's frame by the page's participant token
(studyapp.participant_identity); a POST must come from the study's own page (studyapp.framing).
What a payload may show comes from studyapp.presentation's whitelist; writes go through services.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from studyapp import framing, presentation, rate_limits, selectors, services
from studyapp import participant_identity as identity
from studyapp.validation import StrictBoolean, StrictInteger, error_lines

MAX_ANSWER_BYTES = 4096  # an answer is a few small fields; anything bigger is not one
AUTH = [{"participantSession": []}, {"participantToken": []}]  # securitySchemes in settings


MAX_INT = 2_147_483_647  # what every database's integer column holds
MAX_ITEMS = 32  # more soundtracks than any trial shows


def _positions_list() -> serializers.ListField:
    """An optional list with an entry per soundtrack shown (a ranking, play counts)."""
    return serializers.ListField(
        child=StrictInteger(maximum=MAX_INT),
        allow_null=True,
        required=False,
        default=None,
        max_length=MAX_ITEMS,
    )


class AnswerInput(serializers.Serializer):
    """The JSON body of an answer; each field type-checked, a bad one named in the error. Which fields
    a trial needs, and their ranges, is its task type's business (services.response_record)."""

    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=64
    )
    choice = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    judged_real = StrictBoolean(required=False, allow_null=True, default=None)
    rating = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    ranking = _positions_list()
    response_time_ms = StrictInteger(required=False, allow_null=True, default=None, maximum=MAX_INT)
    play_counts = _positions_list()
    client_time = serializers.DateTimeField(required=False, allow_null=True, default=None)


# The shapes below describe presentation.trial_payload's whitelist for the schema; they do not build it.
class ParticipantProgressOutput(serializers.Serializer):
    answered = serializers.IntegerField()
    total = serializers.IntegerField()


class TrialTaskOutput(serializers.Serializer):
    number = serializers.IntegerField()
    of = serializers.IntegerField()
    type = serializers.CharField()
    question = serializers.CharField()
    intro = serializers.CharField()
    scale_labels = serializers.ListField(child=serializers.CharField())


class StimulusOutput(serializers.Serializer):
    label = serializers.CharField(help_text="A, B, …: the position shown")
    src = serializers.CharField(help_text="this participant's URL for the soundtrack (opaque)")


class TrialOutput(serializers.Serializer):
    index = serializers.IntegerField()
    practice = serializers.BooleanField()
    task = TrialTaskOutput()
    stimuli = StimulusOutput(many=True)


class NextTrialOutput(serializers.Serializer):
    done = serializers.BooleanField(help_text="true: every trial is answered (no `trial`)")
    progress = ParticipantProgressOutput()
    trial = TrialOutput(required=False)
    preload = serializers.ListField(child=serializers.CharField(), required=False)


class SavedOutput(serializers.Serializer):
    saved = serializers.BooleanField()
    index = serializers.IntegerField()
    feedback = serializers.CharField(help_text="practice trials only: what the right answer was")


class ErrorOutput(serializers.Serializer):
    error = serializers.CharField(help_text="what is wrong, naming the field")


def _error(message: str, status: int) -> Response:
    return Response({"error": message}, status=status)


@method_decorator(never_cache, name="dispatch")
@method_decorator(rate_limits.per_participant("answer"), name="dispatch")
class ParticipantAPIView(APIView):
    """No DRF authentication (the participant is found per study, below); POSTs checked by framing."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and (refusal := framing.post_refusal(request)):
            return JsonResponse({"error": refusal}, status=403)
        return super().dispatch(request, *args, **kwargs)

    def participant(self, request: Request, slug: str):
        """The asking participant while they are answering trials, else None."""
        participant = identity.participant_at(request._request, slug)
        return participant if presentation.answering(participant) else None


class NextTrial(ParticipantAPIView):
    @extend_schema(
        tags=["participant"],
        auth=AUTH,
        operation_id="participant_next_trial",
        summary="The next unanswered trial (its delivery time is recorded), or done",
        responses={200: NextTrialOutput, 403: ErrorOutput, 404: OpenApiResponse(description="no such study")},
    )
    def get(self, request: Request, slug: str) -> Response:
        participant = self.participant(request, slug)
        if participant is None:
            return _error(identity.NOT_A_PARTICIPANT, 403)
        payload = presentation.trial_payload(participant, carry=identity.carry(request._request))
        if not payload["done"]:
            services.trial_mark_delivered(participant=participant, index=payload["trial"]["index"])
        return Response(payload)


class Answer(ParticipantAPIView):
    @extend_schema(
        tags=["participant"],
        auth=AUTH,
        operation_id="participant_answer",
        summary="Save the answer to a trial, once (a retry with the same idempotency key is no second one)",
        request=AnswerInput,
        responses={
            200: SavedOutput,
            400: ErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
            413: ErrorOutput,
        },
    )
    def post(self, request: Request, slug: str, index: int) -> Response:
        participant = self.participant(request, slug)
        if participant is None:
            return _error(identity.NOT_A_PARTICIPANT, 403)
        body = request._request.body  # parsed here, not by DRF, so every error names what is wrong
        if len(body) > MAX_ANSWER_BYTES:
            too_big = f"The answer body is over {MAX_ANSWER_BYTES} bytes; an answer is a small object."
            return _error(too_big, 413)
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            return _error("Expected a JSON object.", 400)
        answer = AnswerInput(data=data)
        if not answer.is_valid():
            return _error(error_lines(answer.errors)[0], 400)
        fields = dict(answer.validated_data)
        key = fields.pop("idempotency_key")
        try:
            response = services.response_record(
                participant=participant, index=index, idempotency_key=key, answer=services.Answer(**fields)
            )
        except services.ParticipationError as error:
            return _error(str(error), error.status)
        feedback = selectors.practice_feedback(response) if response.trial.kind == "practice" else ""
        return Response({"saved": True, "index": index, "feedback": feedback})
