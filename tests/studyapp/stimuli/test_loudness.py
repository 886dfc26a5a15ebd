import math
import re
import subprocess

import numpy as np
import pytest

from generation.media import ffmpeg_executable
from studyapp.stimuli.loudness import integrated_loudness


def sine(amplitude: float, rate: int, seconds: float = 5.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * 1000 * np.arange(int(rate * seconds)) / rate)


def test_textbook_values() -> None:
    """BS.1770: a full-scale 1 kHz sine in one channel reads -3.01 LUFS; 20 dB down, -23.01."""
    assert integrated_loudness(sine(1.0, 48_000), 48_000) == pytest.approx(-3.01, abs=0.02)
    assert integrated_loudness(sine(0.1, 48_000), 48_000) == pytest.approx(-23.01, abs=0.02)
    assert integrated_loudness(sine(0.1, 16_000), 16_000) == pytest.approx(-23.01, abs=0.1)


def test_silence_and_short_signals_have_no_loudness() -> None:
    assert integrated_loudness(np.zeros(48_000), 48_000) == -math.inf
    assert integrated_loudness(sine(0.5, 48_000, seconds=0.3), 48_000) == -math.inf


def ffmpeg_ebur128(audio: np.ndarray, rate: int) -> float:
    result = subprocess.run(
        [
            ffmpeg_executable(),
            "-hide_banner",
            "-nostats",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "-",
            "-af",
            "ebur128",
            "-f",
            "null",
            "-",
        ],
        input=audio.astype(np.float32).tobytes(),
        capture_output=True,
        check=True,
    )
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", result.stderr.decode())[-1])


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_agrees_with_ffmpeg_ebur128(rate: int) -> None:
    """An independent implementation: ffmpeg's ebur128 filter (it reports to 0.1 LU)."""
    rng = np.random.default_rng(0)
    bursts = rng.standard_normal(rate * 6) * np.repeat(
        rng.uniform(0.01, 0.3, 12), rate // 2
    )  # gating matters
    assert integrated_loudness(bursts, rate) == pytest.approx(ffmpeg_ebur128(bursts, rate), abs=0.15)
