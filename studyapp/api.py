"""The researcher REST API (staff only): studies, their live progress and their results. One thin view
per operation: validate the input, call one selector or service, serialise the output. The schema
(OpenAPI 3) is served at /api/schema/."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from studyapp import exports, selectors, services
from studyapp.models import Study, Task


class IsStaff(permissions.BasePermission):
    message = "The researcher API is for staff accounts only."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class ResearcherView(APIView):
    permission_classes = [IsStaff]


class TaskOutput(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = [
            "order",
            "type",
            "question",
            "scale_labels",
            "trials_per_participant",
            "practice_trials",
            "catch_rate",
            "max_failed_catch",
            "target_per_cell",
        ]


class StudyOutput(serializers.ModelSerializer):
    systems = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    tasks = TaskOutput(many=True, read_only=True)
    clips = serializers.IntegerField(source="clips.count", read_only=True)
    participants = serializers.IntegerField(source="participants.count", read_only=True)

    class Meta:
        model = Study
        fields = [
            "slug",
            "title",
            "status",
            "platform",
            "screening",
            "seed",
            "systems",
            "clips",
            "participants",
            "tasks",
            "created_at",
            "opened_at",
            "closed_at",
        ]


class CellOutput(serializers.Serializer):
    system = serializers.CharField(allow_null=True)
    category = serializers.CharField()
    answered = serializers.IntegerField()
    target = serializers.IntegerField(allow_null=True)


class TaskProgressOutput(serializers.Serializer):
    order = serializers.IntegerField()
    type = serializers.CharField()
    cells = CellOutput(many=True)


class ProgressOutput(serializers.Serializer):
    study = serializers.CharField()
    status = serializers.CharField()
    participants = serializers.DictField(child=serializers.IntegerField())
    tasks = TaskProgressOutput(many=True)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Study.Status.OPEN, Study.Status.CLOSED])


class StudyList(ResearcherView):
    @extend_schema(responses=StudyOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(StudyOutput(Study.objects.all(), many=True).data)


class StudyDetail(ResearcherView):
    @extend_schema(responses=StudyOutput)
    def get(self, request: Request, slug: str) -> Response:
        return Response(StudyOutput(get_object_or_404(Study, slug=slug)).data)


class StudyStatus(ResearcherView):
    @extend_schema(request=StatusInput, responses=StudyOutput)
    def post(self, request: Request, slug: str) -> Response:
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        study = get_object_or_404(Study, slug=slug)
        try:
            if data.validated_data["status"] == Study.Status.OPEN:
                study = services.study_open(study=study)
            else:
                study = services.study_close(study=study)
        except services.StudyConfigurationError as error:
            return Response({"detail": "cannot open", "problems": error.problems}, status=400)
        return Response(StudyOutput(study).data)


class StudyProgress(ResearcherView):
    @extend_schema(responses=ProgressOutput)
    def get(self, request: Request, slug: str) -> Response:
        return Response(ProgressOutput(selectors.study_progress(get_object_or_404(Study, slug=slug))).data)


class StudyResults(ResearcherView):
    @extend_schema(
        parameters=[
            OpenApiParameter("table", enum=["responses", "participants"], default="responses"),
            OpenApiParameter("as", enum=["json", "csv"], default="json"),
            OpenApiParameter("include_excluded", bool, default=False),
        ],
        responses={200: dict},
    )
    def get(self, request: Request, slug: str) -> Response | HttpResponse:
        study = get_object_or_404(Study, slug=slug)
        include = request.query_params.get("include_excluded", "").lower() in ("1", "true", "yes")
        table = request.query_params.get("table", "responses")
        if table not in ("responses", "participants"):
            return Response({"table": ["expected responses or participants"]}, status=400)
        if request.query_params.get("as") == "csv":
            text = (exports.responses_csv if table == "responses" else exports.participants_csv)(
                study, include_excluded=include
            )
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{study.slug}-{table}.csv"'
            return response
        rows = (selectors.study_result_rows if table == "responses" else selectors.study_participant_rows)(
            study, include_excluded=include
        )
        return Response({"study": study.slug, "table": table, "include_excluded": include, "rows": rows})
