"""Training batches from prepared data (read by `generation.prepared`): truncated-BPTT batches.

A truncated-BPTT batch holds B parallel streams. Each stream walks through one clip chunk by chunk,
so the model can carry its hidden state from one batch to the next; when a clip ends, the stream
starts the next clip of the shuffled order and raises its `reset` flag, telling the model to start
from its initial state again. Chunks are whole video frames long, so chunk k of a clip covers audio
samples [k·C, (k+1)·C) and exactly frames [k·C/spf, (k+1)·C/spf).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from generation.config import PrepareConfig
from generation.onset_strength import HOPS_PER_WINDOW
from generation.prepared import ClipRecord, PreparedData, Shard
from generation.quantize import LINEAR, quantize


@dataclass
class Batch:
    """One step of truncated BPTT for B streams; C = chunk samples, K = C / spf frames."""

    audio: torch.Tensor  # (B, lookback + C) int64 codes; the first `lookback` are the previous context
    mask: torch.Tensor  # (B, C) bool: real audio (False past a clip's end or over its padding)
    features: torch.Tensor  # (B, K, feature_dim) float32: the frame ending window k (Shard.window_features)
    flow: torch.Tensor  # (B, K, 2, F, F) float32: the motion over each frame's window (Shard.window_flow)
    onsets: torch.Tensor  # (B, K, HOPS_PER_WINDOW) float32: each window's own (Shard.window_onsets)
    reset: torch.Tensor  # (B,) bool: this chunk starts a clip; the model starts from its initial state
    clip_features: torch.Tensor | None  # (B, T_max, feature_dim) whole-clip features when any reset
    clip_frames: torch.Tensor | None  # (B,) frames of each clip in clip_features
    categories: list[str]
    clip_ids: list[str]


class TBPTTBatches:
    """An endless, resumable stream of truncated-BPTT batches over ``records``.

    The clip order is a seeded shuffle per epoch; ``state_dict()`` captures exactly where every stream
    is, so a resumed run sees the same batches as an uninterrupted one. With ``world_size`` > 1 each
    rank takes every world_size-th clip of the same order.
    """

    def __init__(
        self,
        data: PreparedData,
        records: list[ClipRecord],
        *,
        batch_size: int,
        chunk_frames: int,
        lookback: int,
        levels: int = 256,
        scheme: str = LINEAR,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not records:
            raise ValueError("no clips to train on: check --category and the split in manifest.json")
        self.data, self.records = data, records
        self.batch_size, self.chunk_frames, self.lookback = batch_size, chunk_frames, lookback
        self.levels, self.scheme, self.seed = levels, scheme, seed
        self.rank, self.world_size = rank, world_size
        self.spf = data.config.samples_per_frame
        self.chunk_samples = chunk_frames * self.spf
        self.epoch, self.position = 0, 0
        self.streams: list[tuple[int, int] | None] = [None] * batch_size  # (record index, next chunk)
        self._order = self._epoch_order()
        self._loaded: dict[int, Shard] = {}

    def _epoch_order(self) -> list[int]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.records))
        mine = order[self.rank :: self.world_size]
        return [int(i) for i in (mine if len(mine) else order[:1])]

    def _next_record(self) -> int:
        if self.position >= len(self._order):
            self.epoch, self.position = self.epoch + 1, 0
            self._order = self._epoch_order()
        index = self._order[self.position]
        self.position += 1
        return index

    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "streams": list(self.streams),
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict) -> None:
        if state["seed"] != self.seed:
            raise ValueError(f"data order seed {state['seed']} in the checkpoint, {self.seed} asked for")
        self.epoch, self.position = state["epoch"], state["position"]
        self.streams = [tuple(s) if s is not None else None for s in state["streams"]]
        self._order = self._epoch_order()
        self._loaded.clear()

    def _shard(self, index: int) -> Shard:
        if index not in self._loaded:
            self._loaded[index] = self.data.load(self.records[index])
        return self._loaded[index]

    def __iter__(self) -> TBPTTBatches:
        return self

    def __next__(self) -> Batch:
        shards, chunks, reset = [], [], torch.zeros(self.batch_size, dtype=torch.bool)
        for slot in range(self.batch_size):
            stream = self.streams[slot]
            if stream is None or stream[1] * self.chunk_samples >= self.records[stream[0]].num_samples:
                if stream is not None:
                    self._loaded.pop(stream[0], None)
                stream = (self._next_record(), 0)
                reset[slot] = True
            shards.append(self._shard(stream[0]))
            chunks.append(stream[1])
            self.streams[slot] = (stream[0], stream[1] + 1)
        return assemble_batch(
            self.data.config,
            shards,
            chunks,
            reset,
            chunk_frames=self.chunk_frames,
            lookback=self.lookback,
            levels=self.levels,
            scheme=self.scheme,
        )


def assemble_batch(
    config: PrepareConfig,
    shards: list[Shard],
    chunks: list[int],
    reset: torch.Tensor,
    *,
    chunk_frames: int,
    lookback: int,
    levels: int,
    scheme: str,
    visuals: list[Shard] | None = None,
) -> Batch:
    """Chunk ``chunks[i]`` of ``shards[i]`` for every stream i; past a clip's end: silence, masked.

    ``visuals[i]``, when given, supplies stream i's video (features and flow) instead of ``shards[i]``:
    another clip's video under this clip's sound, for the ablation that measures what vision adds.
    """
    visuals = shards if visuals is None else visuals
    b, spf = len(shards), config.samples_per_frame
    c, k = chunk_frames * spf, chunk_frames
    silence = int(quantize(torch.zeros(1), levels, scheme))
    audio = torch.full((b, lookback + c), silence, dtype=torch.long)
    mask = torch.zeros(b, c, dtype=torch.bool)
    features = torch.zeros(b, k, config.feature_dim)
    flow = torch.zeros(b, k, 2, config.flow_size, config.flow_size)
    onsets = torch.zeros(b, k, HOPS_PER_WINDOW)
    for slot, (shard, video, chunk) in enumerate(zip(shards, visuals, chunks, strict=True)):
        start = chunk * c
        piece = shard.audio[max(0, start - lookback) : start + c]
        offset = lookback - min(lookback, start)  # the first chunk's context is silence
        audio[slot, offset : offset + piece.numel()] = quantize(piece, levels, scheme)
        real_end = min(start + c, shard.record.valid_samples)
        mask[slot, : max(0, real_end - start)] = True
        frames = slice(chunk * k, chunk * k + k)
        got = video.features[frames].shape[0]
        features[slot, :got] = video.window_features[frames].float()
        flow[slot, :got] = video.window_flow[frames].float()
        sounded = shard.window_onsets[frames]  # the sound's own, never the swapped-in video's
        onsets[slot, : sounded.shape[0]] = sounded
    clip_features = clip_frames = None
    if reset.any():
        longest = max(v.features.shape[0] for v in visuals)
        clip_features = torch.zeros(b, longest, config.feature_dim)
        clip_frames = torch.tensor([v.features.shape[0] for v in visuals])
        for slot, video in enumerate(visuals):
            clip_features[slot, : video.features.shape[0]] = video.features.float()
    return Batch(
        audio,
        mask,
        features,
        flow,
        onsets,
        reset,
        clip_features,
        clip_frames,
        [s.record.category for s in shards],
        [s.record.clip_id for s in shards],
    )


def whole_clip_batches(
    data: PreparedData,
    records: list[ClipRecord],
    *,
    chunk_frames: int,
    lookback: int,
    levels: int = 256,
    scheme: str = LINEAR,
    group: int = 32,
    video_records: list[ClipRecord] | None = None,
) -> Iterator[list[Batch]]:
    """For evaluation: groups of up to ``group`` clips, each group as the list of its chunks in order,
    the clips side by side from their first sample to the end of the longest (the rest masked).
    ``video_records[i]``, when given, is the clip whose video goes with ``records[i]``'s sound."""
    if video_records is not None and len(video_records) != len(records):
        raise ValueError(f"{len(video_records)} videos for {len(records)} clips")
    for first in range(0, len(records), group):
        shards = [data.load(r) for r in records[first : first + group]]
        visuals = (
            None if video_records is None else [data.load(r) for r in video_records[first : first + group]]
        )
        longest = max(s.record.num_samples for s in shards)
        chunk_samples = chunk_frames * data.config.samples_per_frame
        batches = []
        for chunk in range(-(-longest // chunk_samples)):
            reset = torch.full((len(shards),), chunk == 0)
            batches.append(
                assemble_batch(
                    data.config,
                    shards,
                    [chunk] * len(shards),
                    reset,
                    chunk_frames=chunk_frames,
                    lookback=lookback,
                    levels=levels,
                    scheme=scheme,
                    visuals=visuals,
                )
            )
        yield batches
