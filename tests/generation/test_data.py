"""Truncated-BPTT batches: aligned chunks, resets at clip starts, exact resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from generation.data import TBPTTBatches, assemble_batch
from generation.prepared import PreparedData
from generation.quantize import quantize

SPF = 1024


def batches(prepared: Path, **overrides) -> TBPTTBatches:
    data = PreparedData(prepared)
    options = {"batch_size": 3, "chunk_frames": 8, "lookback": 64, "seed": 0} | overrides
    return TBPTTBatches(data, data.clips(split="train"), **options)


def test_shapes_and_alignment(prepared: Path) -> None:
    stream = batches(prepared)
    data = stream.data
    batch = next(stream)
    assert batch.audio.shape == (3, 64 + 8 * SPF)
    assert batch.mask.shape == (3, 8 * SPF)
    assert batch.features.shape == (3, 8, 4096)
    assert batch.flow.shape == (3, 8, 2, 8, 8)
    assert batch.reset.all()
    assert batch.clip_features.shape == (3, 31, 4096)
    # Chunk 1 of each clip: samples [8192, 16384) with 64 samples of context, frames [8, 16).
    second = next(stream)
    assert not second.reset.any()
    assert second.clip_features is None
    for slot, clip_id in enumerate(second.clip_ids):
        shard = data.load(next(r for r in data.records if r.clip_id == clip_id))
        expected = quantize(shard.audio[8 * SPF - 64 : 16 * SPF])
        assert torch.equal(second.audio[slot], expected)
        # Window k sees the frame that ends it, k + 1.
        assert torch.equal(second.features[slot], shard.features[9:17].float())
        # Window k's motion is frame k -> k+1 and the next one: the stored flow two frames on.
        assert torch.equal(second.flow[slot], shard.flow[10:18].float())
        # The flow model's teacher: the onset strength of each window's own sound.
        assert torch.equal(second.onsets[slot], shard.window_onsets[8:16])


def test_each_window_sees_the_video_while_it_sounds(prepared: Path) -> None:
    data = PreparedData(prepared)
    shard = data.load(data.records[0])
    window = shard.window_flow
    assert window.shape == shard.flow.shape
    assert torch.equal(window[:-2], shard.flow[2:])  # frame i -> i+1, then one frame of lookahead
    assert not window[-2:].any()  # the last windows have no frames after them
    frames = shard.window_features
    assert torch.equal(frames[:-1], shard.features[1:]) and torch.equal(frames[-1], shard.features[-1])


def test_first_chunk_context_is_silence_and_clip_end_is_masked(prepared: Path) -> None:
    stream = batches(prepared, batch_size=1, chunk_frames=12)
    first = next(stream)
    assert (first.audio[0, :64] == 128).all()
    next(stream)
    last = next(stream)  # chunk 2 of a 31-frame clip: frames 24..30 real, 31..35 past the end
    assert last.mask[0, : 7 * SPF].all()
    assert not last.mask[0, 7 * SPF :].any()
    assert not last.features[0, 7:].any()
    following = next(stream)
    assert following.reset[0]
    assert following.clip_ids[0] != first.clip_ids[0]


def test_every_training_clip_is_visited_each_epoch(prepared: Path) -> None:
    stream = batches(prepared, batch_size=1, chunk_frames=31)  # one chunk per clip
    train = {r.clip_id for r in stream.records}
    seen = [next(stream).clip_ids[0] for _ in range(len(train))]
    assert sorted(seen) == sorted(train)


def test_resume_continues_exactly(prepared: Path) -> None:
    uninterrupted = batches(prepared)
    expected = [next(uninterrupted) for _ in range(12)]
    first = batches(prepared)
    for _ in range(5):
        next(first)
    resumed = batches(prepared)
    resumed.load_state_dict(first.state_dict())
    for want in expected[5:]:
        got = next(resumed)
        assert got.clip_ids == want.clip_ids
        assert torch.equal(got.audio, want.audio)
        assert torch.equal(got.reset, want.reset)


def test_ranks_split_the_clips(prepared: Path) -> None:
    data = PreparedData(prepared)
    records = data.clips()
    options = {"batch_size": 1, "chunk_frames": 31, "lookback": 0}
    ranks = [TBPTTBatches(data, records, rank=r, world_size=2, **options) for r in (0, 1)]
    seen = [{next(stream).clip_ids[0] for _ in range(len(records) // 2)} for stream in ranks]
    assert not seen[0] & seen[1]
    assert len(seen[0] | seen[1]) == len(records)


def test_no_clips_is_a_clear_error(prepared: Path) -> None:
    data = PreparedData(prepared)
    with pytest.raises(ValueError, match="no clips to train on"):
        TBPTTBatches(data, data.clips(category="dog"), batch_size=1, chunk_frames=1, lookback=0)


def test_missing_manifest_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `python -m generation prepare` first"):
        PreparedData(tmp_path)


def test_shard_shapes_are_checked_against_the_config(prepared: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(prepared, copy)
    data = PreparedData(copy)
    record = data.records[0]
    shard = torch.load(copy / record.shard, weights_only=True)
    shard["features"] = shard["features"][:, :100]
    torch.save(shard, copy / record.shard)
    with pytest.raises(ValueError, match=r"features has shape \(31, 100\)"):
        data.load(record)


def test_under_another_clips_video_the_onset_strength_is_still_the_sounds_own(prepared: Path) -> None:
    data = PreparedData(prepared)
    sound, video = (data.load(r) for r in data.clips(split="train")[:2])
    batch = assemble_batch(
        data.config,
        [sound],
        [0],
        torch.ones(1, dtype=torch.bool),
        chunk_frames=4,
        lookback=64,
        levels=256,
        scheme="linear",
        visuals=[video],
    )
    assert torch.equal(batch.onsets[0], sound.window_onsets[:4])
    assert torch.equal(batch.features[0], video.window_features[:4].float())
