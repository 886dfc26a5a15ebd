"""manage.py import_stimuli: clips, systems and rendered stimuli from generation output, other
systems' audio folders and source videos. See studyapp.services.stimuli."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studyapp import services
from studyapp.stimuli.render import StimulusSpec


class Command(BaseCommand):
    help = (
        "Import soundtracks as stimuli: --samples OUT (from `python -m generation sample`, repeatable), "
        "--external DIR (<system>/<clip_id>.wav from any other system), --videos DIR|CSV (source videos: "
        "clips with their real soundtracks). Renders every stimulus identically, with catch-trial anchors. "
        "Idempotent; bad files are reported and skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--samples", type=Path, action="append", default=[], help="a `generation sample` --out"
        )
        parser.add_argument("--system", help="name of the --samples system (default: ours-<model>)")
        parser.add_argument("--external", type=Path, help="folder of <system>/<clip_id>.wav")
        parser.add_argument(
            "--videos", type=Path, help="folder <category>/<clip>.mp4 or CSV (as for prepare)"
        )
        parser.add_argument(
            "--practice", type=int, default=0, metavar="N", help="mark N new clips per category for practice"
        )
        parser.add_argument(
            "--catch",
            type=int,
            default=0,
            metavar="N",
            help="reserve N further new clips per category for catch trials (never judged in a test trial)",
        )
        parser.add_argument("--target-lufs", type=float, default=StimulusSpec.target_lufs)
        parser.add_argument("--jobs", type=int, default=2, help="parallel ffmpeg renders")
        parser.add_argument("--strict", action="store_true", help="exit non-zero when anything was skipped")

    def handle(self, *args, **options) -> None:
        if not (options["samples"] or options["external"] or options["videos"]):
            raise CommandError("nothing to import: give --samples, --external and/or --videos")
        if options["system"] and len(options["samples"]) > 1:
            raise CommandError("--system names one --samples folder; import the folders one at a time")
        report = services.stimuli_import(
            samples=options["samples"],
            external=options["external"],
            videos=options["videos"],
            system_name=options["system"],
            practice_per_category=options["practice"],
            catch_per_category=options["catch"],
            spec=StimulusSpec(target_lufs=options["target_lufs"]),
            jobs=options["jobs"],
            progress=options["verbosity"] > 0,
        )
        for problem in report.problems:
            self.stderr.write(f"skipped: {problem}")
        self.stdout.write(report.summary())
        if report.problems and options["strict"]:
            raise CommandError(f"{len(report.problems)} problems (see above)")
