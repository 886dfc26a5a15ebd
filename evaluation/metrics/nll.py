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


def _checkpoints(runs: Path) -> list[tuple[str, str, Path]]:
    """(category, model, checkpoint) of a runs folder (<category>/<model>/best.pt, else last.pt) or of
    an exported one (<category>/<model>.pt, as `generation export` and demo/checkpoints lay them out)."""
    found = []
    for run in sorted(p for p in runs.glob("*/*") if p.is_dir()):
        checkpoint = run / "best.pt" if (run / "best.pt").exists() else run / "last.pt"
        if checkpoint.exists():
            found.append((run.parent.name, run.name, checkpoint))
    for checkpoint in sorted(runs.glob("*/*.pt")):
        found.append((checkpoint.parent.name, checkpoint.stem, checkpoint))
    return found


def nll_of_test_audio(
    runs: str | Path, data: str | Path, *, split: str = "test", device: str = "cpu"
) -> list[dict]:
    """One row per model of RUNS (a runs folder or exported checkpoints) with test clips in the
    prepared data."""
    prepared = PreparedData(data)
    rows = []
    for category, name, checkpoint in _checkpoints(Path(runs)):
        records = prepared.clips(split=split, category=category)
        if not records:
            continue
        model, payload = model_from_checkpoint(checkpoint, device)
        ablation = vision_ablation(model, prepared, records, device=torch.device(device))
        rows.append(
            {
                "category": category,
                "model": name,
                "nll_bits_per_sample": ablation["own_video_bits"],
                "nll_shuffled_video": ablation["shuffled_video_bits"],
                "vision_gain_bits": ablation["vision_gain_bits"],
                "clips": len(records),
                "checkpoint_step": payload.get("step"),
            }
        )
    return rows
