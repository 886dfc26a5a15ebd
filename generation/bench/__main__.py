"""`python -m generation.bench synth [--clips N] [--jobs J]`: how fast the demo dataset builds."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from generation.bench.machine import describe_machine
from generation.synth.dataset import CATEGORIES, SynthConfig, build_dataset

RESULTS_DIR = Path("benchmarks")


def bench_synth(clips_per_category: int, jobs: int) -> dict:
    config = SynthConfig(clips_per_category=clips_per_category)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        report = build_dataset(config, out, jobs=jobs)
        elapsed = time.perf_counter() - started
    clips = len(report.built)
    return {
        "benchmark": "synth",
        "clips": clips,
        "failed": len(report.failed),
        "clip_seconds": config.duration,
        "frame_size": [config.width, config.height],
        "jobs": jobs,
        "wall_seconds": round(elapsed, 2),
        "clips_per_minute": round(60 * clips / elapsed, 1),
        "target": "100 clips of 4 s in under 120 s on 2 cores",
        "machine": describe_machine(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m generation.bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    synth = sub.add_parser("synth", help="build the demo dataset from scratch and time it")
    synth.add_argument("--clips", type=int, default=100 // len(CATEGORIES), help="clips per category")
    synth.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    result = bench_synth(args.clips, args.jobs)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{args.name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
