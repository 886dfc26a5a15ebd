"""Training: learning, self-describing checkpoints, exact resume, DDP on CPU, the command line."""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from generation.__main__ import main as generation_main
from generation.checkpoint import load_checkpoint, model_from_checkpoint
from generation.config import FLOW, FRAME, SEQ2SEQ, UNCONDITIONAL, preset
from generation.prepared import PreparedData
from generation.train import TrainConfig, evaluate_bits, model_config_for, told_onsets, train
from generation.train_flow import FLOW_ENCODER_FILE, load_or_pretrain_flow_encoder

REPO = Path(__file__).resolve().parents[2]


def tiny(data: PreparedData, conditioning: str):
    return model_config_for(data, preset("tiny"), conditioning)


@pytest.fixture(scope="module")
def flow_encoder(prepared: Path, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("flow_runs")
    data = PreparedData(prepared)
    checkpoint = load_or_pretrain_flow_encoder(data, runs, tiny(data, FLOW), steps=600, progress=False)
    assert -1.0 <= checkpoint["val_onset_correlation"] <= 1.0
    assert checkpoint["categories"] == data.categories
    return runs / FLOW_ENCODER_FILE


def test_a_few_hundred_steps_bring_nll_far_below_8_bits(prepared: Path, tmp_path: Path) -> None:
    data = PreparedData(prepared)
    clip = data.clips(split="train", category="drum")
    assert len(clip) == 1
    config = TrainConfig(category="drum", steps=300, batch_size=4, val_every=300, lr=3e-3)
    model_config = tiny(data, UNCONDITIONAL)
    torch.manual_seed(0)
    from generation.model import SampleRNN

    untrained = evaluate_bits(SampleRNN(model_config), data, clip, chunk_frames=1, device=torch.device("cpu"))
    result = train(prepared, tmp_path, model_config, config, progress=False)
    model, _ = model_from_checkpoint(result.run_dir / "last.pt")
    trained = evaluate_bits(model, data, clip, chunk_frames=1, device=torch.device("cpu"))
    assert untrained == pytest.approx(8.0, abs=0.3)  # near uniform over 256 levels
    assert trained < 3.0, trained
    assert (result.run_dir / "metrics.csv").read_text().count("\n") >= 3


def test_checkpoint_round_trip_is_bit_exact(prepared: Path, tmp_path: Path, flow_encoder: Path) -> None:
    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=3, batch_size=2, val_every=3)
    result = train(prepared, tmp_path, tiny(data, FLOW), config, flow_encoder=flow_encoder, progress=False)
    payload = load_checkpoint(result.run_dir / "last.pt")
    assert payload["step"] == 3
    assert payload["model_config"]["conditioning"] == FLOW
    assert payload["train_config"]["category"] == "drum"
    assert math.isfinite(payload["best_val_bits"])
    model, _ = model_from_checkpoint(result.run_dir / "last.pt")
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, payload["model"][name]), name
    again, _ = model_from_checkpoint(result.run_dir / "last.pt")
    clip = data.clips(split="val", category="drum")
    device = torch.device("cpu")
    assert evaluate_bits(model, data, clip, chunk_frames=1, device=device) == evaluate_bits(
        again, data, clip, chunk_frames=1, device=device
    )


@pytest.mark.parametrize("conditioning", [SEQ2SEQ, FLOW])
def test_resume_continues_exactly_like_an_uninterrupted_run(
    prepared: Path, tmp_path: Path, flow_encoder: Path, conditioning: str
) -> None:
    data = PreparedData(prepared)
    model_config = tiny(data, conditioning)
    # Chunks of 12 frames in 31-frame clips: the interruption falls in the middle of clips.
    whole = TrainConfig(category="fireworks", steps=10, batch_size=2, chunk_frames=12, val_every=5)
    train(prepared, tmp_path / "a", model_config, whole, flow_encoder=flow_encoder, progress=False)
    half = TrainConfig(category="fireworks", steps=5, batch_size=2, chunk_frames=12, val_every=5)
    train(prepared, tmp_path / "b", model_config, half, flow_encoder=flow_encoder, progress=False)
    train(prepared, tmp_path / "b", model_config, whole, flow_encoder=flow_encoder, progress=False)
    a = load_checkpoint(tmp_path / "a" / "fireworks" / conditioning / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "fireworks" / conditioning / "last.pt")
    assert a["step"] == b["step"] == 10
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert a["data_state"] == b["data_state"]
    assert a["last_val_bits"] == b["last_val_bits"]


