"""`python -m generation COMMAND`: the generation pipeline from the command line.

prepare     videos (a <category>/<clip>.mp4 folder or a CSV) -> training shards + manifest.json
train       SampleRNN models, one per category and conditioning (resumes; DDP under torchrun)
train-flow  pre-train the flow-based model's temporal ConvNet (else done on first use by train)
sample      soundtracks (wav) for a split's clips, listed in OUT/samples.json
export      small int8/fp16 inference checkpoints of every best.pt in a runs folder

The options of prepare, train and sample come from their config dataclasses (PrepareConfig,
SplitConfig, TrainConfig, SampleConfig), where each field's help is declared.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import torch

from generation.checkpoint import FLOW_ENCODER, save_checkpoint
from generation.config import CONDITIONINGS, DIS, FLOW, RAFT, PrepareConfig, SplitConfig, preset
from generation.options import add_config_options, config_from_args
from generation.prepare import prepare
from generation.prepared import PreparedData
from generation.quantize import LINEAR, SCHEMES
from generation.sample import SampleConfig, sample_split
from generation.train import TrainConfig, conditionings_for, model_config_for, train
from generation.train_flow import FLOW_ENCODER_FILE, pretrain_flow_encoder

FLOW_COMPUTE_SIZE = {DIS: 112, RAFT: 128}  # RAFT needs at least 128


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "prepare",
        help="decode videos into training shards",
        description="Decode videos into per-clip shards: 16 kHz audio, VGG19 fc6 "
        "features per frame and optical flow, plus manifest.json with a stratified split.",
    )
    parser.add_argument(
        "--videos",
        type=Path,
        required=True,
        help="folder laid out <category>/<clip>.mp4, or a CSV with path,category[,start,end,clip_id]",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder for shards and manifest.json")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="decoding processes")
    add_config_options(
        parser,
        PrepareConfig,
        exclude=("feature_dim",),
        flags={"flow_method": "--flow"},
        defaults={"flow_compute_size": None},  # chosen by the flow method
    )
    add_config_options(
        parser,
        SplitConfig,
        flags={"seed": "--split-seed", "only": "--only-split"},
        dest_prefix="split_",
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
    parser.add_argument(
        "--device", default=None, help="torch device for VGG19/RAFT (default: cuda if available)"
    )
    parser.set_defaults(run=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> int:
    config = config_from_args(
        PrepareConfig,
        args,
        flow_compute_size=args.flow_compute_size or FLOW_COMPUTE_SIZE[args.flow_method],
    )
    split = config_from_args(SplitConfig, args, dest_prefix="split_")
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


def _add_onset_hops(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--onset-hops",
        type=int,
        choices=(1, 2, 4, 8),
        default=1,
        help="flow-based model: its onset cue once per video frame (1) or at this many hops of it, "
        "placed where the sound rises (the flow encoder then also learns the hop)",
    )


def _add_onset_floor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--onset-floor",
        type=float,
        default=0.0,
        help="flow-based model: windows whose onset strength is below this are told 0, so that the cue "
        "holds the events alone (in training's teacher forcing and the flow encoder's targets; 0 = off)",
    )


def _add_flow_stabilise(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flow-stabilise",
        action="store_true",
        help="flow-based model: its flow encoder sees each flow field less the field's median vector "
        "(a shaking camera's translation)",
    )


def _add_train(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train SampleRNN models (one per category)",
        description="Train with truncated BPTT; rerun the same command to resume exactly. "
        "Under torchrun it trains data-parallel on every process.",
    )
    parser.add_argument("--data", type=Path, required=True, help="folder written by `generation prepare`")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="output: RUNS/<category>/<model>/")
    parser.add_argument("--model", default="flow", help=f"{', '.join(CONDITIONINGS)}, or all")
    add_config_options(parser, TrainConfig)
    parser.add_argument("--quantization", choices=SCHEMES, default=LINEAR)
    _add_onset_hops(parser)
    _add_onset_floor(parser)
    _add_flow_stabilise(parser)
    parser.add_argument(
        "--onset-middle",
        action="store_true",
        help="flow-based model: its onset cue also enters the middle tier, through a projection of its own",
    )
    parser.add_argument(
        "--onset-phase",
        action="store_true",
        help="flow-based model: each coarse step's onset cue also says how far into its window the step is",
    )
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
    base = preset(
        args.preset,
        quantization=args.quantization,
        onset_hops=args.onset_hops,
        onset_floor=args.onset_floor,
        flow_stabilise=args.flow_stabilise,
        onset_middle=args.onset_middle,
        onset_phase=args.onset_phase,
    )
    for category in categories:
        for conditioning in conditionings_for(args.model):
            result = train(
                args.data,
                args.runs,
                model_config_for(data, base, conditioning),
                config_from_args(TrainConfig, args, category=category),
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
    parser = sub.add_parser(
        "train-flow",
        help="pre-train the flow encoder (no labels: it predicts each window's onset strength, and where in "
        "the window it falls, from motion)",
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="writes RUNS/flow_encoder.pt")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--category", default=None, help="train on one category's clips (default: all)")
    parser.add_argument("--steps", type=int, default=2000)
    _add_onset_hops(parser)
    _add_onset_floor(parser)
    _add_flow_stabilise(parser)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.set_defaults(run=_run_train_flow)


def _run_train_flow(args: argparse.Namespace) -> int:
    data = PreparedData(args.data)
    config = model_config_for(
        data,
        preset(
            args.preset,
            onset_hops=args.onset_hops,
            onset_floor=args.onset_floor,
            flow_stabilise=args.flow_stabilise,
        ),
        FLOW,
    )
    checkpoint = pretrain_flow_encoder(
        data,
        config.flow_encoder_config,
        onset_hops=config.onset_hops,
        onset_floor=config.onset_floor,
        category=args.category,
        steps=args.steps,
        device=args.device,
    )
    save_checkpoint(args.runs / FLOW_ENCODER_FILE, checkpoint, kind=FLOW_ENCODER)
    print(
        f"flow encoder: predicted vs. actual onset strength on the validation clips "
        f"r = {checkpoint['val_onset_correlation']:.3f}, hop of each event to within one of "
        f"{config.onset_hops}: {100 * checkpoint['val_onset_hop_accuracy']:.0f} % "
        f"-> {args.runs / FLOW_ENCODER_FILE}"
    )
    return 0


def _add_checkpoint_and_clips(parser: argparse.ArgumentParser, split: str) -> None:
    """A model and the clips it is run on: what `sample` and `diagnose` both take."""
    parser.add_argument("--checkpoint", type=Path, required=True, help="a .pt from `train` or `export`")
    parser.add_argument("--data", type=Path, required=True, help="the prepared data the clips come from")
    parser.add_argument("--split", default=split, choices=("train", "val", "test"))
    parser.add_argument("--category", default=None, help="default: the checkpoint's category")


def _add_sample(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sample", help="generate soundtracks for a split's clips")
    _add_checkpoint_and_clips(parser, split="test")
    parser.add_argument(
        "--out", type=Path, required=True, help="writes OUT/<category>/<clip>.wav, OUT/samples.json"
    )
    add_config_options(parser, SampleConfig)
    parser.add_argument("--device", default=None)
    parser.set_defaults(run=_run_sample)


def _run_sample(args: argparse.Namespace) -> int:
    listing = sample_split(
        args.checkpoint,
        args.data,
        args.out,
        split=args.split,
        category=args.category,
        config=config_from_args(SampleConfig, args),
        device=args.device,
    )
    print(
        f"{len(listing.clips)} soundtracks of {', '.join(listing.categories)} ({listing.model}) -> {args.out}"
    )
    return 0


def _add_diagnose(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diagnose",
        help="is a model's conditioning path alive? saturation and gradient of its frame tiers",
        description="Exit status 1 when a frame tier is dead (its gradient under 1e-3 of the sample MLP's: "
        "it has stopped learning, and what enters above it cannot reach the sound).",
    )
    _add_checkpoint_and_clips(parser, split="val")
    parser.add_argument("--clips", type=int, default=8, help="at most this many clips of the split")
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(run=_run_diagnose)


def _run_diagnose(args: argparse.Namespace) -> int:
    from generation.checkpoint import model_from_checkpoint
    from generation.diagnose import diagnose

    model, payload = model_from_checkpoint(args.checkpoint, args.device)
    data = PreparedData(args.data)
    category = args.category or payload["category"]
    records = data.clips(split=args.split, category=category)[: args.clips]
    if not records:
        raise ValueError(f"no {args.split} clips of category {category!r} in {args.data}")
    result = diagnose(model, data, records, device=args.device)
    print(f"{args.checkpoint} ({model.config.conditioning}, {category}, {args.split}):")
    print("\n".join(result.lines()))
    return 0 if all(t.healthy for t in result.tiers) else 1


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
    _add_diagnose(sub)
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
