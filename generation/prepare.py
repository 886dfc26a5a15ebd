"""`python -m generation prepare`: videos -> training shards (audio, VGG19 fc6 features, optical flow).

One shard per clip (the format: `generation.prepared`), written atomically, so a kill never leaves a
corrupt shard and a rerun skips finished clips. Decoding and optical flow run in
`--jobs` worker processes; VGG19 runs batched in the main process (on the GPU when there is one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from generation.config import DIS, SKIP, PrepareConfig, SplitConfig
from generation.features import Fc6Extractor, resolve_vgg_weights
from generation.flow import DisFlow, RaftFlow
from generation.media import MediaError, decode_audio, decode_frames
from generation.precision import native_precision
from generation.prepared import read_manifest, read_shard_header, shard_path, write_manifest, write_shard
from generation.sources import ClipSource, Rejected, discover
from generation.weights import WeightsIdentity

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class DecodedClip:
    source: ClipSource
    audio: np.ndarray  # (num_frames * spf,) float32
    frames: np.ndarray  # (num_frames, S, S, 3) uint8
    flow: np.ndarray | None  # (num_frames, 2, F, F) float16; None until RAFT runs in the main process
    valid_samples: int  # samples of real audio; the rest is padding


@dataclass
class PrepareReport:
    prepared: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[Rejected] = field(default_factory=list)


def decode_clip(source: ClipSource, config: PrepareConfig) -> DecodedClip:
    """Decode, cut or pad, and compute optical flow; raises MediaError or ValueError with the reason."""
    cv2.setNumThreads(1)  # workers run in parallel already
    torch.set_num_threads(1)
    if not source.path.exists():
        raise MediaError(f"{source.path}: no such file")
    if not os.access(source.path, os.R_OK):
        raise MediaError(f"{source.path}: not readable (permissions)")
    wanted = config.clip_seconds or config.max_seconds
    if source.end is not None:
        wanted = min(wanted, source.end - source.start)
    audio = decode_audio(source.path, sample_rate=config.sample_rate, start=source.start, duration=wanted)
    frames = decode_frames(
        source.path, fps=config.fps, size=config.frame_size, start=source.start, duration=wanted
    )
    available = min(audio.size / config.sample_rate, len(frames) / config.fps)
    if available < config.min_seconds:
        raise ValueError(f"too short: {available:.2f} s of audio and video, minimum {config.min_seconds:g} s")
    spf = config.samples_per_frame
    if config.clip_seconds is None:
        num_frames = config.frames_for(available)
    else:
        num_frames = config.frames_for(config.clip_seconds)
        if available < config.clip_seconds - 1e-6 and config.short_clips == SKIP:
            raise ValueError(
                f"too short: {available:.2f} s, clips must be {config.clip_seconds:g} s "
                "(--short-clips pad to pad them)"
            )
    real_frames = min(num_frames, config.frames_for(available))
    valid_samples = real_frames * spf
    audio = np.pad(audio[:valid_samples], (0, num_frames * spf - valid_samples))
    frames = frames[:real_frames]
    if real_frames < num_frames:  # hold the last picture over the padding
        frames = np.concatenate([frames, np.repeat(frames[-1:], num_frames - real_frames, axis=0)])
    flow = None
    if config.flow_method == DIS:  # RAFT needs the GPU and its weights: the main process runs it
        flow = DisFlow(compute_size=config.flow_compute_size, out_size=config.flow_size)(frames)
    return DecodedClip(source, audio.astype(np.float32), frames, flow, valid_samples)


def _decode_or_reason(source: ClipSource, config: PrepareConfig) -> DecodedClip | Rejected:
    try:
        return decode_clip(source, config)
    except (MediaError, ValueError, OSError) as error:
        return Rejected(source.label, str(error).removeprefix(f"{source.path}: "))
    except Exception as error:  # anything else about one clip must not stop the batch either
        return Rejected(source.label, f"{type(error).__name__}: {error}".splitlines()[0])


def assign_splits(clips: list[dict], split: SplitConfig) -> None:
    """Stratified per category and stable: clips ordered by a hash of (seed, clip id), so the split
    depends on neither the input order nor the number of jobs; the first go to test, then val."""
    by_category: dict[str, list[dict]] = {}
    for clip in clips:
        by_category.setdefault(clip["category"], []).append(clip)
    for members in by_category.values():
        members.sort(key=lambda c: hashlib.sha256(f"{split.seed}:{c['clip_id']}".encode()).hexdigest())
        n = len(members)
        n_test, n_val = (_split_count(n, ratio) for ratio in (split.test_ratio, split.val_ratio))
        for index, clip in enumerate(members):
            clip["split"] = "test" if index < n_test else "val" if index < n_test + n_val else "train"


def _split_count(n: int, ratio: float) -> int:
    count = math.floor(n * ratio + 0.5)
    # Every split that is asked for gets a clip once a category has enough for all three.
    return max(count, 1) if ratio > 0 and n >= 3 else count


def _identity(config: PrepareConfig, vgg: WeightsIdentity, flow: WeightsIdentity, precision: str) -> dict:
    return {
        "config": dataclasses.asdict(config),
        "feature_extractor": {
            "name": "vgg19.fc6",
            "dim": config.feature_dim,
            "weights": vgg.as_dict(),
            "precision": precision,
        },
        "flow": {
            "method": config.flow_method,
            "size": config.flow_size,
            "units": "pixels of the prepared frame per frame interval; flow[i] = frame i-1 -> i",
            "weights": flow.as_dict(),
        },
    }


def _check_compatible(out: Path, identity: dict) -> None:
    existing = read_manifest(out)
    if existing is None:
        return
    existing_identity = {k: existing.get(k) for k in identity}
    if existing_identity != identity:
        differing = [k for k in identity if existing_identity[k] != identity[k]]
        raise ValueError(
            f"{out} was prepared with a different {', '.join(differing)}; shards would mix. "
            "Prepare into another --out folder, or delete this one."
        )


def _write_manifest(
    out: Path,
    identity: dict,
    split: SplitConfig,
    clips: list[dict],
    skipped: list[Rejected],
    *,
    complete: bool,
) -> None:
    manifest = identity | {
        "complete": complete,  # False while clips are being prepared: their splits are not drawn yet
        "split": dataclasses.asdict(split),
        "clips": sorted(clips, key=lambda c: (c["category"], c["clip_id"])),
        "skipped": [dataclasses.asdict(s) for s in skipped],
    }
    write_manifest(out, manifest)


def _clip_entry(header: dict, config: PrepareConfig, out: Path, path: Path) -> dict:
    return {
        "clip_id": header["clip_id"],
        "category": header["category"],
        "source": header["source"],
        "start": header["start"],
        "num_frames": header["num_frames"],
        "num_samples": header["num_frames"] * config.samples_per_frame,
        "valid_samples": header["valid_samples"],
        "duration": header["num_frames"] * config.samples_per_frame / config.sample_rate,
        "shard": str(path.relative_to(out)),
    }


def _decoded_in_parallel(
    sources: list[ClipSource], config: PrepareConfig, jobs: int
) -> Iterator[DecodedClip | Rejected]:
    if jobs == 1:
        for source in sources:
            yield _decode_or_reason(source, config)
        return
    # A bounded window of clips in flight keeps memory flat however many clips there are.
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: set[Future] = set()
        queue = iter(sources)
        for source in queue:
            pending.add(pool.submit(_decode_or_reason, source, config))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                source = next(queue, None)
                if source is not None:
                    pending.add(pool.submit(_decode_or_reason, source, config))


def prepare(
    videos: Path,
    out: Path,
    config: PrepareConfig,
    *,
    split: SplitConfig | None = None,
    vgg_weights: Path | None = None,
    raft_weights: Path | None = None,
    jobs: int = 1,
    device: str | None = None,
    progress: bool = True,
) -> PrepareReport:
    split = split or SplitConfig()
    sources, rejected = discover(videos)
    planned = _planned_splits(sources, split)
    if planned is not None:
        sources = [s for s in sources if planned[s.category, s.clip_id] == split.only]
    vgg = resolve_vgg_weights(vgg_weights)
    flow_identity = DisFlow.identity if config.flow_method == DIS else RaftFlow.resolve_weights(raft_weights)
    precision = native_precision(torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))
    identity = _identity(config, vgg, flow_identity, precision)
    out.mkdir(parents=True, exist_ok=True)
    _check_compatible(out, identity)

    report = PrepareReport(skipped=list(rejected))
    entries, todo = [], []
    for source in sources:
        path = shard_path(out, source.category, source.clip_id)
        if path.exists():
            entries.append(_clip_entry(read_shard_header(path), config, out, path))
            report.reused.append(source.clip_id)
        else:
            todo.append(source)
    _write_manifest(out, identity, split, entries, report.skipped, complete=False)

    extractor = Fc6Extractor(vgg, device=device) if todo else None
    raft = None
    if todo and config.flow_method != DIS:
        raft = RaftFlow(
            flow_identity, compute_size=config.flow_compute_size, out_size=config.flow_size, device=device
        )
    bar = tqdm(total=len(todo), desc="prepare", unit="clip", disable=not progress)
    for result in _decoded_in_parallel(todo, config, max(1, jobs)):
        bar.update()
        if isinstance(result, Rejected):
            report.skipped.append(result)
            logger.warning("skipped %s: %s", result.source, result.reason)
            continue
        if raft is not None:
            result.flow = raft(result.frames)
        path = shard_path(out, result.source.category, result.source.clip_id)
        header = write_shard(
            path,
            clip_id=result.source.clip_id,
            category=result.source.category,
            source=result.source.path,
            start=result.source.start,
            valid_samples=result.valid_samples,
            audio=result.audio,
            features=extractor(result.frames),
            flow=result.flow,
            config=config,
        )
        entries.append(_clip_entry(header, config, out, path))
        report.prepared.append(result.source.clip_id)
    bar.close()

    if planned is None:
        assign_splits(entries, split)
    else:
        for entry in entries:
            entry["split"] = planned[entry["category"], entry["clip_id"]]
    _write_manifest(out, identity, split, entries, report.skipped, complete=True)
    return report


def _planned_splits(sources: list[ClipSource], split: SplitConfig) -> dict[tuple[str, str], str] | None:
    """With ``split.only``: every discovered clip's split, drawn before anything is decoded, so preparing
    one split gives the clips (and splits) a full preparation would. (A full preparation draws over the
    clips it could decode, so a clip that fails there shifts the draw; here it keeps its place.)"""
    if split.only is None:
        return None
    clips = [{"category": s.category, "clip_id": s.clip_id} for s in sources]
    assign_splits(clips, split)
    return {(c["category"], c["clip_id"]): c["split"] for c in clips}
