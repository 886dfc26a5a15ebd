"""Pre-training the flow encoder without labels: onset strength as the teacher, on one category."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from generation.checkpoint import FLOW_ENCODER, load_checkpoint
from generation.config import FLOW, ModelConfig, PrepareConfig, SplitConfig, preset
from generation.flow_encoder import FlowEncoder, FlowEncoderConfig
from generation.onset_strength import (
    HOPS_PER_WINDOW,
    floored,
    onset_profile,
    onset_strength,
    pool_profile,
)
from generation.prepare import prepare
from generation.prepared import PreparedData
from generation.synth.dataset import SynthConfig, build_dataset
from generation.train import TrainConfig, model_config_for, train
from generation.train_flow import (
    FLOW_ENCODER_FILE,
    fit_onset_head,
    load_or_pretrain_flow_encoder,
    onset_correlation,
    onset_hop_accuracy,
    onset_predictor,
    predict_onsets,
)

SPF = 1024
# Big enough for the flow to show the stick (at 8x8 it is a pixel), small enough to prepare in seconds.
DRUM_PREPARE = PrepareConfig(frame_size=64, flow_compute_size=64, flow_size=16)


def test_onset_strength_peaks_in_the_window_of_a_strike() -> None:
    rng = np.random.default_rng(0)
    audio = 0.001 * rng.standard_normal(10 * SPF)
    strike = 5 * SPF + 300
    audio[strike : strike + 2000] += np.exp(-np.arange(2000) / 400) * np.sin(np.arange(2000) * 0.3)
    strength = onset_strength(torch.from_numpy(audio).float(), SPF, 10)
    assert strength.shape == (10,)
    assert int(strength.argmax()) == 5
    assert strength[5] > 2.0  # tens of dB within a hop
    assert strength[[0, 1, 2, 3, 4, 6, 7, 8, 9]].max() < 0.5  # the ring fades, the noise is steady


def test_the_onset_profile_places_the_strength_in_the_hop_of_the_strike() -> None:
    rng = np.random.default_rng(0)
    audio = 0.001 * rng.standard_normal(10 * SPF)
    strike = 5 * SPF + 300  # hop 300 // 128 = 2 of window 5
    audio[strike : strike + 2000] += np.exp(-np.arange(2000) / 400) * np.sin(np.arange(2000) * 0.3)
    profile = onset_profile(torch.from_numpy(audio).float(), SPF, 10)
    assert profile.shape == (10, HOPS_PER_WINDOW)
    assert (profile != 0).sum(dim=1).max() == 1  # one hop per window holds its strength
    assert torch.equal(profile.sum(dim=1), onset_strength(torch.from_numpy(audio).float(), SPF, 10))
    assert int(profile[5].argmax()) == 2
    assert torch.equal(pool_profile(profile, 4)[5], torch.tensor([0.0, profile[5, 2], 0.0, 0.0]))
    assert torch.equal(pool_profile(profile, 1)[:, 0], profile.sum(dim=1))


def test_a_floored_profile_keeps_the_event_windows_whole_and_zeroes_the_rest() -> None:
    profile = torch.zeros(4, HOPS_PER_WINDOW)
    profile[0, 2] = 0.9  # a rise that is not an event
    profile[1, 5] = 2.5  # a strike
    profile[2, :2] = 0.6  # two hops that sum past the floor: the window's strength is what counts
    out = floored(profile, 1.0)
    assert torch.equal(out[1], profile[1]) and torch.equal(out[2], profile[2])
    assert not out[0].any() and not out[3].any()
    assert floored(profile, 0.0) is profile  # off: the profile as it is


def test_onset_strength_pads_a_short_clip_with_silence() -> None:
    strength = onset_strength(torch.zeros(3 * SPF - 10), SPF, 3)
    assert strength.shape == (3,) and not strength.any()


@pytest.fixture(scope="module")
def drum_only(tmp_path_factory) -> Path:
    """One category, as a researcher training the paper's one model per category would have."""
    videos = tmp_path_factory.mktemp("drum_videos")
    synth = SynthConfig(clips_per_category=16, duration=3.0, categories=("drum",), width=64, height=64)
    assert not build_dataset(synth, videos, jobs=2, progress=False).failed
    out = tmp_path_factory.mktemp("drum_prepared")
    report = prepare(
        videos, out, DRUM_PREPARE, split=SplitConfig(val_ratio=0.2, test_ratio=0.2), jobs=2, progress=False
    )
    assert not report.skipped
    return out


