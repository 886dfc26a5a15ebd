"""Anchors for catch trials: the real soundtrack altered so that an attentive listener must notice.

Synchronisation anchors move the sound 0.5 s early or late against the pictures (content and length
unchanged); the fidelity anchor is low-passed at 3.5 kHz with white noise added, a standard low anchor
in listening tests (cf. the 3.5 kHz anchor of ITU-R BS.1534 MUSHRA).
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.signal import butter, sosfiltfilt

SHIFT_SECONDS = 0.5
LOWPASS_HZ = 3500.0
NOISE_SNR_DB = 10.0
VARIANTS = ("shift_early", "shift_late", "degraded")


def shifted(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """Positive ``seconds``: the sound comes late (silence first); negative: early. Same length."""
    n = min(round(abs(seconds) * sample_rate), audio.size)
    out = np.zeros_like(audio)
    if seconds > 0:
        out[n:] = audio[: audio.size - n]
    else:
        out[: audio.size - n] = audio[n:]
    return out


def degraded(audio: np.ndarray, sample_rate: int, *, seed: int = 0) -> np.ndarray:
    """Low-passed at 3.5 kHz, plus white noise 10 dB below the signal's power."""
    sos = butter(8, LOWPASS_HZ, btype="lowpass", fs=sample_rate, output="sos")
    low = sosfiltfilt(sos, audio.astype(np.float64))
    power = float(np.mean(low**2)) or 1e-8
    noise = np.random.default_rng(seed).standard_normal(audio.size) * np.sqrt(
        power / 10 ** (NOISE_SNR_DB / 10)
    )
    return (low + noise).astype(np.float32)


def anchor(audio: np.ndarray, sample_rate: int, variant: str, *, key: str = "") -> np.ndarray:
    """The anchor ``variant`` of a real soundtrack; ``key`` (e.g. the clip id) seeds the noise."""
    if variant == "shift_early":
        return shifted(audio, sample_rate, -SHIFT_SECONDS)
    if variant == "shift_late":
        return shifted(audio, sample_rate, SHIFT_SECONDS)
    if variant == "degraded":
        return degraded(audio, sample_rate, seed=zlib.crc32(key.encode()))
    raise ValueError(f"unknown anchor variant {variant!r}; expected one of {', '.join(VARIANTS)}")
