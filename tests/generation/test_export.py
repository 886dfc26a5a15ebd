"""`generation export`: the shipped inference checkpoints and the record of how they were made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generation.checkpoint import model_from_checkpoint
from generation.config import FRAME, preset
from generation.export import export_runs
from generation.prepared import PreparedData
from generation.train import TrainConfig, model_config_for, train


def test_export_writes_small_checkpoints_with_their_record(prepared: Path, tmp_path: Path) -> None:
    data = PreparedData(prepared)
    runs = tmp_path / "runs"
    config = TrainConfig(category="drum", preset="tiny", steps=2, batch_size=2, val_every=2)
    train(prepared, runs, model_config_for(data, preset("tiny"), FRAME), config, progress=False)

    rows = export_runs(runs, prepared, tmp_path / "out", progress=False)

    assert rows == json.loads((tmp_path / "out" / "checkpoints.json").read_text())
    (row,) = rows
    exported = tmp_path / "out" / "drum" / "frame.pt"
    assert (row["category"], row["model"], row["file"], row["step"]) == ("drum", "frame", "drum/frame.pt", 2)
    assert row["bytes"] == exported.stat().st_size < (runs / "drum" / "frame" / "best.pt").stat().st_size
    assert row["train_clips"] == len(data.clips(split="train", category="drum"))
    assert row["val_clips"] == len(data.clips(split="val", category="drum"))
    assert row["vgg_weights"] == data.feature_weights
    # int8 rows and fp16 barely move the likelihood; the ablation is of the exported model.
    assert row["val_bits_exported"] == pytest.approx(row["val_bits"], abs=0.02)
    assert row["vision_gain_bits"] == pytest.approx(
        row["val_bits_shuffled_videos"] - row["val_bits_exported"], abs=1e-3
    )
    model, _ = model_from_checkpoint(exported)
    assert model.config.conditioning == FRAME


def test_export_names_the_runs_folder_when_nothing_was_trained(prepared: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train first"):
        export_runs(tmp_path, prepared, tmp_path / "out", progress=False)
