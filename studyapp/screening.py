"""The headphone check of Woods, Siegel, Traer & McDermott (2017), "Headphone screening to facilitate
web-based auditory experiments", Attention, Perception & Psychophysics 79:2064–2072.

Each trial plays three 200 Hz tones; the participant says which is the quietest. One tone is 6 dB
quieter (the right answer); one is played in antiphase between the two channels. Over headphones the
antiphase tone sounds as loud as the reference; over loudspeakers the two channels cancel in the air
and it sounds quietest, so loudspeaker listeners pick it. Six trials; five or more right passes.

The tones are generated here (no audio files to ship) and the right answers are derived on the server
from a secret and the participant's opaque id, so they never travel to the browser as data.
Pure functions of plain values: no Django imports.
"""

from __future__ import annotations

import hashlib
import io
import random
import wave

import numpy as np

TRIALS = 6
PASS_MARK = 5
TONES = 3
FREQUENCY_HZ = 200.0
TONE_S = 1.0
GAP_S = 0.5
RAMP_S = 0.1
SAMPLE_RATE = 22050
QUIET_DB = -6.0
LEVEL = 0.25  # peak of the reference tone, well under full scale: the participant sets the volume


def trial_layouts(secret: str, participant_id: str) -> list[tuple[int, int]]:
    """Per trial, (position of the quiet tone, position of the antiphase tone), 0-based, distinct.

    Deterministic, so a reload hears the same trials, and unguessable without the server's secret.
    """
    digest = hashlib.sha256(f"{secret}:headphones:{participant_id}".encode()).hexdigest()
    rng = random.Random(digest)
    return [tuple(rng.sample(range(TONES), 2)) for _ in range(TRIALS)]  # type: ignore[misc]


def trial_wav(quiet: int, antiphase: int) -> bytes:
    """One trial as a 16-bit stereo WAV: three tones separated by silences."""
    if quiet == antiphase or not (0 <= quiet < TONES and 0 <= antiphase < TONES):
        raise ValueError(f"quiet ({quiet}) and antiphase ({antiphase}) must be distinct positions 0 to 2")
    n = int(TONE_S * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ramp = int(RAMP_S * SAMPLE_RATE)
    envelope = np.ones(n)
    rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)  # raised-cosine ramps: no clicks
    envelope[:ramp], envelope[-ramp:] = rise, rise[::-1]
    tone = LEVEL * envelope * np.sin(2 * np.pi * FREQUENCY_HZ * t)
    gap = np.zeros((int(GAP_S * SAMPLE_RATE), 2))
    parts = []
    for position in range(TONES):
        left = tone * (10 ** (QUIET_DB / 20) if position == quiet else 1.0)
        right = -left if position == antiphase else left
        parts.append(np.stack([left, right], axis=1))
        if position < TONES - 1:
            parts.append(gap)
    samples = (np.concatenate(parts) * 32767).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def score(layouts: list[tuple[int, int]], answers: list[int | None]) -> int:
    """Right answers: the quiet tone's position chosen (0-based); a missing answer counts as wrong."""
    return sum(1 for (quiet, _), answer in zip(layouts, answers, strict=True) if answer == quiet)
