"""Negative log-likelihood of the real test audio under each trained model, in bits per sample
(teacher-forced, whole clips; 8.0 = uniform over 256 levels), as training reports it on validation."""

from __future__ import annotations

from pathlib import Path

import torch

from generation.checkpoint import model_from_checkpoint
from generation.prepared import PreparedData
from generation.train import evaluate_bits


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
        bits = evaluate_bits(model, prepared, records, chunk_frames=1, device=torch.device(device))
        rows.append(
            {
                "category": run.parent.name,
                "model": run.name,
                "nll_bits_per_sample": bits,
                "clips": len(records),
                "checkpoint_step": payload.get("step"),
            }
        )
    return rows
