"""The headphone check's tones (Woods et al. 2017), measured from the WAV bytes themselves."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from studyapp import screening


def decode(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
        return frames.astype(np.float64) / 32767, wav.getframerate()


def tones(samples: np.ndarray, rate: int) -> list[np.ndarray]:
    step = int((screening.TONE_S + screening.GAP_S) * rate)
    length = int(screening.TONE_S * rate)
    return [samples[n * step : n * step + length] for n in range(screening.TONES)]


@pytest.mark.parametrize(("quiet", "antiphase"), [(0, 1), (2, 0), (1, 2)])
def test_one_tone_is_6_db_quieter_and_one_is_in_antiphase(quiet: int, antiphase: int) -> None:
    samples, rate = decode(screening.trial_wav(quiet, antiphase))
    assert rate == screening.SAMPLE_RATE
    assert len(samples) == int((3 * screening.TONE_S + 2 * screening.GAP_S) * rate)
    parts = tones(samples, rate)
    rms = [np.sqrt(np.mean(p**2)) for p in parts]
    loud = [r for n, r in enumerate(rms) if n != quiet]
    assert 20 * np.log10(rms[quiet] / loud[0]) == pytest.approx(-6.0, abs=0.05)
    assert loud[0] == pytest.approx(loud[1], rel=1e-3)
    for n, part in enumerate(parts):
        left, right = part[:, 0], part[:, 1]
        if n == antiphase:  # over loudspeakers the channels cancel: L + R is silence
            assert np.abs(left + right).max() < 1e-3 and np.abs(left).max() > 0.1
        else:
            assert np.abs(left - right).max() < 1e-3
    spectrum = np.abs(np.fft.rfft(parts[0][:, 0]))
    assert np.fft.rfftfreq(len(parts[0]), 1 / rate)[spectrum.argmax()] == pytest.approx(200.0, abs=1.0)
    assert np.abs(samples).max() < 0.3  # no clipping, room for the participant's volume


def test_layouts_are_fixed_per_participant_secret_and_distinct() -> None:
    layouts = screening.trial_layouts("secret", "participant-a")
    assert layouts == screening.trial_layouts("secret", "participant-a")  # a reload hears the same
    assert layouts != screening.trial_layouts("secret", "participant-b")
    assert layouts != screening.trial_layouts("other-secret", "participant-a")
    assert len(layouts) == screening.TRIALS and all(q != a for q, a in layouts)
    many = [q for n in range(200) for q, _ in screening.trial_layouts("s", str(n))]
    assert set(many) == {0, 1, 2} and abs(many.count(0) / len(many) - 1 / 3) < 0.05


def test_score_counts_the_quiet_tone_chosen() -> None:
    layouts = [(0, 1), (1, 2), (2, 0), (0, 2), (1, 0), (2, 1)]
    assert screening.score(layouts, [0, 1, 2, 0, 1, 2]) == 6
    assert screening.score(layouts, [1, 1, 2, 0, 1, None]) == 4  # loudspeaker pick, and no answer
    with pytest.raises(ValueError, match="distinct"):
        screening.trial_wav(1, 1)
