"""`python -m generation.bench follows-video`: the summary `benchmarks/follows_video.sh` leaves — per
category, each model's onset F1 / AP and AV-Align on the held-out clips (from `python -m evaluation
metrics`), its test NLL with its own and with shuffled videos (the vision ablation), its validation NLL,
and the flow encoder's onset correlation — merged into benchmarks/follows-video.json by category."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from generation.bench.machine import describe_machine
from generation.checkpoint import FLOW_ENCODER, load_checkpoint
from generation.train_flow import FLOW_ENCODER_FILE

METRIC_COLUMNS = (
    "clips",
    "onset_f1",
    "onset_precision",
    "onset_recall",
    "onset_ap",
    "onset_acc",
    "av_align",
    "log_mel_distance",
)
NLL_COLUMNS = ("nll_bits_per_sample", "nll_shuffled_video", "vision_gain_bits", "checkpoint_step")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | int | None:
    if text in ("", "nan"):
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else round(value, 4)


def summarise(category: str, metrics: Path, runs: Path, steps: int, previous: dict | None = None) -> dict:
    nll_path = metrics.with_name(f"{metrics.stem}-nll.csv")
    systems: dict[str, dict] = {}
    for row in read_rows(metrics):
        if row["category"] == category:
            systems[row["system"]] = {k: number(row[k]) for k in METRIC_COLUMNS if k in row}
    if nll_path.is_file():
        for row in read_rows(nll_path):
            if row["category"] == category and row["model"] in systems:
                systems[row["model"]] |= {k: number(row[k]) for k in NLL_COLUMNS if k in row}
    for model, values in systems.items():
        best = runs / category / model / "best.pt"
        if best.is_file():
            saved = load_checkpoint(best)
            values["best_val_bits"] = round(float(saved["best_val_bits"]), 4)
            values["lr"] = saved["train_config"].get("lr")
    encoder = runs / FLOW_ENCODER_FILE
    result = dict(previous or {})
    result.setdefault("benchmark", "follows-video")
    result["command"] = (
        "STEPS=1500 FLOW_STEPS=N GUIDANCE=W LR=L RUNS=R bash benchmarks/follows_video.sh CATEGORY "
        "(each model's checkpoint_step and lr; W: the flow model's --onset-guidance)"
    )
    result.setdefault("categories", {})[category] = {
        "steps": steps,
        "flow_encoder_val_onset_correlation": (
            round(float(load_checkpoint(encoder, kind=FLOW_ENCODER)["val_onset_correlation"]), 4)
            if encoder.is_file()
            else None
        ),
        "systems": systems,
        "machine": describe_machine(),
    }
    return result


def previous_summary(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None
