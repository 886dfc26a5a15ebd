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

import torch

from generation.config import CONDITIONINGS, FLOW, PRESETS, preset
from generation.data import PreparedData
from generation.flow import METHODS, RAFT
from generation.flow_encoder import FlowEncoderConfig
from generation.prepare import PAD, SKIP, PrepareConfig, SplitConfig, prepare
from generation.quantize import LINEAR, SCHEMES
from generation.sample import SampleConfig, sample_split
from generation.train import TrainConfig, conditionings_for, model_config_for, train
from generation.train_flow import FLOW_ENCODER_FILE, pretrain_flow_encoder


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


def _add_train(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train SampleRNN models (one per category)",
        description="Train with truncated BPTT; rerun the same command to resume exactly. "
        "Under torchrun it trains data-parallel on every process.",
    )
    defaults = TrainConfig(category="")
    parser.add_argument("--data", type=Path, required=True, help="folder written by `generation prepare`")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="output: RUNS/<category>/<model>/")
    parser.add_argument("--category", required=True, help="a category of the data, or all")
    parser.add_argument("--model", default="flow", help=f"{', '.join(CONDITIONINGS)}, or all")
    parser.add_argument("--preset", default=defaults.preset, help=f"one of {', '.join(sorted(PRESETS))}")
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument(
        "--chunk-frames",
        type=int,
        default=defaults.chunk_frames,
        help="truncated-BPTT chunk in video frames (default 1 = 1024 samples)",
    )
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--grad-clip", type=float, default=defaults.grad_clip)
    parser.add_argument("--val-every", type=int, default=defaults.val_every)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--quantization", choices=SCHEMES, default=LINEAR)
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--device", default=None, help="default: cuda (this process's GPU) if available")
    parser.add_argument(
        "--flow-encoder",
        type=Path,
        default=None,
        help="flow encoder weights (default: RUNS/flow_encoder.pt, pre-trained if missing)",
    )
    parser.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    data = PreparedData(args.data)
    categories = data.categories if args.category == "all" else [args.category]
    if args.category != "all" and args.category not in data.categories:
        raise ValueError(f"--category {args.category!r} is not in {args.data}: {', '.join(data.categories)}")
    base = preset(args.preset, quantization=args.quantization)
    for category in categories:
        for conditioning in conditionings_for(args.model):
            config = TrainConfig(
                category=category,
                preset=args.preset,
                steps=args.steps,
                batch_size=args.batch_size,
                chunk_frames=args.chunk_frames,
                lr=args.lr,
                grad_clip=args.grad_clip,
                val_every=args.val_every,
                seed=args.seed,
                compile=args.compile,
            )
            result = train(
                args.data,
                args.runs,
                model_config_for(data, base, conditioning),
                config,
                device=args.device,
                flow_encoder=args.flow_encoder,
            )
            print(
                f"{category}/{conditioning}: step {result.step}, validation {result.last_val_bits:.3f} "
                f"bits/sample (best {result.best_val_bits:.3f}) in {result.wall_seconds:.0f} s "
                f"-> {result.run_dir}"
            )
    return 0


def _add_train_flow(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train-flow", help="pre-train the flow encoder as a category classifier")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="writes RUNS/flow_encoder.pt")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.set_defaults(run=_run_train_flow)


def _run_train_flow(args: argparse.Namespace) -> int:
    data = PreparedData(args.data)
    config = model_config_for(data, preset(args.preset), FLOW)
    encoder_config = FlowEncoderConfig(
        config.flow_stack, config.flow_size, config.flow_channels, config.flow_feature_dim
    )
    checkpoint = pretrain_flow_encoder(data, encoder_config, steps=args.steps, device=args.device)
    args.runs.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.runs / FLOW_ENCODER_FILE)
    print(
        f"flow encoder: validation accuracy {checkpoint['val_accuracy']:.3f} over "
        f"{len(checkpoint['categories'])} categories -> {args.runs / FLOW_ENCODER_FILE}"
    )
    return 0


def _add_sample(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sample", help="generate soundtracks for a split's clips")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a best.pt or last.pt from `train`")
    parser.add_argument("--data", type=Path, required=True, help="the prepared data the clips come from")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--category", default=None, help="default: the checkpoint's category")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/<category>/<clip>.wav/.mp4")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=16, help="clips generated together")
    parser.add_argument("--device", default=None)
    parser.set_defaults(run=_run_sample)


def _run_sample(args: argparse.Namespace) -> int:
    config = SampleConfig(temperature=args.temperature, seed=args.seed, batch_size=args.batch_size)
    summary = sample_split(
        args.checkpoint,
        args.data,
        args.out,
        split=args.split,
        category=args.category,
        config=config,
        device=args.device,
    )
    print(f"{len(summary['clips'])} soundtracks of {summary['category']} ({summary['model']}) -> {args.out}")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="small inference checkpoints (int8/fp16) of every best.pt in RUNS")
    parser.add_argument("--runs", type=Path, required=True, help="RUNS/<category>/<model>/best.pt")
    parser.add_argument("--data", type=Path, required=True, help="the prepared data, for validation NLL")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/<category>/<model>.pt")
    parser.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from generation.export import export_runs

    for row in export_runs(args.runs, args.data, args.out):
        print(
            f"{row['category']}/{row['model']}: {row['bytes'] / 1e6:.2f} MB, step {row['step']}, "
            f"val {row['val_bits']:.3f} -> {row['val_bits_exported']:.3f} bits/sample"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_prepare(sub)
    _add_train(sub)
    _add_train_flow(sub)
    _add_sample(sub)
    _add_export(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
