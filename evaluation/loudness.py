"""Integrated loudness after ITU-R BS.1770-4 / EBU R128 (K-weighting, 400 ms blocks, two gates).

The K-weighting filters are derived from their analogue prototypes for any sample rate (the standard
tabulates them for 48 kHz only), following Brecht De Man's derivation as used by pyloudnorm.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the absolutely gated loudness


def _k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two biquads: a high shelf (+4 dB above ~1.5 kHz, the head) and a high-pass (RLB, ~38 Hz)."""
    # Stage 1: high shelf.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = np.array([vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k]) / a0
    shelf_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    # Stage 2: high-pass.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    high_b = np.array([1.0, -2.0, 1.0])
    high_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [(shelf_b, shelf_a), (high_b, high_a)]


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """LUFS of a mono (N,) or multichannel (N, C) signal in [-1, 1]; -inf for silence or < 400 ms."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    for b, a in _k_weighting(sample_rate):
        x = signal.lfilter(b, a, x, axis=0)
    block, hop = round(0.4 * sample_rate), round(0.1 * sample_rate)
    if x.shape[0] < block:
        return -math.inf
    starts = np.arange(0, x.shape[0] - block + 1, hop)
    power = np.array([np.mean(x[s : s + block] ** 2, axis=0).sum() for s in starts])  # channel weights 1
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(power)
    gated = power[loudness > ABSOLUTE_GATE]
    if gated.size == 0:
        return -math.inf
    relative = -0.691 + 10 * np.log10(gated.mean()) + RELATIVE_GATE
    final = power[(loudness > ABSOLUTE_GATE) & (loudness > relative)]
    return float(-0.691 + 10 * np.log10(final.mean()))
