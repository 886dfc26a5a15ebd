"""Small prepared datasets shared by the generation tests (building them costs seconds, not minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generation.prepare import PrepareConfig, SplitConfig, prepare
from generation.synth.dataset import SynthConfig, build_dataset

# VGG19 on 32x32 frames: the same network and code path, a fraction of the CPU time.
TINY_PREPARE = PrepareConfig(frame_size=32, flow_compute_size=32, flow_size=8)


@pytest.fixture(scope="session")
def demo_videos(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_videos")
    report = build_dataset(SynthConfig(clips_per_category=3, duration=2.0), out, jobs=2, progress=False)
    assert not report.failed
    return out


@pytest.fixture(scope="session")
def prepared(tmp_path_factory, demo_videos: Path) -> Path:
    out = tmp_path_factory.mktemp("prepared")
    report = prepare(demo_videos, out, TINY_PREPARE, split=SplitConfig(), jobs=2, progress=False)
    assert not report.skipped
    return out
