"""Integrated loudness after ITU-R BS.1770-4 / EBU R128, by pyloudnorm (K-weighting, 400 ms blocks,
absolute and relative gates). Its "DeMan" filters are derived from the analogue prototypes for any
sample rate; its default ones are approximations that read a 1 kHz sine 0.04 LU off the standard's
value. Silence and signals shorter than one block as -inf LUFS instead of
an error, so that a silent soundtrack is normalised to silence rather than failing a whole import."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm

BLOCK_SECONDS = 0.4


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """LUFS of a mono (N,) or multichannel (N, C) signal in [-1, 1]; -inf for silence or < 400 ms."""
    x = np.asarray(audio, dtype=np.float64)
    if x.shape[0] < round(BLOCK_SECONDS * sample_rate) or not np.any(x):
        return -math.inf
    with np.errstate(divide="ignore"):
        loudness = pyloudnorm.Meter(
            sample_rate, filter_class="DeMan", block_size=BLOCK_SECONDS
        ).integrated_loudness(x)
    return float(loudness) if math.isfinite(loudness) else -math.inf
