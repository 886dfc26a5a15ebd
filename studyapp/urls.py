from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from studyapp import api, views

admin.site.site_header = "vis2sound studies"
admin.site.site_title = "vis2sound"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("m/<str:public_id>.mp4", views.stimulus_media, name="stimulus-media"),
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
