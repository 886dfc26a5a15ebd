"""manage.py create_study study.yaml: a draft study from a file (format: studyapp.study_spec)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studyapp import selectors, services
from studyapp.study_spec import SpecError, load_study_file


class Command(BaseCommand):
    help = "Create a study from a YAML file; every problem is reported with the field it concerns."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--open", action="store_true", help="open it for participants at once")
        parser.add_argument("--replace", action="store_true", help="rewrite a draft with the same slug")

    def handle(self, *args, **options) -> None:
        try:
            spec = load_study_file(options["file"])
            study = services.study_create(spec=spec, replace_draft=options["replace"])
            if options["open"]:
                services.study_open(study=study)
        except (SpecError, services.StudyConfigurationError) as error:
            raise CommandError(str(error)) from None
        tasks = ", ".join(f"{t.type} ×{t.trials_per_participant}" for t in study.tasks.all())
        self.stdout.write(
            f"study {study.slug!r} created ({study.status}): {study.systems.count()} systems, "
            f"{study.clips.count()} clips; tasks: {tasks}"
        )
        for warning in selectors.study_configuration_warnings(study):
            self.stderr.write(f"warning: {warning}")
