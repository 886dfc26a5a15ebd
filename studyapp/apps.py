from django.apps import AppConfig


class StudyAppConfig(AppConfig):
    name = "studyapp"
    verbose_name = "Studies"
