"""Log-mel spectrograms and the distances between them."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, signal


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular filters equally spaced on the HTK mel scale, 2595·log10(1 + f/700); (n_mels, n_fft//2+1)."""
    fmax = fmax or sample_rate / 2
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower = (freqs[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    upper = (edges[2:, None] - freqs[None, :]) / (edges[2:, None] - edges[1:-1, None])
    return np.maximum(0.0, np.minimum(lower, upper))


def log_mel(
    audio: np.ndarray, sample_rate: int, *, n_mels: int = 64, n_fft: int = 1024, hop: int = 256
) -> np.ndarray:
    """log(1e-5 + mel power), shape (n_mels, frames)."""
    _, _, spec = signal.stft(
        audio, fs=sample_rate, nperseg=n_fft, noverlap=n_fft - hop, boundary=None, padded=False
    )
    power = np.abs(spec) ** 2
    return np.log(1e-5 + mel_filterbank(sample_rate, n_fft, n_mels) @ power)


def log_mel_distance(generated: np.ndarray, real: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of log-mel spectrograms over the common length (nats)."""
    a, b = log_mel(generated, sample_rate), log_mel(real, sample_rate)
    frames = min(a.shape[1], b.shape[1])
    return float(np.abs(a[:, :frames] - b[:, :frames]).mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings (rows), as in FID/FAD:
    |μa − μb|² + Tr(Σa + Σb − 2(Σa Σb)^½)."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        # Fewer clips than embedding dimensions make the covariances singular; the square root is
        # still defined, and FID implementations regularise the same way when it is not finite.
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            eps = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * np.real(root)))
