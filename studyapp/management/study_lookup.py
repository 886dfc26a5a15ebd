"""The study a management command names, or an error that lists the studies there are."""

from __future__ import annotations

from django.core.management.base import CommandError

from studyapp.models import Study


def study_or_error(slug: str) -> Study:
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"no study {slug!r} (studies: {known})")
    return study
