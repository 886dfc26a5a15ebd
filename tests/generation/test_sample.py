"""Generation: the fast step-wise path equals the teacher-forced definition; seeds reproduce."""

from __future__ import annotations

import pytest
import torch

from generation.config import CONDITIONINGS, preset
from generation.model import SampleRNN
from generation.sample import Generator, SampleConfig
from tests.generation.oracle import reference_generate

B, FEATURES, FLOW_SIZE, SPF = 2, 24, 8, 64


def conditioned_inputs(frames: int) -> dict:
    g = torch.Generator().manual_seed(5)
    return {
        "features": torch.rand(B, frames, FEATURES, generator=g),
        "flow": torch.randn(B, frames, 2, FLOW_SIZE, FLOW_SIZE, generator=g),
        "clip_features": torch.rand(B, frames, FEATURES, generator=g),
        "clip_frames": torch.full((B,), frames),
    }


def tiny_model(conditioning: str, **changes: object) -> SampleRNN:
    torch.manual_seed(0)
    # 4 hops: the 4 coarse steps of a 64-sample frame, one each; with the phase cue, one hop, so that
    # its 4 steps have 4 places in it.
    hops = 1 if changes.get("onset_phase") else 4
    config = preset(
        "tiny",
        conditioning=conditioning,
        feature_dim=FEATURES,
        flow_size=FLOW_SIZE,
        video_frame_samples=SPF,
        onset_hops=hops,
        **changes,
    )
    return SampleRNN(config).eval()


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_fast_path_equals_the_teacher_forced_definition(conditioning: str) -> None:
    model = tiny_model(conditioning)
    x = conditioned_inputs(frames=2)
    fast = Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x)
    slow = reference_generate(model, 2 * SPF, batch_size=B, seed=3, **x)
    assert torch.equal(fast, slow)


@pytest.mark.parametrize(
    ("middle", "phase"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["top-tier-cue", "and-middle-tier-cue", "with-phase", "middle-and-phase"],
)
def test_onset_guided_sampling_equals_the_teacher_forced_definition(middle: bool, phase: bool) -> None:
    model = tiny_model("flow", onset_middle=middle, onset_phase=phase)
    with torch.no_grad():
        model.flow_encoder.onset.bias[0] = 5.0  # strong cues: events for the guidance to act on
    x = conditioned_inputs(frames=2)
    fast = Generator(model).generate(2 * SPF, batch_size=B, seed=3, onset_guidance=5.0, **x)
    slow = reference_generate(model, 2 * SPF, batch_size=B, seed=3, onset_guidance=5.0, **x)
    assert torch.equal(fast, slow)
    assert not torch.equal(fast, Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x))


@pytest.mark.parametrize(
    ("middle", "phase"),
    [(False, False), (True, False), (False, True)],
    ids=["top-tier-cue", "and-middle-tier-cue", "with-phase"],
)
def test_onset_guidance_of_a_model_trained_with_cue_dropout_steers_away_from_its_no_cue_input(
    middle: bool, phase: bool
) -> None:
    model = tiny_model("flow", onset_null=True, onset_middle=middle, onset_phase=phase)
    with torch.no_grad():
        model.onset_null.normal_(0.0, 3.0)  # as if learned: unlike any cue the video gives
    x = conditioned_inputs(frames=2)
    fast = Generator(model).generate(2 * SPF, batch_size=B, seed=3, onset_guidance=3.0, **x)
    slow = reference_generate(model, 2 * SPF, batch_size=B, seed=3, onset_guidance=3.0, **x)
    assert torch.equal(fast, slow)
    assert not torch.equal(fast, Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x))


def test_the_middle_tier_hears_the_onset_cue_without_the_coarsest_tier() -> None:
    model = tiny_model("flow", onset_middle=True)
    with torch.no_grad():  # the coarsest tier's cue silenced: only the middle tier's path is left
        model.onset_input.parametrizations.weight.original0.zero_()
        model.onset_input.bias.zero_()
    x = conditioned_inputs(frames=2)
    quiet = Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x)
    assert torch.equal(quiet, reference_generate(model, 2 * SPF, batch_size=B, seed=3, **x))
    with torch.no_grad():
        model.flow_encoder.onset.bias[0] = 5.0  # the video now predicts strikes everywhere
    assert not torch.equal(Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x), quiet)


def test_onset_guidance_changes_nothing_where_the_video_shows_no_event() -> None:
    model = tiny_model("flow")
    with torch.no_grad():
        model.flow_encoder.onset.bias[0] = -5.0  # every window's predicted strength far below an event
    x = conditioned_inputs(frames=2)
    plain = Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x)
    assert torch.equal(
        Generator(model).generate(2 * SPF, batch_size=B, seed=3, onset_guidance=3.0, **x), plain
    )


