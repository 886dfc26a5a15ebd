"""`python -m generation.bench demo-quality`: the shipped demo checkpoints measured against their
targets, into benchmarks/quality.json ("demo_checkpoints").

From what `benchmarks/demo_quality.sh` leaves: demo/checkpoints/checkpoints.json (validation NLL of each
exported checkpoint, with its clips' own videos and with the videos shuffled across clips), and the CSVs
of `python -m evaluation metrics` on every demo test clip (onset F1 / AP, AV-Align of the shipped
soundtracks and of the real ones; test NLL under each checkpoint). The targets are the issue's: every
conditioned model's validation NLL below the unconditional one's in every category, the flow model's the
lowest on drum and fireworks, and the flow model's onset F1 (±50 ms) at least 0.8 on drum and 0.6 on
fireworks."""

from __future__ import annotations

import json
from pathlib import Path

from generation.bench.follows_video import METRIC_COLUMNS, NLL_COLUMNS, number, read_rows
from generation.bench.machine import describe_machine
from generation.config import FLOW, UNCONDITIONAL

REAL = "real"
FLOW_LOWEST_ON = ("drum", "fireworks")
FLOW_ONSET_F1 = {"drum": 0.8, "fireworks": 0.6}
COMMAND = "bash benchmarks/demo_quality.sh"


def summarise_checkpoints(checkpoints: Path, metrics: Path) -> dict:
    """Per category, each shipped model's (and the real soundtracks') numbers, and the targets."""
    categories: dict[str, dict] = {}
    for row in json.loads((checkpoints / "checkpoints.json").read_text()):
        systems = categories.setdefault(row["category"], {})
        systems[row["model"]] = {
            "step": row["step"],
            "bytes": row["bytes"],
            "val_bits": row["val_bits_exported"],
            "val_bits_shuffled_videos": row.get("val_bits_shuffled_videos"),
            "val_vision_gain_bits": row.get("vision_gain_bits"),
            "val_clips": row["val_clips"],
        }
    for row in read_rows(metrics):
        if row["category"] in categories:
            values = {k: number(row[k]) for k in METRIC_COLUMNS if k in row}
            categories[row["category"]].setdefault(row["system"], {}).update(values)
    nll = metrics.with_name(f"{metrics.stem}-nll.csv")
    for row in read_rows(nll) if nll.is_file() else []:
        if row["model"] in categories.get(row["category"], {}):
            values = {f"test_{k}": number(row[k]) for k in NLL_COLUMNS if k in row and k != "checkpoint_step"}
            categories[row["category"]][row["model"]].update(values)
    return {"categories": categories, "targets": targets(categories)}


def targets(categories: dict[str, dict]) -> list[dict]:
    """Each target with the numbers it was judged on and whether it is met."""
    found = []
    for category, systems in sorted(categories.items()):
        val = {m: s["val_bits"] for m, s in systems.items() if m != REAL and "val_bits" in s}
        if UNCONDITIONAL not in val:
            continue
        conditioned = {m: v for m, v in val.items() if m != UNCONDITIONAL}
        found.append(
            {
                "id": "conditioned_below_unconditional",
                "target": "every conditioned model's validation NLL below the unconditional model's",
                "category": category,
                "values": val,
                "met": all(v < val[UNCONDITIONAL] for v in conditioned.values()),
            }
        )
        if category in FLOW_LOWEST_ON and FLOW in val:
            found.append(
                {
                    "id": "flow_lowest",
                    "target": "the flow model's validation NLL the lowest",
                    "category": category,
                    "values": val,
                    "met": val[FLOW] == min(val.values()),
                }
            )
        if category in FLOW_ONSET_F1:
            f1 = systems.get(FLOW, {}).get("onset_f1")
            found.append(
                {
                    "id": "flow_onset_f1",
                    "target": f"the flow model's onset F1 (±50 ms) at least {FLOW_ONSET_F1[category]}",
                    "category": category,
                    "values": {m: s.get("onset_f1") for m, s in systems.items()},
                    "met": f1 is not None and f1 >= FLOW_ONSET_F1[category],
                }
            )
    return found


def merge_into(path: Path, summary: dict, checkpoints: Path, metrics: Path) -> dict:
    """benchmarks/quality.json keeps what the training benchmark (`quality`) wrote beside it."""
    result = json.loads(path.read_text()) if path.is_file() else {"benchmark": "quality"}
    result["demo_checkpoints"] = {
        "command": COMMAND,
        "checkpoints": str(checkpoints),
        "metrics": str(metrics),
        **summary,
        "machine": describe_machine(),
    }
    return result
