"""The researcher's console: configure a study (systems, clips, tasks), check and open it, preview it as
a participant, watch progress, toggle exclusions, download results. Every write goes through
`services`; every read of derived data through `selectors`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import escape, format_html, format_html_join

from studyapp import exports, planning, reports, selectors, services
from studyapp.models import Clip, Participant, Stimulus, Study, System, Task, Trial


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "stimulus_count", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]

    @admin.display(description="stimuli")
    def stimulus_count(self, system: System) -> int:
        return system.stimuli.count()


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["clip_id", "category", "split", "practice", "catch", "duration", "source"]
    list_filter = ["category", "split", "practice", "catch"]
    search_fields = ["clip_id", "source"]


@admin.register(Stimulus)
class StimulusAdmin(admin.ModelAdmin):
    list_display = ["public_id", "clip", "system", "variant", "player"]
    list_filter = ["system", "variant", "clip__category"]
    search_fields = ["public_id", "clip__clip_id"]
    readonly_fields = ["public_id", "clip", "system", "variant", "media", "fingerprint", "player"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # stimuli are rendered by import_stimuli, never uploaded by hand

    @admin.display(description="preview")
    def player(self, stimulus: Stimulus) -> str:
        url = reverse("stimulus-media", args=[stimulus.public_id])
        return format_html('<video src="{}" controls preload="none" width="220"></video>', url)


class TaskInline(admin.StackedInline):
    model = Task
    extra = 0
    fields = [
        ("order", "type"),
        "question",
        "scale_labels",
        ("trials_per_participant", "practice_trials"),
        ("catch_rate", "max_failed_catch", "target_per_cell"),
    ]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "sandbox", "participant_counts", "links"]
    list_filter = ["status", "sandbox"]
    search_fields = ["title", "slug"]
    filter_horizontal = ["systems", "clips"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # completion URLs are https
    inlines = [TaskInline]
    actions = ["open_studies", "close_studies"]
    readonly_fields = ["status", "sandbox", "opened_at", "closed_at", "configuration", "progress", "links"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "sandbox", "links", "configuration", "progress"]}),
        ("Participants see", {"fields": ["consent_text", "instructions", "screening"]}),
        ("Design", {"fields": ["systems", "clips", "seed", "plan_hold_minutes"]}),
        (
            "Recruitment",
            {
                "fields": [
                    "platform",
                    ("completion_code", "completion_url"),
                    ("screenout_code", "screenout_url"),
                    ("full_code", "full_url"),
                ]
            },
        ),
        ("History", {"fields": ["opened_at", "closed_at"], "classes": ["collapse"]}),
    ]

    def get_urls(self):
        own = [
            path(
                "<int:pk>/preview/", self.admin_site.admin_view(self.preview), name="studyapp_study_preview"
            ),
            path("<int:pk>/export/", self.admin_site.admin_view(self.export), name="studyapp_study_export"),
            path("<int:pk>/report/", self.admin_site.admin_view(self.report), name="studyapp_study_report"),
        ]
        return own + super().get_urls()

    @admin.display(description="participants (started / finished / excluded)")
    def participant_counts(self, study: Study) -> str:
        counts = selectors.study_progress(study)["participants"]
        return f"{counts['started']} / {counts['finished']} / {counts['excluded']}"

    @admin.display(description="links")
    def links(self, study: Study) -> str:
        if not study.pk:
            return "-"
        return format_html(
            '<a href="{}">participant link</a> · <a href="{}">preview as a participant</a> · '
            '<a href="{}">report</a> · results: <a href="{}">CSV</a> · '
            '<a href="{}">participants CSV</a> · <a href="{}">JSON</a> · <a href="{}">CSV incl. excluded</a>',
            reverse("participant-entry", args=[study.slug]),
            reverse("admin:studyapp_study_preview", args=[study.pk]),
            reverse("admin:studyapp_study_report", args=[study.pk]),
            reverse("admin:studyapp_study_export", args=[study.pk]) + "?format=csv",
            reverse("admin:studyapp_study_export", args=[study.pk]) + "?format=csv&table=participants",
            reverse("admin:studyapp_study_export", args=[study.pk]) + "?format=json",
            reverse("admin:studyapp_study_export", args=[study.pk]) + "?format=csv&include_excluded=1",
        )

    @admin.display(description="configuration check")
    def configuration(self, study: Study) -> str:
        if not study.pk:
            return "saved studies are checked here"
        problems = selectors.study_configuration_problems(study)
        warnings = selectors.study_configuration_warnings(study)
        if not problems and warnings:
            return format_html(
                '<ul style="color:#9a6700;margin:0">{}</ul>',
                format_html_join("", "<li>warning: {}</li>", ((w,) for w in warnings)),
            )
        if not problems:
            return format_html('<span style="color:#1a7f37">{}</span>', "ready: the design can be balanced")
        return format_html(
            '<ul style="color:#b42318;margin:0">{}</ul>',
            format_html_join("", "<li>{}</li>", ((p,) for p in problems)),
        )

    @admin.display(description="answered test trials per cell (excluded participants not counted)")
    def progress(self, study: Study) -> str:
        if not study.pk:
            return "-"
        data = selectors.study_progress(study)
        rows = []
        for task in data["tasks"]:
            for cell in task["cells"]:
                target = cell["target"] if cell["target"] is not None else "—"
                rows.append(
                    (
                        task["order"],
                        task["type"],
                        cell["system"] or "all",
                        cell["category"],
                        cell["answered"],
                        target,
                    )
                )
        counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data["participants"].items())
        table = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        )
        return format_html(
            "<p>{}</p><table><tr><th>task</th><th>type</th><th>system</th><th>category</th>"
            "<th>answered</th><th>target</th></tr>{}</table>",
            counts,
            table,
        )

    @admin.action(description="Open the selected studies for participants")
    def open_studies(self, request: HttpRequest, queryset) -> None:
        for study in queryset:
            try:
                services.study_open(study=study)
                self.message_user(request, f"{study.slug}: open", messages.SUCCESS)
            except services.StudyConfigurationError as error:
                self.message_user(
                    request, f"{study.slug}: not opened: {'; '.join(error.problems)}", messages.ERROR
                )

    @admin.action(description="Close the selected studies")
    def close_studies(self, request: HttpRequest, queryset) -> None:
        for study in queryset:
            services.study_close(study=study)
        self.message_user(request, f"closed {queryset.count()} studies", messages.SUCCESS)

    def preview(self, request: HttpRequest, pk: int) -> HttpResponse:
        """What participant number N (default: the next) would get, trial by trial — computed, not saved."""
        study = get_object_or_404(Study, pk=pk)
        number = int(request.GET.get("participant") or study.participants.count() + 1)
        plan, problems = planning.study_preview(study, number=number)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {study.title}",
            "study": study,
            "number": number,
            "plan": plan,
            "problems": problems,
            "opts": self.model._meta,
        }
        return render(request, "admin/studyapp/study/preview.html", context)

    def export(self, request: HttpRequest, pk: int) -> HttpResponse:
        study = get_object_or_404(Study, pk=pk)
        include = request.GET.get("include_excluded") == "1"
        if request.GET.get("format") == "json":
            response = HttpResponse(
                exports.results_json(study, include_excluded=include), content_type="application/json"
            )
            response["Content-Disposition"] = f'attachment; filename="{study.slug}-results.json"'
            return response
        table = request.GET.get("table", "responses")
        writer = exports.participants_csv if table == "participants" else exports.responses_csv
        response = HttpResponse(
            writer(study, include_excluded=include), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-{table}.csv"'
        return response

    def report(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The statistics report of the answers so far, figures inline (as `study_report` writes it)."""
        study = get_object_or_404(Study, pk=pk)
        if not study.participants.filter(trials__response__isnull=False).exists():
            return HttpResponse(f"<p>{escape(study.title)}: no answers yet, so no report.</p>")
        return HttpResponse(reports.study_report_html(study))