def _event_windows(videos: Path, clip_id: str, num_frames: int) -> torch.Tensor:
    sidecar = json.loads((videos / "drum" / f"{clip_id}.json").read_text())
    windows = torch.zeros(num_frames)
    for event in sidecar["events"]:
        windows[min(num_frames - 1, math.floor(event["time"] * sidecar["fps"]))] = 1.0
    return windows


@pytest.fixture(scope="module")
def one_category_run(drum_only: Path, tmp_path_factory) -> tuple[Path, float]:
    """A flow model trained on the one category: its flow encoder is pre-trained on first use."""
    runs = tmp_path_factory.mktemp("drum_runs")
    data = PreparedData(drum_only)
    model_config = model_config_for(
        data, preset("tiny", flow_stack=5, flow_channels=8, flow_feature_dim=16), FLOW
    )
    config = TrainConfig(
        category="drum",
        preset="tiny",
        steps=4,
        batch_size=4,
        chunk_frames=2,
        val_every=4,
        flow_encoder_steps=600,
    )
    result = train(drum_only, runs, model_config, config, progress=False)
    return runs, result.best_val_bits


def test_the_flow_model_trains_on_one_category(drum_only: Path, one_category_run: tuple[Path, float]) -> None:
    runs, bits = one_category_run
    assert PreparedData(drum_only).categories == ["drum"]
    assert (runs / FLOW_ENCODER_FILE).is_file() and (runs / "drum" / "flow" / "best.pt").is_file()
    assert 0 < bits < 9


def test_the_pretrained_encoder_knows_when_the_stick_strikes(
    drum_only: Path, one_category_run: tuple[Path, float]
) -> None:
    data = PreparedData(drum_only)
    checkpoint = load_checkpoint(one_category_run[0] / FLOW_ENCODER_FILE, kind=FLOW_ENCODER)
    assert checkpoint["categories"] == ["drum"]
    assert checkpoint["val_onset_correlation"] > 0.3
    assert checkpoint["onset_hops"] == 1  # the default: one cue per window
    # Judged on held-out clips against the event times the synthesiser wrote, which it never saw.
    encoder = onset_predictor(checkpoint)
    videos = Path(data.records[0].source).parent.parent
    held_out = data.clips(split="test")
    predicted = torch.cat([predict_onsets(encoder, data.load(r).window_flow) for r in held_out])
    assert predicted.shape[1] == 1
    events = torch.cat([_event_windows(videos, r.clip_id, r.num_frames) for r in held_out])
    correlation = float(torch.corrcoef(torch.stack([predicted.sum(dim=1), events]))[0, 1])
    assert correlation > 0.3, correlation
    assert onset_hop_accuracy(encoder, data, held_out) == 1.0  # one hop: nothing to misplace


def test_weights_from_elsewhere_get_an_onset_head_fitted_on_the_training_clips(
    drum_only: Path, one_category_run: tuple[Path, float]
) -> None:
    data = PreparedData(drum_only)
    checkpoint = load_checkpoint(one_category_run[0] / FLOW_ENCODER_FILE, kind=FLOW_ENCODER)
    exported = {"config": checkpoint["config"], "state_dict": checkpoint["state_dict"]}  # no head
    fitted = onset_predictor(exported | {"onset_head": fit_onset_head(exported, data)})
    train = data.clips(split="train")
    # Least squares is the best linear head on the clips it is fitted to: at least as good there as
    # the head trained with the trunk (by a sampled, robust loss).
    assert (
        onset_correlation(fitted, data, train)
        >= onset_correlation(onset_predictor(checkpoint), data, train) - 1e-3
    )
    assert onset_correlation(fitted, data, data.clips(split="test")) > 0.3
    # With hops, the hop of each event is fitted too: on the clips it was fitted to, it places them
    # better than a guess (to within one hop of 8: about 0.34).
    head = fit_onset_head(exported, data, onset_hops=HOPS_PER_WINDOW)
    assert head["onset.weight"].shape == (1 + HOPS_PER_WINDOW, checkpoint["config"]["feature_dim"])
    placed = onset_predictor(exported | {"onset_head": head, "onset_hops": HOPS_PER_WINDOW})
    assert onset_hop_accuracy(placed, data, train) > 0.5


