"""`python -m generation export`: the small inference checkpoints of a runs folder (what the
repository ships for the demo), each with its validation NLL before and after export and what vision
adds to the exported model (its NLL with the validation clips' videos shuffled), recorded in
OUT/checkpoints.json so that how they were made stays with them."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tqdm import tqdm

from generation.ablation import vision_ablation
from generation.atomic import write_text_atomic
from generation.checkpoint import export_for_inference, load_checkpoint, model_from_checkpoint
from generation.prepared import PreparedData
from generation.train import evaluate_bits


def export_runs(runs: Path, data: Path, out: Path, *, progress: bool = True) -> list[dict]:
    prepared = PreparedData(data)
    sources = sorted(runs.glob("*/*/best.pt"))
    if not sources:
        raise ValueError(f"{runs}: no <category>/<model>/best.pt to export; train first")
    features = prepared.feature_weights
    rows = []
    for source in tqdm(sources, desc="export", disable=not progress):
        category, model_name = source.parent.parent.name, source.parent.name
        target = out / category / f"{model_name}.pt"
        export = export_for_inference(source, target)
        val = prepared.clips(split="val", category=category)
        cpu = torch.device("cpu")
        trained, _ = model_from_checkpoint(source)
        exported, _ = model_from_checkpoint(target)
        ablation = vision_ablation(exported, prepared, val, device=cpu)
        bits = {
            "val_bits": round(evaluate_bits(trained, prepared, val, chunk_frames=1, device=cpu), 4),
            "val_bits_exported": round(ablation["own_video_bits"], 4),
            "val_bits_shuffled_videos": round(ablation["shuffled_video_bits"], 4),
            "vision_gain_bits": round(ablation["vision_gain_bits"], 4),
        }
        saved = load_checkpoint(source)
        rows.append(
            {
                "category": category,
                "model": model_name,
                "file": str(target.relative_to(out)),
                "bytes": target.stat().st_size,
                "step": saved.get("step"),
                "train_config": saved.get("train_config"),
                "train_clips": len(prepared.clips(split="train", category=category)),
                "val_clips": len(val),
                "vgg_weights": features,
                **bits,
                "export": export,
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "checkpoints.json", json.dumps(rows, indent=1))
    return rows
