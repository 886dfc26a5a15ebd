"""Waveform quantisation for SampleRNN's categorical output.

Linear 8-bit over the fixed range [-1, 1] (the paper's choice), or mu-law as an option. The range is
never taken from the clip itself: per-clip min-max normalisation adds a DC offset and erases the
clip's dynamics (a known bug of the old SampleRNN implementations).
"""

from __future__ import annotations

import math

import torch

LINEAR = "linear"
MU_LAW = "mu-law"
SCHEMES = (LINEAR, MU_LAW)


def quantize(audio: torch.Tensor, levels: int = 256, scheme: str = LINEAR) -> torch.Tensor:
    """Float waveform in [-1, 1] (values outside are clipped) -> int64 codes in [0, levels)."""
    x = audio.clamp(-1.0, 1.0)
    if scheme == MU_LAW:
        mu = levels - 1
        x = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    elif scheme != LINEAR:
        raise ValueError(f"unknown quantisation scheme {scheme!r}; choose from {SCHEMES}")
    return ((x + 1.0) * (levels / 2)).floor().clamp(0, levels - 1).long()


def dequantize(codes: torch.Tensor, levels: int = 256, scheme: str = LINEAR) -> torch.Tensor:
    """Codes -> the centre of each code's interval, as float32 in (-1, 1)."""
    x = (codes.float() + 0.5) / (levels / 2) - 1.0
    if scheme == MU_LAW:
        mu = levels - 1
        return torch.sign(x) * ((1 + mu) ** x.abs() - 1) / mu
    if scheme != LINEAR:
        raise ValueError(f"unknown quantisation scheme {scheme!r}; choose from {SCHEMES}")
    return x
