"""manage.py study_report STUDY --out DIR: the statistics report (HTML, figures, CSV tables)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from studyapp import reports
from studyapp.management.study_lookup import study_or_error


class Command(BaseCommand):
    help = (
        "Write a study's report: index.html with figures, tables/*.csv, figures/*.png and methods.txt. "
        "Exclusions (failed catch trials, failed screening, implausibly fast answers) are applied first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--out", help="folder (default: reports/<slug>)")
        parser.add_argument("--metrics", help="CSV written by `python -m evaluation metrics`, shown beside")

    def handle(self, *args, **options) -> None:
        study = study_or_error(options["study"])
        metrics = None
        if options["metrics"]:
            if not Path(options["metrics"]).is_file():
                raise CommandError(f"--metrics {options['metrics']}: no such file")
            metrics = pd.read_csv(options["metrics"])
        if not study.participants.filter(trials__response__isnull=False).exists():
            raise CommandError(f"study {study.slug!r} has no answers yet: nothing to report")
        out = Path(options["out"] or Path("reports") / study.slug)
        index = reports.study_report_files(study, out, metrics=metrics)
        simulated = study.participants.filter(simulated=True).count()
        note = f" — includes {simulated} SIMULATED participants, labelled as such" if simulated else ""
        self.stdout.write(f"report: {index}{note}")
