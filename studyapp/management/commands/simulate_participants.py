"""manage.py simulate_participants STUDY --n 40: simulated raters (flagged as such everywhere), in the
study's sandbox copy `<slug>-sim` unless --into-study."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from studyapp import services
from studyapp.management.study_lookup import study_or_error
from studyapp.models import Study
from studyapp.services.simulation import RaterModel, study_simulate


def _quality(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        q = float(value)
    except ValueError:
        raise CommandError(f"--quality {text!r}: expected SYSTEM=VALUE with VALUE from 0 to 1") from None
    if not 0 <= q <= 1:
        raise CommandError(f"--quality {text!r}: the value must be from 0 to 1")
    return name, q


class Command(BaseCommand):
    help = (
        "Simulated participants (a model of raters with noise, bias and some careless ones who fail catch "
        "trials), so the design and the report can be seen before recruiting. They go into the study's "
        "sandbox copy <slug>-sim (same systems, clips and tasks; never served to people), so the real "
        "study's places, quotas and arrival numbers stay untouched; --into-study puts them into the study "
        "itself. Simulated participants are flagged in the database and labelled in every export and report."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--n", type=int, default=40, help="participants to simulate")
        parser.add_argument(
            "--quality", action="append", default=[], metavar="SYSTEM=Q",
            help="latent quality 0..1 of a system's soundtracks (default: real 1, others 0.5); repeat",
        )  # fmt: skip
        parser.add_argument("--noise", type=float, default=0.7, help="rating noise (scale points)")
        parser.add_argument("--bias-sd", type=float, default=0.5, help="spread of raters' rating bias")
        parser.add_argument("--careless", type=float, default=0.1, help="share answering at random")
        parser.add_argument("--screening-failure", type=float, default=0.05, help="share failing the check")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--into-study",
            action="store_true",
            help="add them to the study itself (it must be open), not to its sandbox <slug>-sim",
        )
        parser.add_argument(
            "--reset", action="store_true", help="empty the sandbox first (and re-copy the study)"
        )

    def handle(self, *args, **options) -> None:
        study = study_or_error(options["study"])
        if options["into_study"]:
            if study.status != Study.Status.OPEN:
                raise CommandError(f"study {study.slug!r} is {study.status}: open it first")
        else:
            try:
                study = services.study_sandbox(study=study, reset=options["reset"])
            except services.StudyConfigurationError as error:
                raise CommandError(str(error)) from error
        model = RaterModel(
            quality=dict(_quality(q) for q in options["quality"]),
            noise=options["noise"],
            bias_sd=options["bias_sd"],
            careless=options["careless"],
            screening_failure=options["screening_failure"],
        )
        try:
            report = study_simulate(study, n=options["n"], model=model, seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{report.participants} SIMULATED participants in {study.slug}: {report.finished} finished "
            f"({report.excluded} excluded by the catch-trial rule), {report.screening_failed} failed the "
            f"headphone check, {report.turned_away} turned away (quotas full)"
        )
        if study.sandbox:
            self.stdout.write(
                f"(sandbox {study.slug!r}, a copy of {options['study']!r} never served to people: "
                f"export_results {study.slug} / study_report {study.slug}; --reset empties it)"
            )
