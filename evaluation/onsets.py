"""Audio onset detection and matching against reference event times.

Spectral flux on a log-compressed magnitude spectrogram with adaptive peak picking (Böck, Krebs and
Schedl 2012, without the learned parts). Used to check synchronisation: detected onsets against the
ground-truth event times of the demo clips, or against visual motion peaks of real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

NOISE_FLOOR = 5.0


@dataclass(frozen=True)
class OnsetMatch:
    precision: float
    recall: float
    f1: float
    matched: int
    detected: int
    reference: int


def onset_strength(
    audio: np.ndarray, sample_rate: int, *, hop: float = 0.005, window: float = 0.032
) -> tuple[np.ndarray, np.ndarray]:
    """(times, strength): half-wave-rectified spectral flux, one value per hop, normalised to max 1."""
    hop_len = max(1, round(hop * sample_rate))
    win_len = round(window * sample_rate)
    _, times, spec = signal.stft(
        audio,
        fs=sample_rate,
        window="hann",
        nperseg=win_len,
        noverlap=win_len - hop_len,
        boundary=None,
        padded=False,
    )
    magnitude = np.log1p(100.0 * np.abs(spec))  # (freq, frames)
    flux = np.maximum(np.diff(magnitude, axis=1), 0.0).sum(axis=0)
    flux = np.concatenate([[0.0], flux])
    peak = flux.max()
    return times, flux / peak if peak > 0 else flux


def detect_onsets(
    audio: np.ndarray,
    sample_rate: int,
    *,
    threshold: float = 0.12,
    min_gap: float = 0.05,
    context: float = 0.1,
) -> np.ndarray:
    """Onset times in seconds: flux peaks above a moving average by ``threshold`` (of the maximum),
    at least ``min_gap`` seconds apart, the stronger kept when two are closer."""
    times, flux = onset_strength(audio, sample_rate)
    hop = times[1] - times[0]
    half = max(1, round(context / hop))
    local_mean = np.convolve(flux, np.ones(2 * half + 1) / (2 * half + 1), mode="same")
    # An onset also stands out from the clip's own flux as a whole (median + NOISE_FLOOR robust
    # deviations): in stationary noise every flux wiggle clears a moving average, few clear this.
    median = np.median(flux)
    floor = median + NOISE_FLOOR * 1.4826 * np.median(np.abs(flux - median))
    height = np.maximum(local_mean + threshold, floor)
    peaks, _ = signal.find_peaks(flux, height=height, distance=max(1, round(min_gap / hop)))
    return times[peaks]


def match_onsets(detected: np.ndarray, reference: np.ndarray, *, tolerance: float) -> OnsetMatch:
    """One-to-one matching within ±tolerance seconds (greedy by distance), as in onset-detection
    evaluation (MIREX) and CondFoleyGen's onset accuracy."""
    detected, reference = np.sort(np.asarray(detected, float)), np.sort(np.asarray(reference, float))
    pairs = sorted(
        (abs(d - r), i, j)
        for i, d in enumerate(detected)
        for j, r in enumerate(reference)
        if abs(d - r) <= tolerance
    )
    used_d, used_r = set(), set()
    for _, i, j in pairs:
        if i not in used_d and j not in used_r:
            used_d.add(i)
            used_r.add(j)
    matched = len(used_d)
    precision = matched / detected.size if detected.size else float(reference.size == 0)
    recall = matched / reference.size if reference.size else float(detected.size == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return OnsetMatch(precision, recall, f1, matched, int(detected.size), int(reference.size))
