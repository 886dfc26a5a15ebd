"""Catch-trial anchors: shifts keep length and content, the degraded anchor loses the high band."""

from __future__ import annotations

import numpy as np
import pytest

from studyapp.stimuli.anchors import anchor


def test_shifts_move_the_sound_by_half_a_second_and_keep_its_length() -> None:
    audio = np.random.default_rng(0).standard_normal(16_000).astype(np.float32)
    late, early = anchor(audio, 16_000, "shift_late"), anchor(audio, 16_000, "shift_early")
    assert late.shape == early.shape == audio.shape
    np.testing.assert_array_equal(late[8000:], audio[:8000])
    np.testing.assert_array_equal(late[:8000], 0)
    np.testing.assert_array_equal(early[:8000], audio[8000:])


def test_degraded_is_low_passed_plus_noise_and_seeded() -> None:
    t = np.arange(16_000) / 16_000
    audio = (np.sin(2 * np.pi * 6000 * t) + np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = anchor(audio, 16_000, "degraded", key="drum/1")
    spectrum = np.abs(np.fft.rfft(out))
    assert spectrum[6000] < 0.05 * spectrum[440]  # the 6 kHz tone is gone (1 Hz bins)
    np.testing.assert_array_equal(out, anchor(audio, 16_000, "degraded", key="drum/1"))


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown anchor variant 'louder'"):
        anchor(np.zeros(10, np.float32), 16_000, "louder")
