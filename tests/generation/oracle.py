"""The simple, slow definition of sampling that tests check the fast path against."""

from __future__ import annotations

import torch

from generation.model import SampleRNN
from generation.quantize import quantize
from generation.sample import draw


def reference_generate(
    model: SampleRNN,
    num_samples: int,
    *,
    batch_size: int,
    features=None,
    flow=None,
    clip_features=None,
    clip_frames=None,
    temperature: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """For every sample, run the whole teacher-forced forward pass over everything generated so far
    and draw from the logits at that position."""
    c = model.config
    generator = torch.Generator().manual_seed(seed)
    silence = int(quantize(torch.zeros(1), c.levels, c.quantization))
    codes = torch.full((batch_size, c.top_frame + num_samples), silence, dtype=torch.long)
    with torch.no_grad():
        for t in range(num_samples):
            logits, _ = model(codes[:, :-1], None, features, flow, None, clip_features, clip_frames)
            codes[:, c.top_frame + t] = draw(logits[:, t], temperature, generator)
    return codes[:, c.top_frame :]
