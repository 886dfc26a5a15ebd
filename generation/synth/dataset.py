"""Building the demo dataset: every clip rendered, encoded to mp4 and described by a JSON sidecar.

Layout: ``<out>/<category>/<clip_id>.mp4`` + ``<clip_id>.json`` — the layout `generation prepare`
accepts for real data. A clip is finished once its sidecar exists (written last, by rename), so an
interrupted build resumes where it stopped and never leaves a half-written file behind.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import zlib
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from generation import FPS, SAMPLE_RATE
from generation.atomic import atomic_path, write_text_atomic
from generation.media import encode_mp4
from generation.synth import chainsaw, drum, fireworks, helicopter
from generation.synth.clip import ClipTiming, SynthClip
from generation.synth.scene import Canvas

logger = logging.getLogger(__name__)

SIDECAR_FORMAT = 1
DATASET_FILE = "synth.json"

RENDERERS: dict[str, Callable[[np.random.Generator, ClipTiming], SynthClip]] = {
    "drum": drum.render,
    "fireworks": fireworks.render,
    "helicopter": helicopter.render,
    "chainsaw": chainsaw.render,
}
CATEGORIES = tuple(RENDERERS)


@dataclass(frozen=True)
class SynthConfig:
    clips_per_category: int = 25
    duration: float = 4.0  # seconds of audio; the video covers it with whole frames
    seed: int = 0
    width: int = 224
    height: int = 224
    fps: float = FPS
    sample_rate: int = SAMPLE_RATE
    categories: tuple[str, ...] = CATEGORIES

    def __post_init__(self) -> None:
        unknown = sorted(set(self.categories) - set(RENDERERS))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; choose from {list(CATEGORIES)}")
        if self.clips_per_category < 1:
            raise ValueError(f"clips_per_category must be at least 1, got {self.clips_per_category}")
        if self.duration < 1.0:
            raise ValueError(f"duration must be at least 1 second, got {self.duration}")
        if self.width % 2 or self.height % 2 or min(self.width, self.height) < 32:
            raise ValueError(
                f"frame size must be even and at least 32 pixels, got {self.width}x{self.height}"
            )
        if self.fps <= 0 or self.sample_rate < 8000:
            raise ValueError(f"need fps > 0 and sample_rate >= 8000, got {self.fps} and {self.sample_rate}")

    @property
    def timing(self) -> ClipTiming:
        return ClipTiming(
            sample_rate=self.sample_rate,
            fps=self.fps,
            num_samples=round(self.duration * self.sample_rate),
            num_frames=math.ceil(self.duration * self.fps - 1e-9),
            canvas=Canvas(self.width, self.height),
        )

    def clip_ids(self) -> list[tuple[str, str, int]]:
        """(category, clip_id, index) for every clip, in a fixed order."""
        return [(c, f"{c}_{i:04d}", i) for c in self.categories for i in range(self.clips_per_category)]

    def rng_for(self, category: str, index: int) -> np.random.Generator:
        # Keyed by the category's name, not its position, so adding a category changes no other clip.
        return np.random.default_rng([self.seed, zlib.crc32(category.encode()), index])

    def identity(self) -> dict:
        """What decides a clip's content; a folder built with other values cannot be resumed."""
        fields = dataclasses.asdict(self)
        fields.pop("clips_per_category")
        fields.pop("categories")
        return fields | {"format": SIDECAR_FORMAT}


@dataclass
class BuildReport:
    built: list[str]
    reused: list[str]
    failed: dict[str, str]


def clip_sidecar(config: SynthConfig, category: str, clip_id: str, index: int, clip: SynthClip) -> dict:
    timing = config.timing
    return {
        "format": SIDECAR_FORMAT,
        "clip_id": clip_id,
        "category": category,
        "video": f"{clip_id}.mp4",
        "duration": timing.duration,
        "sample_rate": timing.sample_rate,
        "fps": timing.fps,
        "num_frames": timing.num_frames,
        "frame_size": [timing.canvas.width, timing.canvas.height],
        "seed": [config.seed, category, index],
        "events": [dataclasses.asdict(event) for event in clip.events],
        "intensity": None if clip.intensity is None else [round(float(v), 5) for v in clip.intensity],
        "scene": clip.scene,
    }


def render_clip(config: SynthConfig, category: str, index: int) -> SynthClip:
    return RENDERERS[category](config.rng_for(category, index), config.timing)


def _write_json(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=1, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def build_clip(config: SynthConfig, out_dir: Path, category: str, clip_id: str, index: int) -> str:
    """Render, encode and describe one clip; returns its id. Safe to run in a worker process."""
    cv2.setNumThreads(1)  # workers already run in parallel; nested threads only contend
    clip = render_clip(config, category, index)
    folder = out_dir / category
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"{clip_id}.mp4", suffix=".mp4") as temporary:
        encode_mp4(
            temporary, frames=clip.frames, fps=config.fps, audio=clip.audio, sample_rate=config.sample_rate
        )
    _write_json(folder / f"{clip_id}.json", clip_sidecar(config, category, clip_id, index, clip))
    return clip_id


def _check_resumable(config: SynthConfig, out_dir: Path) -> None:
    marker = out_dir / DATASET_FILE
    if marker.exists():
        existing = json.loads(marker.read_text())
        if existing != config.identity():
            raise ValueError(
                f"{out_dir} holds a demo dataset built with other options ({existing}); "
                "use another --out folder, or delete this one to rebuild it."
            )
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_json(marker, config.identity())


def build_dataset(
    config: SynthConfig,
    out_dir: Path | str,
    *,
    only: Collection[str] | None = None,
    jobs: int | None = None,
    progress: bool = True,
) -> BuildReport:
    """Build every clip not already finished in ``out_dir`` (of ``only``, when given, just those clip
    ids: a clip's content depends on its id alone, so a later full build adds the others unchanged);
    a failed clip is reported, not fatal."""
    out_dir = Path(out_dir)
    planned = config.clip_ids()
    if only is not None:
        unknown = sorted(set(only) - {clip_id for _, clip_id, _ in planned})
        if unknown:
            raise ValueError(
                f"no clips {unknown[:3]} in this dataset ({config.clips_per_category} per category)"
            )
        planned = [item for item in planned if item[1] in only]
    _check_resumable(config, out_dir)
    todo, reused = [], []
    for category, clip_id, index in planned:
        if (out_dir / category / f"{clip_id}.json").exists() and (
            out_dir / category / f"{clip_id}.mp4"
        ).exists():
            reused.append(clip_id)
        else:
            todo.append((category, clip_id, index))
    report = BuildReport(built=[], reused=reused, failed={})
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = tqdm(total=len(todo), desc="demo clips", unit="clip", disable=not progress)
    if jobs == 1:
        for category, clip_id, index in todo:
            try:
                report.built.append(build_clip(config, out_dir, category, clip_id, index))
            except Exception as error:  # one bad clip must not stop the batch
                report.failed[clip_id] = f"{type(error).__name__}: {error}"
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(build_clip, config, out_dir, *item): item[1] for item in todo}
            for future in as_completed(futures):
                try:
                    report.built.append(future.result())
                except Exception as error:  # one bad clip must not stop the batch
                    report.failed[futures[future]] = f"{type(error).__name__}: {error}"
                bar.update()
    bar.close()
    for clip_id, reason in report.failed.items():
        logger.error("clip %s failed: %s", clip_id, reason)
    return report
