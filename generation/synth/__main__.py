"""`python -m generation.synth`: build the procedurally generated demo video dataset."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from generation import FPS, SAMPLE_RATE
from generation.synth.dataset import CATEGORIES, SynthConfig, build_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.synth",
        description="Build demo videos (H.264 + AAC mp4) whose sounds are caused by visible events, "
        "laid out as <out>/<category>/<clip_id>.mp4 with a JSON sidecar of ground-truth events.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/demo/videos"), help="output folder")
    parser.add_argument("--clips", type=int, default=25, help="clips per category (default 25)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per clip (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--size", default="224x224", help="frame size WIDTHxHEIGHT (default 224x224)")
    parser.add_argument("--fps", type=float, default=FPS, help=f"video frame rate (default {FPS})")
    parser.add_argument(
        "--sample-rate", type=int, default=SAMPLE_RATE, help=f"audio rate (default {SAMPLE_RATE})"
    )
    parser.add_argument(
        "--categories", default=",".join(CATEGORIES), help=f"comma-separated subset of {','.join(CATEGORIES)}"
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 224x224")
    try:
        config = SynthConfig(
            clips_per_category=args.clips,
            duration=args.duration,
            seed=args.seed,
            width=width,
            height=height,
            fps=args.fps,
            sample_rate=args.sample_rate,
            categories=tuple(c.strip() for c in args.categories.split(",") if c.strip()),
        )
    except ValueError as error:
        parser.error(str(error))

    started = time.perf_counter()
    try:
        report = build_dataset(config, args.out, jobs=args.jobs)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(
        f"{len(report.built)} clips built, {len(report.reused)} already there, {len(report.failed)} failed "
        f"in {elapsed:.1f} s -> {args.out}"
    )
    for clip_id, reason in sorted(report.failed.items()):
        print(f"  failed {clip_id}: {reason}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
