import numpy as np
import pytest

from evaluation.onsets import detect_onsets, match_onsets

SR = 16_000


def clicks_at(times: list[float], duration: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    audio = 0.001 * rng.standard_normal(int(duration * SR))
    decay = np.exp(-np.arange(800) / 80.0)
    for t in times:
        start = int(t * SR)
        audio[start : start + 800] += 0.5 * decay * np.sin(2 * np.pi * 440 * np.arange(800) / SR)
    return audio


def test_detects_clicks_within_ten_milliseconds() -> None:
    truth = [0.25, 0.61, 1.0, 1.52]
    detected = detect_onsets(clicks_at(truth), SR)
    assert detected.size == len(truth)
    assert np.max(np.abs(detected - truth)) < 0.01


def test_silence_has_no_onsets() -> None:
    assert detect_onsets(np.zeros(SR), SR).size == 0


def test_matching_is_one_to_one() -> None:
    # Two detections near one reference count once; the far detection is a false positive.
    result = match_onsets(np.array([0.50, 0.52, 1.5]), np.array([0.51, 1.0]), tolerance=0.05)
    assert result.matched == 1
    assert result.precision == pytest.approx(1 / 3)
    assert result.recall == pytest.approx(1 / 2)
    assert result.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_matching_prefers_closest_pairs() -> None:
    result = match_onsets(np.array([0.48, 0.55]), np.array([0.50, 0.56]), tolerance=0.06)
    assert result.matched == 2
