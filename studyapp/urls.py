from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from studyapp import api, participant_api, participant_views, rate_limits, views

admin.site.site_header = "vis2sound studies"
admin.site.site_title = "vis2sound"
admin.site.login = rate_limits.limit("login", method="POST")(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("m/<str:token>.mp4", participant_views.stimulus_media, name="stimulus-media"),
    path("s/<slug:slug>/", participant_views.study_entry, name="participant-entry"),
    path("s/<slug:slug>/consent", participant_views.consent, name="participant-consent"),
    path("s/<slug:slug>/headphones", participant_views.headphones, name="participant-headphones"),
    path(
        "s/<slug:slug>/headphones/<int:number>.wav",
        participant_views.headphones_audio,
        name="participant-headphones-audio",
    ),
    path("s/<slug:slug>/trial", participant_api.NextTrial.as_view(), name="participant-trial"),
    path("s/<slug:slug>/trials/<int:index>", participant_api.Answer.as_view(), name="participant-answer"),
    path("s/<slug:slug>/questionnaire", participant_views.questionnaire, name="participant-questionnaire"),
    path("admin/", admin.site.urls),
    path("api/research/studies/", api.StudyList.as_view(), name="api-studies"),
    path("api/research/studies/<slug:slug>/", api.StudyDetail.as_view(), name="api-study"),
    path("api/research/studies/<slug:slug>/status/", api.StudyStatus.as_view(), name="api-study-status"),
    path(
        "api/research/studies/<slug:slug>/progress/", api.StudyProgress.as_view(), name="api-study-progress"
    ),
    path("api/research/studies/<slug:slug>/results/", api.StudyResults.as_view(), name="api-study-results"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[api.IsStaff]), name="api-schema"),
]