def test_the_learning_rate_decays_over_the_last_steps_and_resumes_mid_decay(
    prepared: Path, tmp_path: Path
) -> None:
    config = TrainConfig(category="drum", steps=10, lr=1e-3, lr_decay_steps=4)
    assert [config.learning_rate(step) for step in range(10)] == pytest.approx(
        [1e-3] * 6 + [1e-3, 7.5e-4, 5e-4, 2.5e-4]
    )
    assert TrainConfig(category="drum", steps=10).learning_rate(9) == 3e-4  # constant by default
    with pytest.raises(ValueError, match="lr_decay_steps"):
        TrainConfig(category="drum", steps=10, lr_decay_steps=11)
    # Interrupted in the middle of the decay, the run goes on exactly as an uninterrupted one: the rate
    # is the step's, not a scheduler's state.
    data = PreparedData(prepared)
    model_config = tiny(data, UNCONDITIONAL)
    whole = TrainConfig(category="drum", steps=6, batch_size=2, val_every=3, lr_decay_steps=4)
    train(prepared, tmp_path / "a", model_config, whole, progress=False)
    before_decay = dataclasses.replace(whole, steps=3, lr_decay_steps=0)  # its steps 0-2 run at full rate too
    train(prepared, tmp_path / "b", model_config, before_decay, progress=False)
    train(prepared, tmp_path / "b", model_config, whole, progress=False)
    a, b = (load_checkpoint(tmp_path / run / "drum" / UNCONDITIONAL / "last.pt") for run in "ab")
    assert a["step"] == b["step"] == 6
    assert a["optimizer"]["param_groups"][0]["lr"] == b["optimizer"]["param_groups"][0]["lr"] == 3e-4 / 4
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name


def test_resume_refuses_another_model_config(prepared: Path, tmp_path: Path) -> None:
    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=1, batch_size=2, val_every=1)
    train(prepared, tmp_path, tiny(data, UNCONDITIONAL), config, progress=False)
    other = model_config_for(data, preset("tiny", dim=48), UNCONDITIONAL)
    with pytest.raises(ValueError, match="holds a model with another config"):
        train(prepared, tmp_path, other, config, progress=False)


def test_flow_only_options_leave_the_other_models_as_they_are(prepared: Path) -> None:
    # `train --model all --onset-floor 1.0` must train (and resume) the very frame, seq2seq and
    # unconditional models a run without it trains: only the flow model reads these options.
    data = PreparedData(prepared)
    cued = preset("tiny", onset_floor=1.0, onset_hops=8, flow_stabilise=True, onset_middle=True)
    for conditioning in (UNCONDITIONAL, SEQ2SEQ):
        assert model_config_for(data, cued, conditioning) == tiny(data, conditioning)
    flow = model_config_for(data, cued, FLOW)
    assert (flow.onset_floor, flow.onset_hops, flow.flow_stabilise, flow.onset_middle) == (1.0, 8, True, True)


def test_a_run_written_before_onset_conditioning_existed_resumes(prepared: Path, tmp_path: Path) -> None:
    data = PreparedData(prepared)
    train(
        prepared,
        tmp_path,
        tiny(data, UNCONDITIONAL),
        TrainConfig(category="drum", steps=1, batch_size=2, val_every=1),
        progress=False,
    )
    last = tmp_path / "drum" / "unconditional" / "last.pt"
    payload = torch.load(last, weights_only=True)
    del payload["model_config"]["onset_conditioning"]
    torch.save(payload, last)
    more = TrainConfig(category="drum", steps=2, batch_size=2, val_every=1)
    assert train(prepared, tmp_path, tiny(data, UNCONDITIONAL), more, progress=False).step == 2


