"""Negative log-likelihood of the real test audio under each trained model, in bits per sample
(teacher-forced, whole clips; 8.0 = uniform over 256 levels), as training reports it on validation —
with each clip's own video, and with the videos shuffled across clips (`generation.ablation`): the
gap is what the model takes from the video."""

from __future__ import annotations

from pathlib import Path

import torch

from generation.ablation import vision_ablation
from generation.checkpoint import model_from_checkpoint
from generation.prepared import PreparedData


def nll_of_test_audio(
    runs: str | Path, data: str | Path, *, split: str = "test", device: str = "cpu"
) -> list[dict]:
    """One row per RUNS/<category>/<model>/best.pt (or last.pt) with test clips in the prepared data."""
    prepared = PreparedData(data)
    rows = []
    for run in sorted(p for p in Path(runs).glob("*/*") if p.is_dir()):
        checkpoint = run / "best.pt" if (run / "best.pt").exists() else run / "last.pt"
        records = prepared.clips(split=split, category=run.parent.name)
        if not checkpoint.exists() or not records:
            continue
        model, payload = model_from_checkpoint(checkpoint, device)
        ablation = vision_ablation(model, prepared, records, device=torch.device(device))
        rows.append(
            {
                "category": run.parent.name,
                "model": run.name,
                "nll_bits_per_sample": ablation["own_video_bits"],
                "nll_shuffled_video": ablation["shuffled_video_bits"],
                "vision_gain_bits": ablation["vision_gain_bits"],
                "clips": len(records),
                "checkpoint_step": payload.get("step"),
            }
        )
    return rows
