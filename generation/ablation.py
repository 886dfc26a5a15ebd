"""What vision adds: a conditioned model's NLL of each clip's sound under its own video, and under the
video of another clip of the same category (same model, same sounds). The difference is what the model
takes from the video; near zero, it has learned to ignore it."""

from __future__ import annotations

import numpy as np
import torch

from generation.model import SampleRNN
from generation.prepared import ClipRecord, PreparedData
from generation.train import evaluate_bits


def shuffled_videos(records: list[ClipRecord], seed: int = 0) -> list[ClipRecord]:
    """For each clip, another clip's record to take the video from: a seeded derangement (no clip keeps
    its own), so every video is used exactly once."""
    if len(records) < 2:
        raise ValueError(f"shuffling videos across clips needs at least two clips, got {len(records)}")
    order = np.random.default_rng(seed).permutation(len(records))
    # Each clip in the shuffled order takes the video of the next one: a single cycle, no fixed point.
    videos: list[ClipRecord | None] = [None] * len(records)
    for position, index in enumerate(order):
        videos[index] = records[order[(position + 1) % len(order)]]
    return videos  # type: ignore[return-value]


def vision_ablation(
    model: SampleRNN,
    data: PreparedData,
    records: list[ClipRecord],
    *,
    device: torch.device,
    chunk_frames: int = 1,
    seed: int = 0,
) -> dict[str, float]:
    """Bits per sample with the clips' own videos and with shuffled ones, and the gap (shuffled − own).
    An unconditional model sees no video: its gap is 0 by construction and is not computed."""
    own = evaluate_bits(model, data, records, chunk_frames=chunk_frames, device=device)
    if not model.config.uses_features or len(records) < 2:
        return {"own_video_bits": own, "shuffled_video_bits": own, "vision_gain_bits": 0.0}
    shuffled = evaluate_bits(
        model,
        data,
        records,
        chunk_frames=chunk_frames,
        device=device,
        video_records=shuffled_videos(records, seed),
    )
    return {"own_video_bits": own, "shuffled_video_bits": shuffled, "vision_gain_bits": shuffled - own}
