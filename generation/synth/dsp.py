"""Sound-synthesis building blocks: noises, filters, damped modal resonances, harmonic engines.

All functions take and return float64 mono arrays at the caller's sample rate, and draw randomness
only from the generator they are given, so a clip is a pure function of its seed.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """1/f noise with unit RMS: the spectral tilt of most room tone and wind."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def filtered(
    x: np.ndarray, sample_rate: int, *, low: float | None = None, high: float | None = None, order: int = 2
) -> np.ndarray:
    """Butterworth high-pass above ``low``, low-pass below ``high``, or band-pass between them (Hz)."""
    nyquist = sample_rate / 2
    if low is not None and high is not None:
        sos = signal.butter(
            order, [low / nyquist, min(high / nyquist, 0.999)], btype="bandpass", output="sos"
        )
    elif low is not None:
        sos = signal.butter(order, low / nyquist, btype="highpass", output="sos")
    elif high is not None:
        sos = signal.butter(order, min(high / nyquist, 0.999), btype="lowpass", output="sos")
    else:
        return x
    return signal.sosfilt(sos, x)


def exp_decay(n: int, sample_rate: int, tau: float, *, attack: float = 0.001) -> np.ndarray:
    """Envelope rising linearly over ``attack`` seconds then decaying with time constant ``tau``."""
    t = np.arange(n) / sample_rate
    rise = np.clip(t / max(attack, 1.0 / sample_rate), 0.0, 1.0)
    return rise * np.exp(-t / tau)


def modal_hit(
    sample_rate: int,
    *,
    freqs: np.ndarray,
    decays: np.ndarray,
    amps: np.ndarray,
    phases: np.ndarray,
    length: float,
) -> np.ndarray:
    """A struck resonator: a sum of exponentially damped sinusoids, one per vibration mode."""
    t = np.arange(int(length * sample_rate)) / sample_rate
    modes = (
        amps[:, None]
        * np.exp(-t[None, :] / decays[:, None])
        * np.sin(2 * np.pi * freqs[:, None] * t[None, :] + phases[:, None])
    )
    return modes.sum(axis=0)


def harmonic_tone(
    phase: np.ndarray, *, harmonics: int, rolloff: float, rng: np.random.Generator
) -> np.ndarray:
    """A harmonic series over a running phase (radians): an engine or turbine whose pitch can glide.

    Amplitudes fall as 1/k**rolloff, with a random per-clip colouring so engines differ in timbre.
    """
    k = np.arange(1, harmonics + 1)
    amps = k.astype(np.float64) ** -rolloff * rng.uniform(0.5, 1.0, harmonics)
    phase_offsets = rng.uniform(0, 2 * np.pi, harmonics)
    tone = np.zeros_like(phase)
    for harmonic, amp, offset in zip(k, amps, phase_offsets, strict=True):
        tone += amp * np.sin(harmonic * phase + offset)
    return tone / amps.sum()


def phase_from_frequency(freq: np.ndarray, sample_rate: int, start: float = 0.0) -> np.ndarray:
    """Running phase (radians) of an oscillator whose frequency (Hz) varies per sample."""
    return start + 2 * np.pi * np.cumsum(freq) / sample_rate


def add_at(buffer: np.ndarray, sound: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Mix ``sound`` into ``buffer`` from sample ``start``, cutting whatever runs past either end."""
    if start >= buffer.size or start + sound.size <= 0:
        return
    src_from = max(0, -start)
    dst_from = max(0, start)
    count = min(sound.size - src_from, buffer.size - dst_from)
    buffer[dst_from : dst_from + count] += gain * sound[src_from : src_from + count]


def soft_limit(x: np.ndarray, ceiling: float = 0.95) -> np.ndarray:
    """Keep peaks inside (-ceiling, ceiling) with a smooth knee, leaving quiet parts untouched."""
    knee = 0.7 * ceiling
    out = x.copy()
    over = np.abs(x) > knee
    headroom = ceiling - knee
    out[over] = np.sign(x[over]) * (knee + headroom * np.tanh((np.abs(x[over]) - knee) / headroom))
    return out


def db(value: float) -> float:
    """Linear gain for a level in decibels."""
    return float(10.0 ** (value / 20.0))