def test_an_encoder_of_other_hops_than_the_model_is_pre_trained_again(
    drum_only: Path, one_category_run: tuple[Path, float], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / FLOW_ENCODER_FILE).write_bytes((one_category_run[0] / FLOW_ENCODER_FILE).read_bytes())
    data = PreparedData(drum_only)
    hops = model_config_for(data, preset("tiny", flow_stack=5, flow_channels=8, flow_feature_dim=16), FLOW)
    hops = hops.replace(onset_hops=HOPS_PER_WINDOW)
    checkpoint = load_or_pretrain_flow_encoder(data, runs, hops, steps=20, progress=False)
    assert checkpoint["onset_hops"] == HOPS_PER_WINDOW and checkpoint["steps"] == 20
    assert 0.0 <= checkpoint["val_onset_hop_accuracy"] <= 1.0
    predicted = predict_onsets(onset_predictor(checkpoint), data.load(data.records[0]).window_flow)
    assert predicted.shape == (data.records[0].num_frames, HOPS_PER_WINDOW)


def test_an_encoder_of_another_onset_floor_is_pre_trained_again_and_learns_the_floored_targets(
    drum_only: Path, one_category_run: tuple[Path, float], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / FLOW_ENCODER_FILE).write_bytes((one_category_run[0] / FLOW_ENCODER_FILE).read_bytes())
    data = PreparedData(drum_only)
    base = model_config_for(data, preset("tiny", flow_stack=5, flow_channels=8, flow_feature_dim=16), FLOW)
    assert load_or_pretrain_flow_encoder(data, runs, base, steps=20, progress=False)["steps"] == 600  # reused
    checkpoint = load_or_pretrain_flow_encoder(
        data, runs, base.replace(onset_floor=1.0), steps=20, progress=False
    )
    assert checkpoint["onset_floor"] == 1.0 and checkpoint["steps"] == 20
    # Reused once it fits, and external weights get a head fitted to the floored targets.
    again = load_or_pretrain_flow_encoder(data, runs, base.replace(onset_floor=1.0), steps=5, progress=False)
    assert again["steps"] == 20
    given = tmp_path / "given.pt"
    torch.save({"config": checkpoint["config"], "state_dict": checkpoint["state_dict"]}, given)
    fitted = load_or_pretrain_flow_encoder(
        data, runs, base.replace(onset_floor=1.0), given=given, progress=False
    )
    assert fitted["onset_floor"] == 1.0 and "onset.weight" in fitted["onset_head"]


def test_a_stabilised_encoder_does_not_see_the_camera_shake() -> None:
    torch.manual_seed(0)
    config = FlowEncoderConfig(stack=3, size=16, channels=4, feature_dim=8, stabilise=True)
    encoder = FlowEncoder(config).eval()
    stacks = torch.zeros(2, 3, 2, 16, 16)
    stacks[:, :, 1, 6:9, 7] = -3.0  # a stick coming down, three pixels tall
    shaken = stacks + torch.tensor([1.5, -0.7]).view(1, 1, 2, 1, 1)  # the whole frame moved
    assert torch.allclose(encoder(shaken), encoder(stacks), atol=1e-6)
    raw = FlowEncoder(FlowEncoderConfig(3, 16, 4, 8)).eval()
    raw.load_state_dict(encoder.state_dict())
    assert not torch.allclose(raw(shaken), raw(stacks), atol=1e-3)  # without it the shake is seen


def test_encoders_and_models_written_before_stabilising_read_as_unstabilised(
    drum_only: Path, one_category_run: tuple[Path, float], tmp_path: Path
) -> None:
    old = {"stack": 5, "size": 16, "channels": 8, "feature_dim": 16}  # a config of then: no key
    assert FlowEncoderConfig(**old).stabilise is False
    assert ModelConfig.from_dict({"conditioning": FLOW}).flow_stabilise is False
    # A cached encoder of another config than the model's is pre-trained again, not refused later.
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / FLOW_ENCODER_FILE).write_bytes((one_category_run[0] / FLOW_ENCODER_FILE).read_bytes())
    data = PreparedData(drum_only)
    base = model_config_for(data, preset("tiny", flow_stack=5, flow_channels=8, flow_feature_dim=16), FLOW)
    checkpoint = load_or_pretrain_flow_encoder(
        data, runs, base.replace(flow_stabilise=True), steps=20, progress=False
    )
    assert checkpoint["config"]["stabilise"] is True and checkpoint["steps"] == 20


def test_onset_floor_is_checked() -> None:
    with pytest.raises(ValueError, match="onset_floor"):
        preset("tiny", conditioning=FLOW, onset_floor=-1.0)


def test_onset_teacher_share_is_checked() -> None:
    with pytest.raises(ValueError, match="onset_teacher"):
        TrainConfig(category="drum", onset_teacher=1.5)
