"""`python -m generation COMMAND`: the generation pipeline from the command line.

prepare   videos (a <category>/<clip>.mp4 folder or a CSV) -> training shards + manifest.json
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from generation.flow import METHODS, RAFT
from generation.prepare import PAD, SKIP, PrepareConfig, SplitConfig, prepare


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "prepare",
        help="decode videos into training shards",
        description="Decode videos into per-clip shards: 16 kHz audio, VGG19 fc6 "
        "features per frame and optical flow, plus manifest.json with a stratified split.",
    )
    defaults = PrepareConfig()
    parser.add_argument(
        "--videos",
        type=Path,
        required=True,
        help="folder laid out <category>/<clip>.mp4, or a CSV with path,category[,start,end,clip_id]",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder for shards and manifest.json")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="decoding processes")
    parser.add_argument(
        "--frame-size",
        type=int,
        default=defaults.frame_size,
        help=f"square frame size fed to VGG19 (default {defaults.frame_size})",
    )
    parser.add_argument(
        "--samples-per-frame",
        type=int,
        default=defaults.samples_per_frame,
        help=f"audio samples per video frame; fps = 16000 / this (default {defaults.samples_per_frame})",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=defaults.max_seconds,
        help=f"cut longer clips (default {defaults.max_seconds:g})",
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=defaults.min_seconds,
        help=f"skip shorter clips (default {defaults.min_seconds:g})",
    )
    parser.add_argument(
        "--clip-seconds",
        type=float,
        default=None,
        help="make every clip exactly this long (default: each keeps min(max, its length))",
    )
    parser.add_argument(
        "--short-clips",
        choices=(PAD, SKIP),
        default=SKIP,
        help="with --clip-seconds: pad shorter clips with silence, or skip them (default)",
    )
    parser.add_argument(
        "--flow",
        choices=METHODS,
        default=defaults.flow_method,
        help="optical flow: OpenCV DIS (default) or torchvision RAFT (needs its weights)",
    )
    parser.add_argument(
        "--flow-compute-size",
        type=int,
        default=None,
        help="frame size the flow is computed at (default 112 for DIS, 128 for RAFT)",
    )
    parser.add_argument(
        "--flow-size",
        type=int,
        default=defaults.flow_size,
        help=f"stored flow resolution (default {defaults.flow_size})",
    )
    parser.add_argument(
        "--vgg-weights",
        type=Path,
        default=None,
        help="VGG19 ImageNet state dict (default: torchvision's cache, else random init)",
    )
    parser.add_argument(
        "--raft-weights", type=Path, default=None, help="RAFT-small state dict for --flow raft"
    )
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--val-ratio", type=float, default=0.1)
    parser.add_argument("--test-ratio", type=float, default=0.1)
    parser.add_argument(
        "--device", default=None, help="torch device for VGG19/RAFT (default: cuda if available)"
    )
    parser.set_defaults(run=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> int:
    config = PrepareConfig(
        samples_per_frame=args.samples_per_frame,
        frame_size=args.frame_size,
        max_seconds=args.max_seconds,
        min_seconds=args.min_seconds,
        clip_seconds=args.clip_seconds,
        short_clips=args.short_clips,
        flow_method=args.flow,
        flow_size=args.flow_size,
        flow_compute_size=args.flow_compute_size or (128 if args.flow == RAFT else 112),
    )
    split = SplitConfig(seed=args.split_seed, val_ratio=args.val_ratio, test_ratio=args.test_ratio)
    started = time.perf_counter()
    report = prepare(
        args.videos,
        args.out,
        config,
        split=split,
        vgg_weights=args.vgg_weights,
        raft_weights=args.raft_weights,
        jobs=args.jobs,
        device=args.device,
    )
    elapsed = time.perf_counter() - started
    print(
        f"{len(report.prepared)} clips prepared, {len(report.reused)} already there, "
        f"{len(report.skipped)} skipped in {elapsed:.1f} s -> {args.out}/manifest.json"
    )
    for rejected in report.skipped:
        print(f"  skipped {rejected.source}: {rejected.reason}")
    return 0 if report.prepared or report.reused else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_prepare(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
