"""Self-describing checkpoints: weights, optimiser, step, best validation NLL, the configs, the data
stream's position and the carried hidden state, and a format version. The model is rebuilt from the
stored config. Written to a temporary file and renamed, so a crash never leaves a half-written one."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import torch

from generation.config import ModelConfig
from generation.model import SampleRNN

FORMAT = 1


def save_checkpoint(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    torch.save({"format": FORMAT} | payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {payload.get('format')}, this version reads {FORMAT}")
    return payload


def model_from_checkpoint(path: Path | str, device: str | torch.device = "cpu") -> tuple[SampleRNN, dict]:
    """The model rebuilt from the checkpoint's own config, with its weights, in eval mode."""
    payload = load_checkpoint(path, map_location=device)
    model = SampleRNN(ModelConfig(**payload["model_config"])).to(device)
    model.load_state_dict(payload["model"])
    return model.eval(), payload


def config_dict(config: object) -> dict:
    return dataclasses.asdict(config)
