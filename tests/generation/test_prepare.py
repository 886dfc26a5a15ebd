"""From videos to shards: alignment, bad inputs, resume, the split, CSV manifests."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from generation.__main__ import main as generation_main
from generation.config import PrepareConfig, SplitConfig
from generation.media import encode_mp4, ffmpeg_executable
from generation.prepare import assign_splits, decode_clip, prepare
from generation.prepared import PreparedData
from generation.sources import ClipSource
from tests.conftest import TINY_PREPARE

SR, SPF, FPS = 16_000, 1024, 15.625


def test_manifest_describes_config_extractor_clips_and_split(prepared: Path) -> None:
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["config"]["frame_size"] == 32
    weights = manifest["feature_extractor"]["weights"]
    assert weights["name"] == "random-init"
    assert "RANDOM initialisation" in weights["warning"]
    assert manifest["flow"]["method"] == "dis"
    assert len(manifest["clips"]) == 12
    for clip in manifest["clips"]:
        # 2 s at 15.625 fps = 31.25 frames: whole frames only, audio exactly 1024 samples per frame.
        assert clip["num_frames"] == 31
        assert clip["num_samples"] == clip["valid_samples"] == 31 * SPF
        assert clip["split"] in {"train", "val", "test"}
        shard = torch.load(prepared / clip["shard"], weights_only=True)
        assert shard["audio"].shape == (31 * SPF,)
        assert shard["audio"].dtype == torch.float32
        assert shard["features"].shape == (31, 4096)
        assert shard["flow"].shape == (31, 2, 8, 8)
    assert manifest["skipped"] == []


def blinking_clip(path: Path, pattern: list[bool]) -> None:
    """Frame i is white and its 1024 audio samples loud when pattern[i], else black and silent."""
    frames = np.stack([np.full((64, 64, 3), 255 if on else 0, np.uint8) for on in pattern])
    rng = np.random.default_rng(1)
    audio = np.concatenate([(0.5 if on else 0.0) * rng.uniform(-1, 1, SPF) for on in pattern])
    encode_mp4(path, frames=frames, fps=FPS, audio=audio.astype(np.float32), sample_rate=SR)


def test_a_split_is_written_as_the_clips_csv_metrics_reads(prepared: Path, tmp_path: Path) -> None:
    from generation.sources import discover

    data = PreparedData(prepared)
    out = tmp_path / "test.csv"
    assert data.write_clips_csv(out, split="test", category="drum") == len(
        data.clips(split="test", category="drum")
    )
    sources, rejected = discover(out)  # as `python -m evaluation metrics --real` reads it
    assert not rejected
    assert [(s.category, s.clip_id) for s in sources] == [
        (c.category, c.clip_id) for c in data.clips(split="test", category="drum")
    ]
    assert data.write_clips_csv(out, split="test", category="no-such-category") == 0


def test_frame_i_covers_exactly_samples_i_times_1024(tmp_path: Path) -> None:
    pattern = [bool(b) for b in np.random.default_rng(3).integers(0, 2, 40)]
    pattern[0] = False
    blinking_clip(tmp_path / "blink.mp4", pattern)
    clip = decode_clip(ClipSource("blink", "test", tmp_path / "blink.mp4"), TINY_PREPARE)
    assert len(clip.frames) == 40
    assert clip.audio.shape == (40 * SPF,)
    for i, on in enumerate(pattern):
        seen = clip.frames[i].mean() > 127
        # The middle of the segment: AAC smears a few samples across the boundaries.
        loud = np.sqrt(np.mean(clip.audio[i * SPF + 100 : (i + 1) * SPF - 100] ** 2)) > 0.1
        assert seen == on == loud, f"frame {i}"

    # And through the whole pipeline: the shard's feature i (from frame i) matches audio segment i.
    folder = tmp_path / "videos" / "test"
    folder.mkdir(parents=True)
    shutil.copy(tmp_path / "blink.mp4", folder / "blink.mp4")
    prepare(tmp_path / "videos", tmp_path / "out", TINY_PREPARE, progress=False)
    shard = torch.load(tmp_path / "out" / "shards" / "test" / "blink.pt", weights_only=True)
    features = shard["features"].float()
    dark = features[0]
    for i, on in enumerate(pattern):
        looks_dark = torch.allclose(features[i], dark, atol=1e-2)
        segment = shard["audio"][i * SPF + 100 : (i + 1) * SPF - 100]
        assert looks_dark != on, f"feature {i}"
        assert (segment.pow(2).mean().sqrt() > 0.1) == on, f"audio segment {i}"


def make_bad_inputs(root: Path, demo_videos: Path) -> None:
    """Two good clips beside every kind of bad input prepare must survive."""
    ffmpeg = ffmpeg_executable()
    good = root / "drum"
    good.mkdir(parents=True)
    for name in ("drum_0000", "drum_0001"):
        shutil.copy(demo_videos / "drum" / f"{name}.mp4", good / f"{name}.mp4")
    bad = root / "bad"
    bad.mkdir()
    (bad / "corrupt.mp4").write_bytes(os.urandom(5000))
    quiet = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=15.625:duration=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
    ]
    subprocess.run([ffmpeg, "-loglevel", "error", *quiet, str(bad / "no_audio.mp4")], check=True)
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:a",
            "aac",
            str(bad / "no_video.mp4"),
        ],
        check=True,
    )
    short = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=15.625:duration=0.5",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=0.5",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
    ]
    subprocess.run([ffmpeg, "-loglevel", "error", *short, str(bad / "short.mp4")], check=True)
    shutil.copy(demo_videos / "drum" / "drum_0002.mp4", root / "no_category.mp4")


def test_bad_inputs_are_reported_and_skipped(tmp_path: Path, demo_videos: Path) -> None:
    make_bad_inputs(tmp_path / "videos", demo_videos)
    report = prepare(tmp_path / "videos", tmp_path / "out", TINY_PREPARE, jobs=2, progress=False)
    assert sorted(report.prepared) == ["drum_0000", "drum_0001"]
    reasons = {Path(r.source).name: r.reason for r in report.skipped}
    assert set(reasons) == {"corrupt.mp4", "no_audio.mp4", "no_video.mp4", "short.mp4", "no_category.mp4"}
    assert "too short" in reasons["short.mp4"]
    assert "category" in reasons["no_category.mp4"]
    assert all(reason and "\n" not in reason for reason in reasons.values())
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["skipped"]) == 5
    assert [c["clip_id"] for c in manifest["clips"]] == ["drum_0000", "drum_0001"]


def test_cli_exits_non_zero_only_when_nothing_was_prepared(tmp_path: Path, demo_videos: Path, capsys) -> None:
    make_bad_inputs(tmp_path / "videos", demo_videos)
    tiny = ["--frame-size", "32", "--flow-size", "8", "--flow-compute-size", "32", "--jobs", "1"]
    assert (
        generation_main(
            ["prepare", "--videos", str(tmp_path / "videos"), "--out", str(tmp_path / "a"), *tiny]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "2 clips prepared" in printed
    assert "5 skipped" in printed
    assert "skipped " in printed and "corrupt.mp4" in printed
    shutil.rmtree(tmp_path / "videos" / "drum")
    (tmp_path / "videos" / "no_category.mp4").unlink()
    assert (
        generation_main(
            ["prepare", "--videos", str(tmp_path / "videos"), "--out", str(tmp_path / "b"), *tiny]
        )
        == 1
    )


def test_resume_skips_finished_clips_and_ignores_half_written_ones(tmp_path: Path, demo_videos: Path) -> None:
    videos = tmp_path / "videos" / "drum"
    videos.mkdir(parents=True)
    for i in range(3):
        shutil.copy(demo_videos / "drum" / f"drum_000{i}.mp4", videos)
    out = tmp_path / "out"
    prepare(tmp_path / "videos", out, TINY_PREPARE, progress=False)
    shards = out / "shards" / "drum"
    kept = (shards / "drum_0000.pt").stat().st_mtime_ns
    # As if killed while writing drum_0002: its shard is gone and a temporary file is left behind.
    (shards / "drum_0002.pt").rename(shards / ".drum_0002.pt.tmp")
    report = prepare(tmp_path / "videos", out, TINY_PREPARE, progress=False)
    assert report.prepared == ["drum_0002"]
    assert sorted(report.reused) == ["drum_0000", "drum_0001"]
    assert (shards / "drum_0000.pt").stat().st_mtime_ns == kept
    assert len(json.loads((out / "manifest.json").read_text())["clips"]) == 3


def test_resume_refuses_other_settings(tmp_path: Path, demo_videos: Path) -> None:
    videos = tmp_path / "videos" / "drum"
    videos.mkdir(parents=True)
    shutil.copy(demo_videos / "drum" / "drum_0000.mp4", videos)
    prepare(tmp_path / "videos", tmp_path / "out", TINY_PREPARE, progress=False)
    other = PrepareConfig(frame_size=64, flow_compute_size=32, flow_size=8)
    with pytest.raises(ValueError, match="prepared with a different config"):
        prepare(tmp_path / "videos", tmp_path / "out", other, progress=False)


def test_split_is_stratified_and_stable() -> None:
    clips = [{"clip_id": f"{c}_{i:03d}", "category": c} for c in ("drum", "dog") for i in range(20)]
    assign_splits(clips, SplitConfig(seed=0, val_ratio=0.1, test_ratio=0.2))
    for category in ("drum", "dog"):
        splits = [c["split"] for c in clips if c["category"] == category]
        assert (splits.count("train"), splits.count("val"), splits.count("test")) == (14, 2, 4)
    first = {c["clip_id"]: c["split"] for c in clips}
    shuffled = [{"clip_id": c["clip_id"], "category": c["category"]} for c in clips]
    random.Random(1).shuffle(shuffled)
    assign_splits(shuffled, SplitConfig(seed=0, val_ratio=0.1, test_ratio=0.2))
    assert {c["clip_id"]: c["split"] for c in shuffled} == first
    assign_splits(shuffled, SplitConfig(seed=1, val_ratio=0.1, test_ratio=0.2))
    assert {c["clip_id"]: c["split"] for c in shuffled} != first


def test_small_categories_still_get_every_split() -> None:
    clips = [{"clip_id": f"c{i}", "category": "drum"} for i in range(3)]
    assign_splits(clips, SplitConfig())
    assert sorted(c["split"] for c in clips) == ["test", "train", "val"]


def test_vegas_style_csv_manifest(tmp_path: Path, demo_videos: Path) -> None:
    source = demo_videos / "helicopter" / "helicopter_0000.mp4"
    shutil.copy(source, tmp_path / "yt_abc123.mp4")
    (tmp_path / "segments.csv").write_text(
        "path,category,start,end\n"
        "yt_abc123.mp4,helicopter,0,1.1\n"
        "yt_abc123.mp4,helicopter,0.9,2.0\n"
        "missing.mp4,helicopter,,\n"
        "yt_abc123.mp4,helicopter,1.5,1.0\n"
    )
    config = PrepareConfig(frame_size=32, flow_compute_size=32, flow_size=8, min_seconds=1.0)
    report = prepare(tmp_path / "segments.csv", tmp_path / "out", config, progress=False)
    assert sorted(report.prepared) == ["yt_abc123_0", "yt_abc123_0.9"]
    reasons = sorted(r.reason for r in report.skipped)
    assert reasons == ["end (1) is not after start (1.5)", "no such file"]
    clips = json.loads((tmp_path / "out" / "manifest.json").read_text())["clips"]
    assert {c["clip_id"]: c["num_frames"] for c in clips} == {"yt_abc123_0": 17, "yt_abc123_0.9": 17}
    assert {c["clip_id"]: c["start"] for c in clips} == {"yt_abc123_0": 0.0, "yt_abc123_0.9": 0.9}


def test_csv_without_required_columns_names_them(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("file,label\nx.mp4,drum\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['path', 'category'\]"):
        prepare(tmp_path / "bad.csv", tmp_path / "out", TINY_PREPARE, progress=False)


def test_fixed_length_pads_or_skips_short_clips(tmp_path: Path, demo_videos: Path) -> None:
    videos = tmp_path / "videos" / "drum"
    videos.mkdir(parents=True)
    shutil.copy(demo_videos / "drum" / "drum_0000.mp4", videos)  # 2 s long
    padded = PrepareConfig(
        frame_size=32, flow_compute_size=32, flow_size=8, clip_seconds=3.0, short_clips="pad"
    )
    prepare(tmp_path / "videos", tmp_path / "padded", padded, progress=False)
    shard = torch.load(tmp_path / "padded" / "shards" / "drum" / "drum_0000.pt", weights_only=True)
    assert shard["num_frames"] == 46  # floor(3 s × 15.625)
    assert shard["valid_samples"] == 31 * SPF
    assert not shard["audio"][31 * SPF :].any()
    skipping = PrepareConfig(frame_size=32, flow_compute_size=32, flow_size=8, clip_seconds=3.0)
    report = prepare(tmp_path / "videos", tmp_path / "skipped", skipping, progress=False)
    assert not report.prepared
    assert "too short" in report.skipped[0].reason


def test_preparing_only_the_test_split_gives_the_full_preparations_test_clips(
    demo_videos: Path, prepared: Path, tmp_path: Path
) -> None:
    # What `make demo` needs to sample with shipped checkpoints: the held-out clips, nothing more.
    report = prepare(
        demo_videos, tmp_path, TINY_PREPARE, split=SplitConfig(only="test"), jobs=2, progress=False
    )
    only = PreparedData(tmp_path)
    full = PreparedData(prepared)
    expected = sorted((r.category, r.clip_id) for r in full.clips(split="test"))
    assert sorted((r.category, r.clip_id) for r in only.records) == expected
    assert {r.split for r in only.records} == {"test"}
    assert len(report.prepared) == len(expected) < len(full.records)


def test_an_unknown_split_to_prepare_is_refused() -> None:
    with pytest.raises(ValueError, match="only must be one of"):
        SplitConfig(only="holdout")


def test_an_interrupted_preparation_is_named_and_the_same_command_finishes_it(
    demo_videos: Path, tmp_path: Path, monkeypatch
) -> None:
    import generation.prepare as preparing

    real_write, written = preparing.write_shard, []

    def interrupted_after_two(*args, **kwargs):  # Ctrl-C at the third clip's shard
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(real_write(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(preparing, "write_shard", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        prepare(demo_videos, tmp_path, TINY_PREPARE, progress=False)
    with pytest.raises(ValueError, match="has not finished in this folder"):
        PreparedData(tmp_path)

    monkeypatch.setattr(preparing, "write_shard", real_write)
    report = prepare(demo_videos, tmp_path, TINY_PREPARE, progress=False)
    assert len(report.reused) == 2 and all(r.split for r in PreparedData(tmp_path).records)
