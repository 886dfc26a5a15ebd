"""manage.py export_results STUDY: the tidy results table (columns: README, "Exporting results")."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from generation.atomic import write_text_atomic
from studyapp import exports
from studyapp.management.study_lookup import study_or_error


class Command(BaseCommand):
    help = (
        "Export a study's responses, one row per response, and its participants. CSV: OUT and "
        "OUT's name with -participants; JSON: one document. Excluded participants are left out unless "
        "--include-excluded."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--format", choices=exports.FORMATS, default="csv")
        parser.add_argument("--out", help="file to write (default: <slug>-results.<format>); - for stdout")
        parser.add_argument("--include-excluded", action="store_true")

    def handle(self, *args, **options) -> None:
        study = study_or_error(options["study"])
        fmt, include = options["format"], options["include_excluded"]
        out = options["out"] or f"{study.slug}-results.{fmt}"
        if fmt == "json":
            _write(out, exports.results_json(study, include_excluded=include))
            written = [out]
        else:
            _write(out, exports.responses_csv(study, include_excluded=include))
            written = [out]
            if out != "-":
                path = Path(out)
                participants = path.with_name(f"{path.stem}-participants{path.suffix or '.csv'}")
                _write(str(participants), exports.participants_csv(study, include_excluded=include))
                written.append(str(participants))
        simulated = study.participants.filter(simulated=True).count()
        if out != "-":
            note = (
                f" ({simulated} SIMULATED participants, flagged in the `simulated` column)"
                if simulated
                else ""
            )
            self.stdout.write(f"wrote {', '.join(written)}{note}")


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    write_text_atomic(Path(target), text)
