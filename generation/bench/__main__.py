"""`python -m generation.bench NAME`: timings written to benchmarks/NAME.json with the machine described.

synth     build the demo dataset from scratch (clips per minute)
prepare   prepare the demo dataset into shards on this machine (clips per minute)
demo-quality  the shipped demo checkpoints against their targets (into quality.json)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from generation.ablation import vision_ablation
from generation.bench.demo_quality import merge_into, summarise_checkpoints
from generation.bench.follows_video import previous_summary, summarise
from generation.bench.machine import describe_machine
from generation.bench.sample import measure_sampling
from generation.bench.train import measure
from generation.checkpoint import model_from_checkpoint
from generation.config import CONDITIONINGS, PrepareConfig, preset
from generation.prepare import prepare
from generation.prepared import PreparedData
from generation.synth.dataset import CATEGORIES, SynthConfig, build_dataset
from generation.train import TrainConfig, model_config_for, train

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


def bench_prepare(clips_per_category: int, jobs: int, frame_size: int, device: str | None) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        videos, out = Path(scratch) / "videos", Path(scratch) / "prepared"
        build_dataset(SynthConfig(clips_per_category=clips_per_category), videos, jobs=jobs, progress=False)
        config = PrepareConfig(frame_size=frame_size)
        started = time.perf_counter()
        report = prepare(videos, out, config, jobs=jobs, device=device)
        elapsed = time.perf_counter() - started
        manifest = PreparedData(out).manifest
    clips = len(report.prepared)
    return {
        "benchmark": "prepare",
        "clips": clips,
        "skipped": len(report.skipped),
        "clip_seconds": 4.0,
        "frame_size": frame_size,
        "flow": config.flow_method,
        "feature_precision": manifest["feature_extractor"]["precision"],
        "vgg_weights": manifest["feature_extractor"]["weights"]["name"],
        "device": device or ("cuda" if torch.cuda.is_available() else "cpu"),
        "jobs": jobs,
        "wall_seconds": round(elapsed, 2),
        "clips_per_minute": round(60 * clips / elapsed, 1),
        "machine": describe_machine(),
    }


def bench_train(runs: list[str], steps: int, conditioning: str, compile: bool, device: str | None) -> dict:
    results = []
    for entry in runs:
        name, batch, precision = entry.split(":")
        result = measure(
            name,
            batch_size=int(batch),
            steps=steps,
            conditioning=conditioning,
            precision=precision,
            compile=compile,
            device=device,
        )
        print(json.dumps(result), flush=True)
        results.append(result)
    return {
        "benchmark": "train",
        "results": results,
        "anchor": "old reference PyTorch SampleRNN at the reference setting: 2.17 M samples/s on an H100",
        "targets_h100": {"reference": 4_000_000, "paper": 5_000_000},
        "machine": describe_machine(),
    }


def bench_sample(
    presets: list[str], batches: list[int], seconds: float, naive_seconds: float, device: str | None
) -> dict:
    results = []
    for name in presets:
        for batch in batches:
            # On CUDA also the eager fast path, to show what the graph capture buys.
            paths = [(False, True), (True, True)]
            if (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda"):
                paths.insert(1, (False, False))
            for naive, graphs in paths:
                result = measure_sampling(
                    name,
                    batch_size=batch,
                    seconds=naive_seconds if naive or not graphs else seconds,
                    naive=naive,
                    cuda_graphs=graphs,
                    device=device,
                )
                print(json.dumps(result), flush=True)
                results.append(result)
    return {
        "benchmark": "sample",
        "results": results,
        "anchor": "old reference generator, H100, dim 1024: 0.05x at batch 1, 0.55x at 16, 0.96x at 128",
        "targets_h100_paper": {"batch_1": 1.0, "batch_256": 500.0},
        "machine": describe_machine(),
    }


def bench_quality(
    data_root: Path,
    runs: Path,
    preset_name: str,
    steps: int,
    batch_size: int,
    val_every: int,
    device: str | None,
) -> dict:
    data = PreparedData(data_root)
    rows = []
    for category in data.categories:
        for conditioning in CONDITIONINGS:
            config = TrainConfig(
                category=category, preset=preset_name, steps=steps, batch_size=batch_size, val_every=val_every
            )
            started = time.perf_counter()
            result = train(
                data_root,
                runs,
                model_config_for(data, preset(preset_name), conditioning),
                config,
                device=device,
            )
            val = data.clips(split="val", category=category)
            best, _ = model_from_checkpoint(result.run_dir / "best.pt", device or "cpu")
            ablation = vision_ablation(best, data, val, device=next(best.parameters()).device)
            rows.append(
                {
                    "category": category,
                    "model": conditioning,
                    "steps": result.step,
                    "best_val_bits": round(result.best_val_bits, 4),
                    "last_val_bits": round(result.last_val_bits, 4),
                    "shuffled_video_val_bits": round(ablation["shuffled_video_bits"], 4),
                    "vision_gain_bits": round(ablation["vision_gain_bits"], 4),
                    "val_clips": len(val),
                    "wall_seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    manifest = data.manifest
    return {
        "benchmark": "quality",
        "preset": preset_name,
        "batch_size": batch_size,
        "data": str(data_root),
        "frame_size": manifest["config"]["frame_size"],
        "vgg_weights": manifest["feature_extractor"]["weights"]["name"],
        "results": rows,
        "machine": describe_machine(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m generation.bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    synth = sub.add_parser("synth", help="build the demo dataset from scratch and time it")
    synth.add_argument("--clips", type=int, default=100 // len(CATEGORIES), help="clips per category")
    synth.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    prep = sub.add_parser("prepare", help="prepare the demo dataset (decode, flow, VGG19 fc6) and time it")
    prep.add_argument("--clips", type=int, default=5, help="clips per category (default 5: 20 clips)")
    prep.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    prep.add_argument("--frame-size", type=int, default=224)
    prep.add_argument("--device", default=None)
    train = sub.add_parser("train", help="training throughput (samples/s) per preset on this device")
    train.add_argument(
        "--runs",
        nargs="+",
        default=["reference:128:fp32", "paper:128:bf16", "paper:256:bf16", "small:128:bf16"],
        help="PRESET:BATCH:PRECISION entries (default: the reference setting and our presets)",
    )
    train.add_argument("--steps", type=int, default=20)
    train.add_argument("--conditioning", default="unconditional")
    train.add_argument("--compile", action="store_true")
    train.add_argument("--device", default=None)
    quality = sub.add_parser(
        "quality", help="validation NLL of every variant x category (trains them; resumable)"
    )
    quality.add_argument("--data", type=Path, default=Path("data/demo/prepared"))
    quality.add_argument("--runs", type=Path, default=Path("runs/quality"))
    quality.add_argument("--preset", default="small")
    quality.add_argument("--steps", type=int, default=2000)
    quality.add_argument("--batch-size", type=int, default=32)
    quality.add_argument("--val-every", type=int, default=250)
    quality.add_argument("--device", default=None)
    follows = sub.add_parser(
        "follows-video", help="summarise benchmarks/follows_video.sh's metrics into follows-video.json"
    )
    follows.add_argument("--category", required=True)
    follows.add_argument("--metrics", type=Path, required=True, help="CSV of `python -m evaluation metrics`")
    follows.add_argument("--runs", type=Path, required=True)
    follows.add_argument("--steps", type=int, required=True)
    shipped = sub.add_parser(
        "demo-quality",
        help="the shipped demo checkpoints against their targets, into quality.json",
    )
    shipped.add_argument("--checkpoints", type=Path, default=Path("demo/checkpoints"))
    shipped.add_argument("--metrics", type=Path, required=True, help="CSV of `python -m evaluation metrics`")
    sampling = sub.add_parser("sample", help="generation real-time factor, fast and naive paths")
    sampling.add_argument("--presets", nargs="+", default=["paper", "small"])
    sampling.add_argument("--batches", nargs="+", type=int, default=[1, 16, 64, 256])
    sampling.add_argument("--seconds", type=float, default=1.0, help="audio seconds per stream (fast path)")
    sampling.add_argument("--naive-seconds", type=float, default=0.128, help="for the slow naive path")
    sampling.add_argument("--device", default=None)
    args = parser.parse_args(argv)

    if args.name == "sample":
        result = bench_sample(args.presets, args.batches, args.seconds, args.naive_seconds, args.device)
    elif args.name == "quality":
        result = bench_quality(
            args.data, args.runs, args.preset, args.steps, args.batch_size, args.val_every, args.device
        )
    elif args.name == "demo-quality":
        summary = summarise_checkpoints(args.checkpoints, args.metrics)
        result = merge_into(RESULTS_DIR / "quality.json", summary, args.checkpoints, args.metrics)
    elif args.name == "follows-video":
        previous = previous_summary(RESULTS_DIR / "follows-video.json")
        result = summarise(args.category, args.metrics, args.runs, args.steps, previous)
    elif args.name == "synth":
        result = bench_synth(args.clips, args.jobs)
    elif args.name == "prepare":
        result = bench_prepare(args.clips, args.jobs, args.frame_size, args.device)
    else:
        result = bench_train(args.runs, args.steps, args.conditioning, args.compile, args.device)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{'quality' if args.name == 'demo-quality' else args.name}.json"
    if args.name == "quality" and path.is_file():  # the shipped checkpoints' summary stays beside it
        shipped = json.loads(path.read_text()).get("demo_checkpoints")
        result |= {"demo_checkpoints": shipped} if shipped else {}
    path.write_text(json.dumps(result, indent=2) + "\n")
    if args.name == "demo-quality":
        for target in result["demo_checkpoints"]["targets"]:
            print(f"{'met    ' if target['met'] else 'NOT met'} {target['category']}: {target['target']}")
    else:
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
