"""The prepared-data format, read and written only here: a folder with `manifest.json` (the
preparation's config and weights, the split, one entry per clip, what was skipped) and one shard per
clip, `shards/<category>/<clip_id>.pt`, holding the clip's audio, VGG19 fc6 features and optical flow.

Reading it needs torch alone: not OpenCV, not VGG19, not the preparation pipeline
(`generation.prepare`, which writes it).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from generation.atomic import atomic_path, write_text_atomic
from generation.config import PrepareConfig
from generation.onset_strength import onset_profile

FORMAT = 1  # manifest and shards together; bump when either changes
MANIFEST = "manifest.json"
PREPARE_AGAIN = "prepare the data again with this version"
FLOW_LOOKAHEAD = 1  # video frames past its own that an audio window's motion includes (Shard.window_flow)


@dataclass(frozen=True)
class ClipRecord:
    """A clip's manifest entry."""

    clip_id: str
    category: str
    split: str
    shard: str
    num_frames: int
    num_samples: int
    valid_samples: int
    source: str = ""  # the video it was cut from
    start: float = 0.0  # seconds into the source


@dataclass
class Shard:
    record: ClipRecord
    audio: torch.Tensor  # (num_samples,) float32 in [-1, 1]
    features: torch.Tensor  # (num_frames, feature_dim) float16
    flow: torch.Tensor  # (num_frames, 2, F, F) float16, as stored: flow[i] = frame i-1 -> i

    @cached_property
    def window_features(self) -> torch.Tensor:
        """(num_frames, feature_dim): the frame the models see for each audio window — the one that ends
        it (frame i + 1 for window i), which shows what happened while the window sounded (a drum head
        flashing after its strike); the last window keeps the last frame."""
        return torch.cat([self.features[1:], self.features[-1:]])

    @cached_property
    def window_flow(self) -> torch.Tensor:
        """(num_frames, 2, F, F): the motion the models see for each audio window.

        Audio window i (samples [i·spf, (i+1)·spf)) lies between frames i and i+1, so what moves while
        it sounds is the stored flow[i + 1]; reading flow[i] would show each event a frame (64 ms at the
        demo's rate) after its sound, beyond an onset tolerance of ±50 ms. The whole video is known
        before any sound is made, so window i also sees FLOW_LOOKAHEAD frames past its end: a strike
        between two frames barely moves anything net, its rebound in the next frame does. The last
        windows, with no frames after them, get no motion (zeros).
        """
        shift = 1 + FLOW_LOOKAHEAD
        ahead = self.flow[shift:]
        return torch.cat(
            [ahead, self.flow.new_zeros(self.flow.shape[0] - ahead.shape[0], *self.flow.shape[1:])]
        )

    @cached_property
    def window_onsets(self) -> torch.Tensor:
        """(num_frames, HOPS_PER_WINDOW): the onset profile of each audio window's own sound — its onset
        strength in the hop where it rises most (`generation.onset_strength.onset_profile`) — which the
        flow encoder learns to predict and the flow-based model is told for part of its training."""
        frames = self.record.num_frames
        return onset_profile(self.audio, self.record.num_samples // max(frames, 1), frames)


def shard_path(out: Path, category: str, clip_id: str) -> Path:
    return out / "shards" / category / f"{clip_id}.pt"


def write_shard(
    path: Path,
    *,
    clip_id: str,
    category: str,
    source: Path,
    start: float,
    valid_samples: int,
    audio: np.ndarray,
    features: np.ndarray,
    flow: np.ndarray,
    config: PrepareConfig,
) -> dict:
    """Write one clip's shard atomically; returns its header (what `read_shard_header` reads back)."""
    num_frames = features.shape[0]
    assert features.shape == (num_frames, config.feature_dim), features.shape
    assert audio.shape == (num_frames * config.samples_per_frame,), audio.shape
    assert flow.shape == (num_frames, 2, config.flow_size, config.flow_size), flow.shape
    payload = {
        "format": FORMAT,
        "clip_id": clip_id,
        "category": category,
        "source": str(Path(source).resolve()),
        "start": start,
        "num_frames": num_frames,
        "valid_samples": valid_samples,
        "audio": torch.from_numpy(audio),  # (num_frames * spf,) float32
        "features": torch.from_numpy(features).to(torch.float16),  # (num_frames, 4096)
        "flow": torch.from_numpy(flow),  # (num_frames, 2, F, F) float16
    }
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)
    return _header(payload)


