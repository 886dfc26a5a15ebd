"""`python -m evaluation report | metrics | spectrograms | sample-size`: the statistics and objective metrics
without Django, on files exported from the study app (or written by hand in the same columns)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd


def _report(args: argparse.Namespace) -> int:
    from evaluation.analysis import AnalysisConfig, analyse
    from evaluation.report import write_report
    from evaluation.results import ExclusionRules, load_participants, load_results

    table = load_results(args.results)
    participants_path = args.participants
    if participants_path is None:
        beside = args.results.with_name(f"{args.results.stem}-participants.csv")
        participants_path = beside if beside.is_file() else None
    config = AnalysisConfig(
        equivalence_margin=args.margin,
        exclusions=ExclusionRules(
            min_response_time_ms=args.min_rt_ms,
            max_fast_share=args.max_fast_share,
            include_unfinished=args.include_unfinished,
        ),
    )
    analysis = analyse(table, load_participants(participants_path), config)
    metrics = pd.read_csv(args.metrics) if args.metrics else None
    index = write_report(analysis, args.out, title=args.title or args.results.stem, metrics=metrics)
    print(f"report: {index}")
    for line in analysis.exclusions.lines():
        print(f"  excluded: {line}")
    return 0


def _generated_folders(items: list[str]) -> dict[str, Path]:
    generated = {}
    for item in items:
        name, _, folder = item.rpartition("=")
        folder_path = Path(folder)
        generated[name or folder_path.name] = folder_path
        if not folder_path.is_dir():
            raise SystemExit(f"--generated {item}: no such folder")
    return generated


def _spectrograms(args: argparse.Namespace) -> int:
    from evaluation.spectrograms import spectrogram_figure

    shown = spectrogram_figure(args.real, _generated_folders(args.generated), args.out, clip_ids=args.clip)
    print(f"spectrograms of {', '.join(shown)}: {args.out}")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from evaluation.metrics.classifier import ClassifierConfig
    from evaluation.metrics.nll import nll_of_test_audio
    from evaluation.metrics.run import compute_metrics

    result = compute_metrics(
        args.real,
        _generated_folders(args.generated),
        classifier=args.classifier,
        train=args.train,
        classifier_config=ClassifierConfig(steps=args.classifier_steps),
    )
    table = result.table
    if args.runs and args.data:
        nll = pd.DataFrame(nll_of_test_audio(args.runs, args.data))
        if len(nll):
            nll.to_csv(args.out.with_name(f"{args.out.stem}-nll.csv"), index=False)
            print(nll.to_string(index=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for problem in result.problems:
        print(f"  skipped: {problem}", file=sys.stderr)
    print(f"metrics: {args.out}")
    return 0


def _sample_size(args: argparse.Namespace) -> int:
    from evaluation.statistics.power import participants_needed

    result = participants_needed(
        args.p1,
        args.p2,
        power=args.power,
        alpha=args.alpha,
        trials_per_participant_per_system=args.trials,
        icc=args.icc,
    )
    print(
        f"Cohen's h = {result.cohens_h:.3f}; {result.trials_per_system} judgements per system "
        f"(design effect {result.design_effect:.2f}) = {result.participants} participants "
        f"at {args.trials} trials per system each"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("report", help="statistics + HTML report from export_results' CSV")
    report.add_argument("--results", type=Path, required=True, help="responses CSV of export_results")
    report.add_argument("--participants", type=Path, help="default: <results>-participants.csv when present")
    report.add_argument("--out", type=Path, required=True, help="folder for index.html, figures/, tables/")
    report.add_argument("--metrics", type=Path, help="CSV of `python -m evaluation metrics`, shown beside")
    report.add_argument("--title")
    report.add_argument("--margin", type=float, default=0.1, help="TOST equivalence margin around 50 %%")
    report.add_argument("--min-rt-ms", type=int, default=300, help="answers faster than this are dropped")
    report.add_argument(
        "--max-fast-share", type=float, default=0.2, help="…and their authors excluded above this"
    )
    report.add_argument(
        "--include-unfinished",
        action="store_true",
        help="analyse participants who did not finish (left out and counted by default)",
    )
    report.set_defaults(run=_report)

    metrics = commands.add_parser("metrics", help="objective metrics of generated soundtracks")
    metrics.add_argument(
        "--real", type=Path, required=True, help="real test clips: <category>/<clip>.mp4 or CSV"
    )
    metrics.add_argument(
        "--generated",
        action="append",
        required=True,
        metavar="[NAME=]DIR",
        help="a system's soundtracks (repeat)",
    )
    metrics.add_argument("--classifier", type=Path, help="audio classifier checkpoint (trained if missing)")
    metrics.add_argument("--train", type=Path, help="real training clips to train the classifier on")
    metrics.add_argument("--classifier-steps", type=int, default=300, help="training steps of the classifier")
    metrics.add_argument(
        "--runs", type=Path, help="with --data: NLL of the test audio under each model (runs or exported)"
    )
    metrics.add_argument(
        "--data", type=Path, help="prepared data (generation prepare) holding the test split"
    )
    metrics.add_argument("--out", type=Path, default=Path("metrics.csv"))
    metrics.set_defaults(run=_metrics)

    figure = commands.add_parser(
        "spectrograms", help="figure: real vs. each system's log-mel spectrogram, one clip per category"
    )
    figure.add_argument("--real", type=Path, required=True, help="real clips: <category>/<clip>.mp4 or CSV")
    figure.add_argument(
        "--generated",
        action="append",
        default=[],
        metavar="[NAME=]DIR",
        help="a system's soundtracks (repeat)",
    )
    figure.add_argument(
        "--clip", action="append", help="clip id to show (repeat; default: each category's first)"
    )
    figure.add_argument("--out", type=Path, default=Path("spectrograms.png"))
    figure.set_defaults(run=_spectrograms)

    size = commands.add_parser("sample-size", help="participants needed to detect a fool-rate difference")
    size.add_argument("--p1", type=float, required=True)
    size.add_argument("--p2", type=float, required=True)
    size.add_argument("--power", type=float, default=0.8)
    size.add_argument("--alpha", type=float, default=0.05)
    size.add_argument("--trials", type=int, default=4, help="trials per participant per system")
    size.add_argument("--icc", type=float, default=0.0, help="intra-participant correlation")
    size.set_defaults(run=_sample_size)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from evaluation.results import ResultsError

    try:
        return args.run(args)
    except (ResultsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
