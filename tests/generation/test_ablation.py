"""The vision ablation: the same model and sounds, each clip's own video vs. another clip's."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from generation.ablation import shuffled_videos, vision_ablation
from generation.config import FRAME, UNCONDITIONAL, preset
from generation.model import SampleRNN
from generation.prepared import PreparedData
from generation.train import model_config_for


def test_shuffled_videos_never_keep_a_clips_own_and_use_each_once(prepared: Path) -> None:
    records = PreparedData(prepared).records
    for seed in range(5):
        videos = shuffled_videos(records, seed)
        assert all(v.clip_id != r.clip_id for r, v in zip(records, videos, strict=True))
        assert sorted(v.clip_id for v in videos) == sorted(r.clip_id for r in records)
    with pytest.raises(ValueError, match="at least two clips"):
        shuffled_videos(records[:1])


@pytest.mark.parametrize("conditioning", [UNCONDITIONAL, FRAME])
def test_vision_ablation_scores_the_same_sounds_under_other_videos(prepared: Path, conditioning: str) -> None:
    data = PreparedData(prepared)
    records = data.clips(category="drum")
    torch.manual_seed(0)
    model = SampleRNN(model_config_for(data, preset("tiny"), conditioning))
    if hasattr(model, "visual"):  # open the per-frame projection, as training does (it starts silent)
        with torch.no_grad():
            model.visual.parametrizations.weight.original0.fill_(1.0)
    result = vision_ablation(model, data, records, device=torch.device("cpu"))
    assert 0 < result["own_video_bits"] < 9
    gap = result["shuffled_video_bits"] - result["own_video_bits"]
    assert result["vision_gain_bits"] == pytest.approx(gap)
    if conditioning == UNCONDITIONAL:
        assert result["vision_gain_bits"] == 0.0
    else:
        # With its projection open, a frame model's predictions move with the features it is given.
        assert result["vision_gain_bits"] != 0.0
