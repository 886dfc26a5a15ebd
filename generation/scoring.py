"""Scoring a chunk: the model's inputs from a batch, and the NLL of its samples in bits. One home for
training, validation and `generation.diagnose`."""

from __future__ import annotations

import math

import torch
from torch.nn import functional

from generation.data import Batch

LN2 = math.log(2.0)


def sample_bits(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B, C) NLL of each sample in bits."""
    # Rows of (B·C, levels), not (B, levels, C): the class axis contiguous, so no transposed copy of
    # the largest tensor of the step, and log-softmax runs along memory.
    flat = functional.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none")
    return flat.view(targets.shape) / LN2


def bits_per_sample(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Summed NLL in bits over the masked samples, and how many there were."""
    return (sample_bits(logits, targets) * mask).sum(), int(mask.sum())


def step_inputs(batch: Batch, device: torch.device) -> dict:
    return {
        "features": batch.features.to(device, non_blocking=True),
        "flow": batch.flow.to(device, non_blocking=True),
        "reset": batch.reset.to(device),
        "clip_features": None if batch.clip_features is None else batch.clip_features.to(device),
        "clip_frames": batch.clip_frames,
    }