def test_distributed_data_parallel_with_two_gloo_processes(prepared: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "generation",
        "train",
        "--data",
        str(prepared),
        "--runs",
        str(tmp_path),
        "--category",
        "drum",
        "--model",
        SEQ2SEQ,
        "--preset",
        "tiny",
        "--batch-size",
        "2",
        "--val-every",
        "2",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    first = subprocess.run(
        [*command, "--steps", "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoint = load_checkpoint(tmp_path / "drum" / SEQ2SEQ / "last.pt")
    assert checkpoint["step"] == 2
    assert len(checkpoint["data_state"]) == len(checkpoint["stream_state"]) == 2  # one per rank
    resumed = subprocess.run(
        [*command, "--steps", "4"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert load_checkpoint(tmp_path / "drum" / SEQ2SEQ / "last.pt")["step"] == 4


def test_cli_trains_every_category_and_model(
    prepared: Path, tmp_path: Path, flow_encoder: Path, capsys
) -> None:
    code = generation_main(
        [
            "train",
            "--data",
            str(prepared),
            "--runs",
            str(tmp_path),
            "--category",
            "all",
            "--model",
            "all",
            "--preset",
            "tiny",
            "--steps",
            "1",
            "--val-every",
            "1",
            "--batch-size",
            "2",
            "--flow-encoder",
            str(flow_encoder),
        ]
    )
    assert code == 0
    for category in ("chainsaw", "drum", "fireworks", "helicopter"):
        for model in ("unconditional", "frame", "seq2seq", "flow"):
            assert (tmp_path / category / model / "best.pt").exists(), (category, model)
    assert "drum/flow: step 1" in capsys.readouterr().out


def test_cli_names_an_unknown_category(prepared: Path, tmp_path: Path, capsys) -> None:
    assert (
        generation_main(["train", "--data", str(prepared), "--runs", str(tmp_path), "--category", "dog"]) == 2
    )
    assert "--category 'dog' is not in" in capsys.readouterr().err


def test_told_onsets_replace_the_prediction_and_weigh_their_windows_only_in_told_streams() -> None:
    onsets = torch.zeros(2, 2, 4)  # (streams, windows, hops): each window's strength in one hop
    onsets[0, 1, 2], onsets[1, 0, 0], onsets[1, 1, 3] = 3.0, 2.0, 0.5
    given, weight = told_onsets(onsets, torch.tensor([True, False]), onset_weight=4.0, samples_per_frame=3)
    assert torch.equal(given[0], onsets[0]) and given[1].isnan().all()
    assert torch.equal(weight[0], torch.tensor([1.0, 1.0, 1.0, 13.0, 13.0, 13.0]))
    assert torch.equal(weight[1], torch.ones(6))


def test_cue_dropout_trains_the_no_cue_input_of_the_flow_model_only(
    prepared: Path, tmp_path: Path, flow_encoder: Path
) -> None:
    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=4, batch_size=4, val_every=4, onset_dropout=0.5, seed=1)
    result = train(prepared, tmp_path, tiny(data, FLOW), config, flow_encoder=flow_encoder, progress=False)
    model, _ = model_from_checkpoint(result.run_dir / "last.pt")
    assert model.config.onset_null
    assert model.onset_null.abs().sum() > 0  # started at zero: some stream was given it and it learned
    other = train(prepared, tmp_path, tiny(data, SEQ2SEQ), config, progress=False)
    assert not model_from_checkpoint(other.run_dir / "last.pt")[0].config.onset_null
    with pytest.raises(ValueError, match="onset_dropout must be in"):
        TrainConfig(category="drum", onset_dropout=1.0)
    untrained_null = tiny(data, FLOW).replace(onset_null=True)
    with pytest.raises(ValueError, match="needs onset_dropout > 0"):
        train(prepared, tmp_path / "null", untrained_null, TrainConfig(category="drum"))


def test_cli_onset_middle_phase_and_floor_build_their_cues(
    prepared: Path, tmp_path: Path, flow_encoder: Path
) -> None:
    args = [
        "train",
        "--data",
        str(prepared),
        "--runs",
        str(tmp_path),
        "--category",
        "drum",
        "--model",
        "flow",
    ]
    args += ["--preset", "tiny", "--steps", "3", "--val-every", "3", "--batch-size", "2", "--seed", "1"]
    cues = ["--onset-middle", "--onset-phase", "--onset-floor", "1.0"]
    assert generation_main([*args, "--flow-encoder", str(flow_encoder), *cues]) == 0
    model, _ = model_from_checkpoint(tmp_path / "drum" / "flow" / "last.pt")
    assert model.config.onset_middle and hasattr(model, "onset_middle_input")
    assert model.config.onset_phase and hasattr(model, "onset_phase_input")
    assert model.config.onset_floor == 1.0


def test_training_warns_when_a_frame_tier_dies(prepared: Path, tmp_path: Path, caplog) -> None:
    from tests.generation.test_diagnose import saturate

    data = PreparedData(prepared)
    with caplog.at_level("WARNING", logger="generation.train"):
        result = train(
            prepared,
            tmp_path,
            tiny(data, UNCONDITIONAL),
            TrainConfig(category="drum", steps=1, batch_size=2, val_every=1),
            progress=False,
        )
    assert "tier is dead" not in caplog.text
    last = result.run_dir / "last.pt"
    payload = torch.load(last, weights_only=False)
    model, _ = model_from_checkpoint(last)
    payload["model"] = saturate(model).state_dict()  # the coarsest tier as too high a learning rate leaves it
    torch.save(payload, last)
    with caplog.at_level("WARNING", logger="generation.train"):
        train(
            prepared,
            tmp_path,
            tiny(data, UNCONDITIONAL),
            TrainConfig(category="drum", steps=2, batch_size=2, val_every=1),
            progress=False,
        )
    assert "step 2: the top tier is dead" in caplog.text and "--lr" in caplog.text
    assert "middle tier is dead" not in caplog.text


def test_a_warm_started_model_begins_as_the_unconditional_one_on_the_same_clips(
    prepared: Path, tmp_path: Path
) -> None:
    # The frame model's vision enters silent, so one step after a warm start at step 3 its sound tiers
    # are exactly where the unconditional model's are after its own step 3 -> 4: same weights, Adam
    # moments, batch and carried state. (No clipping: the frame model's gain gradient would change the
    # clip's scale.)
    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=4, batch_size=2, val_every=4, warm_start=3, grad_clip=1e9)
    train(prepared, tmp_path, tiny(data, UNCONDITIONAL), config, progress=False)
    snapshot = load_checkpoint(tmp_path / "drum" / UNCONDITIONAL / "step-3.pt")
    assert snapshot["step"] == 3
    train(prepared, tmp_path, tiny(data, FRAME), config, progress=False)
    plain, warm = (load_checkpoint(tmp_path / "drum" / m / "last.pt") for m in (UNCONDITIONAL, FRAME))
    assert warm["step"] == plain["step"] == 4
    assert warm["train_config"]["warm_start"] == 3
    assert warm["data_state"] == plain["data_state"]
    shared = [name for name in plain["model"] if name in warm["model"]]
    assert any(name.startswith("mlp.") for name in shared) and len(shared) == len(plain["model"])
    for name in shared:
        assert torch.equal(warm["model"][name], plain["model"][name]), name
    assert not torch.equal(warm["model"]["visual.bias"], torch.zeros_like(warm["model"]["visual.bias"]))


@pytest.mark.parametrize("conditioning", [SEQ2SEQ, FLOW])
def test_warm_started_encoder_models_train_on_from_the_unconditional_step(
    prepared: Path, tmp_path: Path, flow_encoder: Path, conditioning: str
) -> None:
    data = PreparedData(prepared)
    config = TrainConfig(category="fireworks", steps=4, batch_size=2, val_every=4, warm_start=2)
    with pytest.raises(FileNotFoundError, match="Train the unconditional model first"):
        train(prepared, tmp_path, tiny(data, conditioning), config, flow_encoder=flow_encoder, progress=False)
    train(prepared, tmp_path, tiny(data, UNCONDITIONAL), config, progress=False)
    result = train(
        prepared, tmp_path, tiny(data, conditioning), config, flow_encoder=flow_encoder, progress=False
    )
    assert result.step == 4 and math.isfinite(result.best_val_bits)
    with (result.run_dir / "metrics.csv").open() as f:
        logged = [int(row["step"]) for row in csv.DictReader(f)]
    assert logged and min(logged) > 2  # its own steps are 3 and 4 only
    with pytest.raises(ValueError, match="warm_start"):
        TrainConfig(category="drum", steps=3, warm_start=3)
