"""Frame-tier health: a tier driven into saturation is found dead; a fresh model's tiers are not."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from generation.__main__ import main as generation_main
from generation.config import FLOW, UNCONDITIONAL, preset
from generation.diagnose import diagnose
from generation.model import SampleRNN
from generation.prepared import PreparedData
from generation.train import TrainConfig, model_config_for, train


def tiny_model(data: PreparedData, conditioning: str) -> SampleRNN:
    torch.manual_seed(0)
    return SampleRNN(model_config_for(data, preset("tiny"), conditioning))


def saturate(model: SampleRNN) -> SampleRNN:
    """The coarsest tier as Adam at too high a learning rate left it: its candidate state pinned at ±1."""
    with torch.no_grad():
        rnn = model.top.rnn
        dim = rnn.hidden_size
        rnn.bias_ih_l0[2 * dim :] = torch.where(torch.arange(dim) % 2 == 0, 40.0, -40.0)
        rnn.bias_ih_l0[dim : 2 * dim] = -40.0  # update gate shut: the state is the candidate
    return model


def test_a_fresh_flow_model_is_healthy_and_reports_what_the_told_onsets_are_worth(prepared: Path) -> None:
    data = PreparedData(prepared)
    records = data.clips(split="val", category="drum")[:2]
    result = diagnose(tiny_model(data, FLOW), data, records)
    assert [t.tier for t in result.tiers] == ["top", "middle"]
    assert all(t.healthy and t.saturated < 0.5 and t.gradient > 0 for t in result.tiers)
    assert math.isfinite(result.bits) and result.told_bits is not None and math.isfinite(result.told_bits)
    assert result.clips == len(records) and "told the audio's own onsets" in result.lines()[0]


def test_a_saturated_tier_is_found_dead(prepared: Path) -> None:
    data = PreparedData(prepared)
    records = data.clips(split="val", category="drum")[:2]
    top, middle = diagnose(saturate(tiny_model(data, UNCONDITIONAL)), data, records).tiers
    assert top.saturated > 0.99 and not top.healthy and top.relative_gradient < 1e-3
    assert middle.healthy  # the tier below still learns; only the coarsest is cut off
    assert diagnose(tiny_model(data, UNCONDITIONAL), data, records).told_bits is None


def test_cli_exit_status_says_whether_a_tier_is_dead(prepared: Path, tmp_path: Path, capsys) -> None:
    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=1, batch_size=2, val_every=1)
    result = train(
        prepared, tmp_path, model_config_for(data, preset("tiny"), UNCONDITIONAL), config, progress=False
    )
    checkpoint = result.run_dir / "last.pt"
    args = ["diagnose", "--checkpoint", str(checkpoint), "--data", str(prepared), "--clips", "2"]
    assert generation_main(args) == 0
    assert "top    tier" in capsys.readouterr().out
    payload = torch.load(checkpoint, weights_only=False)
    model = saturate(tiny_model(data, UNCONDITIONAL))
    payload["model"] = model.state_dict()
    torch.save(payload, tmp_path / "dead.pt")
    assert generation_main([*args[:2], str(tmp_path / "dead.pt"), *args[3:]]) == 1
    assert "DEAD" in capsys.readouterr().out
    assert generation_main([*args, "--split", "train", "--category", "dog"]) == 2