class TrialInline(admin.TabularInline):
    model = Trial
    extra = 0
    fields = ["index", "task", "kind", "clip", "system", "answered"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(boolean=True)
    def answered(self, trial: Trial) -> bool:
        return hasattr(trial, "response")


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "excluded",
        "exclusion_reason",
        "simulated",
        "screening_score",
        "started_at",
    ]
    list_filter = ["study", "status", "excluded", "simulated"]
    search_fields = ["public_id", "prolific_pid", "mturk_worker_id"]
    actions = ["exclude_participants", "include_participants"]
    inlines = [TrialInline]
    readonly_fields = [
        f.name for f in Participant._meta.fields if f.name not in ("excluded", "exclusion_reason")
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # participants arrive through the study link

    def save_model(self, request: HttpRequest, obj: Participant, form, change: bool) -> None:
        try:
            services.participant_set_exclusion(
                participant=obj, excluded=obj.excluded, reason=obj.exclusion_reason or ""
            )
        except services.ParticipationError as error:
            self.message_user(request, str(error), messages.ERROR)

    @admin.action(description="Exclude from analysis (reason: excluded by the researcher)")
    def exclude_participants(self, request: HttpRequest, queryset) -> None:
        for participant in queryset:
            services.participant_set_exclusion(
                participant=participant, excluded=True, reason=f"excluded by {request.user.get_username()}"
            )
        self.message_user(request, f"excluded {queryset.count()} participants", messages.SUCCESS)

    @admin.action(description="Include in analysis again")
    def include_participants(self, request: HttpRequest, queryset) -> None:
        for participant in queryset:
            services.participant_set_exclusion(participant=participant, excluded=False)
        self.message_user(request, f"included {queryset.count()} participants", messages.SUCCESS)