def test_onset_guidance_needs_an_onset_cue_and_a_scale_of_at_least_one() -> None:
    with pytest.raises(ValueError, match="onset guidance needs a flow-based model"):
        Generator(tiny_model("frame")).generate(
            SPF, batch_size=B, onset_guidance=2.0, **conditioned_inputs(1)
        )
    with pytest.raises(ValueError, match="onset_guidance must be >= 1"):
        SampleConfig(onset_guidance=0.5)


def test_same_seed_same_audio_other_seed_other_audio() -> None:
    model = tiny_model("frame")
    x = conditioned_inputs(frames=2)
    generator = Generator(model)
    first = generator.generate(2 * SPF, batch_size=B, seed=1, **x)
    assert torch.equal(first, generator.generate(2 * SPF, batch_size=B, seed=1, **x))
    assert not torch.equal(first, generator.generate(2 * SPF, batch_size=B, seed=2, **x))


def test_temperature_zero_is_greedy_and_deterministic() -> None:
    model = tiny_model("unconditional")
    a = Generator(model).generate(SPF, batch_size=B, temperature=0, seed=1)
    b = Generator(model).generate(SPF, batch_size=B, temperature=0, seed=2)
    assert torch.equal(a, b)
    assert torch.equal(a[0], a[1])  # no video, same start: every stream the same


def test_partial_video_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="whole video frames"):
        Generator(tiny_model("unconditional")).generate(SPF + 16, batch_size=1)


def test_sample_command_writes_a_wav_per_clip_and_its_listing_and_resumes(prepared, tmp_path) -> None:
    import json

    import soundfile

    from generation.__main__ import main as generation_main
    from generation.prepared import PreparedData
    from generation.train import TrainConfig, model_config_for, train
    from generation.weights import sha256_file

    data = PreparedData(prepared)
    result = train(
        prepared,
        tmp_path / "runs",
        model_config_for(data, preset("tiny"), "frame"),
        TrainConfig(category="drum", steps=2, batch_size=2, val_every=2),
        progress=False,
    )
    checkpoint = result.run_dir / "best.pt"
    args = [
        "sample",
        "--checkpoint",
        str(checkpoint),
        "--data",
        str(prepared),
        "--split",
        "test",
        "--batch-size",
        "4",
        "--seed",
        "7",
    ]
    assert generation_main([*args, "--out", str(tmp_path / "a")]) == 0
    record = data.clips(split="test", category="drum")[0]
    wav = tmp_path / "a" / "drum" / f"{record.clip_id}.wav"
    audio, rate = soundfile.read(wav, dtype="float32")
    assert rate == 16_000
    assert audio.shape == (record.valid_samples,)
    # Stimuli are rendered by the study (import_stimuli), not here.
    assert not list((tmp_path / "a").rglob("*.mp4"))
    summary = json.loads((tmp_path / "a" / "samples.json").read_text())
    assert (summary["categories"], summary["model"], len(summary["clips"])) == (["drum"], "frame", 1)
    assert summary["checkpoints"] == {"drum": sha256_file(checkpoint)}  # which model made them

    # Same seed, same audio; here as FLAC (what the demo ships), listed under its own name.
    assert generation_main([*args, "--audio-format", "flac", "--out", str(tmp_path / "b")]) == 0
    flac = tmp_path / "b" / "drum" / f"{record.clip_id}.flac"
    assert (soundfile.read(flac, dtype="float32")[0] == audio).all()
    listed = json.loads((tmp_path / "b" / "samples.json").read_text())["clips"][0]["wav"]
    assert listed == f"drum/{record.clip_id}.flac"
    before = wav.stat().st_mtime_ns
    assert generation_main([*args, "--out", str(tmp_path / "a")]) == 0
    assert wav.stat().st_mtime_ns == before  # finished clips are skipped
    # Another category sampled into the same folder joins the listing instead of replacing it.
    assert generation_main([*args, "--category", "fireworks", "--out", str(tmp_path / "a")]) == 0
    summary = json.loads((tmp_path / "a" / "samples.json").read_text())
    assert summary["categories"] == ["drum", "fireworks"] == sorted(summary["checkpoints"])
    assert sorted(c["category"] for c in summary["clips"]) == ["drum", "fireworks"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: the graph-captured step")
@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_cuda_graph_step_equals_the_eager_step(conditioning: str) -> None:
    model = tiny_model(conditioning).cuda()
    x = {k: v.cuda() for k, v in conditioned_inputs(frames=2).items()}
    graphed = Generator(model).generate(2 * SPF, batch_size=B, seed=3, **x)
    eager = Generator(model, cuda_graphs=False).generate(2 * SPF, batch_size=B, seed=3, **x)
    assert torch.equal(graphed, eager)
