from django.contrib import admin
from django.urls import path

from studyapp import views

admin.site.site_header = "vis2sound studies"
admin.site.site_title = "vis2sound"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
