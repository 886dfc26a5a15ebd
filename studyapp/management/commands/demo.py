"""manage.py demo: the demo pipeline (studyapp/demo.py), then what to open and how to get the report."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studyapp.demo import DemoConfig, run_demo


class Command(BaseCommand):
    help = (
        "Build the demo end to end (dataset, prepare, checkpoints, soundtracks, stimuli, study, researcher "
        "account); every step reuses what exists. `make demo` runs this and then the server."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--train", action="store_true", help="train every model here (GPU if present)")
        parser.add_argument(
            "--sample",
            action="store_true",
            help="prepare the test clips and sample them with the checkpoints here, instead of using the "
            "shipped soundtracks (implied by --train)",
        )
        parser.add_argument("--root", default="data/demo", help="where the demo's data lives")
        parser.add_argument("--host", default="127.0.0.1:8000", help="for the printed links")

    def handle(self, *args, **options) -> None:
        config = DemoConfig(root=Path(options["root"]), train=options["train"], sample=options["sample"])
        try:
            result = run_demo(config)
        except (FileNotFoundError, RuntimeError, ValueError) as error:
            raise CommandError(str(error)) from error
        base = f"http://{options['host']}"
        lines = ["", "vis2sound demo ready:"]
        lines += [f"  {name:<13} {outcome} ({seconds:.0f} s)" for name, outcome, seconds in result.steps]
        lines += [
            "",
            f"  participant link: {base}/s/{result.study.slug}/",
            f"  admin:            {base}/admin/  (user: {result.username})",
        ]
        if result.password:
            lines.append(f"  password:         {result.password}   <- shown once; keep it")
        else:
            lines.append(
                f"  password:         shown at the first run; reset: "
                f"manage.py changepassword {result.username}"
            )
        lines += [
            f"  simulate people:  .venv/bin/python manage.py simulate_participants "
            f"{result.study.slug} --n 40   (into its sandbox {result.study.slug}-sim, never served)",
            f"  report:           .venv/bin/python manage.py study_report {result.study.slug}-sim "
            f"--out reports/{result.study.slug}-sim",
            "",
        ]
        self.stdout.write("\n".join(lines))