def read_shard_header(path: Path) -> dict:
    """The shard's metadata; the tensors are memory-mapped, not read."""
    shard = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    if shard.get("format") != FORMAT:
        raise ValueError(f"{path}: shard format {shard.get('format')}, expected {FORMAT}; {PREPARE_AGAIN}")
    return _header(shard)


def _header(shard: dict) -> dict:
    return {k: v for k, v in shard.items() if not isinstance(v, torch.Tensor)}


def write_manifest(out: Path, manifest: dict) -> None:
    write_text_atomic(out / MANIFEST, json.dumps({"format": FORMAT} | manifest, indent=1))


def read_manifest(root: Path) -> dict | None:
    """The manifest of ``root``, or None when there is none yet; a manifest of another format is an
    error that says what to do."""
    path = root / MANIFEST
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: format {manifest.get('format')}, expected {FORMAT}; {PREPARE_AGAIN}")
    return manifest


class PreparedData:
    """A folder written by `generation prepare`: its config, its clips, and their shards."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        if manifest is None:
            raise FileNotFoundError(
                f"{self.root / MANIFEST} not found: run `python -m generation prepare` first"
            )
        if not manifest.get("complete", True):  # manifests of earlier versions were written once, complete
            raise ValueError(
                f"{self.root / MANIFEST}: `generation prepare` has not finished in this folder (still "
                "running, or interrupted); wait for it, or run the same command again to finish"
            )
        self.manifest = manifest
        self.config = PrepareConfig(**manifest["config"])
        fields = ClipRecord.__dataclass_fields__
        self.records = [ClipRecord(**{k: v for k, v in c.items() if k in fields}) for c in manifest["clips"]]

    @property
    def categories(self) -> list[str]:
        return sorted({r.category for r in self.records})

    @property
    def feature_weights(self) -> str:
        """The name of the VGG19 weights the features were computed with."""
        return self.manifest.get("feature_extractor", {}).get("weights", {}).get("name", "unknown")

    def clips(self, *, split: str | None = None, category: str | None = None) -> list[ClipRecord]:
        return [
            r
            for r in self.records
            if (split is None or r.split == split) and (category is None or r.category == category)
        ]

    def write_clips_csv(self, out: Path | str, *, split: str, category: str | None = None) -> int:
        """The split's clips as a CSV of their source videos (path, category, clip_id), the form
        `python -m evaluation metrics --real` reads; returns how many were written."""
        clips = self.clips(split=split, category=category)
        with Path(out).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "category", "clip_id"])
            writer.writerows([c.source, c.category, c.clip_id] for c in clips)
        return len(clips)

    def load(self, record: ClipRecord) -> Shard:
        """The clip's tensors, with their shapes checked against the config."""
        path = self.root / record.shard
        raw = torch.load(path, map_location="cpu", weights_only=True)
        shard = Shard(record, raw["audio"], raw["features"], raw["flow"])
        config, t = self.config, record.num_frames
        expected = {
            "audio": (t * config.samples_per_frame,),
            "features": (t, config.feature_dim),
            "flow": (t, 2, config.flow_size, config.flow_size),
        }
        for name, shape in expected.items():
            actual = tuple(getattr(shard, name).shape)
            if actual != shape:
                raise ValueError(
                    f"{path}: {name} has shape {actual}, the manifest's config implies {shape}; "
                    "the shard is from another preparation — prepare again"
                )
        return shard
