"""Drum: a stick strikes a drum head at irregular times; each strike rings the head's membrane modes.

Visible cause: the stick tip comes down onto the head and the head flashes and ripples at the strike.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.synth import dsp
from generation.synth.clip import ClipTiming, Event, SynthClip
from generation.synth.scene import (
    random_colour,
    shake_offsets,
    shifted,
    soft_blobs,
    to_uint8,
    vertical_gradient,
)

# Frequency ratios of an ideal circular membrane's first modes (zeros of Bessel functions).
MEMBRANE_RATIOS = np.array([1.0, 1.594, 2.136, 2.296, 2.653, 2.918, 3.156, 3.501])
MIN_INTERVAL = 0.2  # seconds between strikes: the stick must visibly lift in between
FLASH_TAU = 0.07  # seconds for the head's highlight to fade


def strike_times(rng: np.random.Generator, duration: float) -> np.ndarray:
    """An irregular rhythm: note values drawn around a per-clip beat, with human timing jitter."""
    beat = rng.uniform(0.3, 0.6)
    values = np.array([0.5, 0.75, 1.0, 1.0, 1.5, 2.0, 3.0])
    times = []
    t = rng.uniform(0.2, 0.6)
    while t < duration - 0.25:
        times.append(t)
        t += max(MIN_INTERVAL, beat * rng.choice(values) + rng.normal(0.0, 0.015))
    return np.array(times)


def _strike_sound(rng: np.random.Generator, sample_rate: int, velocity: float, voice: dict) -> np.ndarray:
    freqs = voice["f0"] * MEMBRANE_RATIOS * (1 + rng.normal(0, 0.004, MEMBRANE_RATIOS.size))
    decays = voice["decay"] / MEMBRANE_RATIOS ** voice["damping"]
    # Harder strikes excite the upper modes relatively more: brighter as well as louder.
    amps = voice["mode_amps"] * MEMBRANE_RATIOS ** (-1.2 + 0.8 * velocity)
    body = dsp.modal_hit(
        sample_rate,
        freqs=freqs,
        decays=decays,
        amps=amps,
        phases=rng.uniform(0, 0.3, freqs.size),
        length=min(6 * voice["decay"], 1.5),
    )
    body /= np.abs(body).max() + 1e-9
    click_len = int(0.05 * sample_rate)
    click = dsp.filtered(rng.standard_normal(click_len), sample_rate, low=voice["click_low"], high=7000)
    click *= dsp.exp_decay(click_len, sample_rate, voice["click_tau"], attack=0.0005)
    click /= np.abs(click).max() + 1e-9
    sound = body
    sound[:click_len] += voice["click_level"] * velocity * click
    return velocity * sound


def render(rng: np.random.Generator, timing: ClipTiming) -> SynthClip:
    canvas, sr = timing.canvas, timing.sample_rate
    times = strike_times(rng, timing.duration)
    velocities = rng.uniform(0.45, 1.0, times.size)

    voice = {
        "f0": float(rng.uniform(70, 240)),
        "decay": float(rng.uniform(0.12, 0.45)),
        "damping": float(rng.uniform(0.8, 1.6)),
        "click_low": float(rng.uniform(800, 2500)),
        "click_tau": float(rng.uniform(0.004, 0.015)),
        "click_level": float(rng.uniform(0.2, 0.7)),
    }
    voice["mode_amps"] = rng.uniform(0.3, 1.0, MEMBRANE_RATIOS.size)
    audio = dsp.db(rng.uniform(-50, -34)) * dsp.pink_noise(rng, timing.num_samples)
    gain = rng.uniform(0.35, 0.6)
    for t, velocity in zip(times, velocities, strict=True):
        dsp.add_at(audio, _strike_sound(rng, sr, float(velocity), voice), timing.sample_at(t), gain)

    # Scene: a room, a drum seen slightly from above, a stick held from one side.
    wall = random_colour(rng, saturation=(0.05, 0.4), value=(0.35, 0.85))
    floor = random_colour(rng, saturation=(0.1, 0.5), value=(0.2, 0.6))
    background = soft_blobs(
        rng, vertical_gradient(canvas, wall, floor), canvas, count=8, radius=(15, 45), colour_jitter=25
    )
    cx, cy = rng.uniform(0.35, 0.65), rng.uniform(0.55, 0.72)
    rx = canvas.px(rng.uniform(32, 50))
    ry = max(1, round(rx * rng.uniform(0.28, 0.4)))
    shell_h = canvas.px(rng.uniform(25, 45))
    shell = random_colour(rng, saturation=(0.5, 0.95), value=(0.4, 0.9))
    head = np.array(random_colour(rng, saturation=(0.0, 0.2), value=(0.5, 0.8)))
    stick = random_colour(rng, saturation=(0.2, 0.6), value=(0.5, 0.95), hue=(0.05, 0.15))
    side = rng.choice([-1, 1])
    centre = canvas.point(cx, cy)
    strike_x = centre[0] + round(side * rng.uniform(0.1, 0.45) * rx)
    hand = (centre[0] + round(side * rng.uniform(1.3, 1.9) * rx), centre[1] - canvas.px(rng.uniform(55, 80)))
    lift = canvas.px(rng.uniform(35, 55))
    shake = shake_offsets(rng, timing.num_frames, rng.uniform(0.0, 1.5) * canvas.scale)

    frames = np.empty((timing.num_frames, canvas.height, canvas.width, 3), np.uint8)
    for i, tf in enumerate(timing.frame_times):
        image = background.copy()
        previous = times[times <= tf]
        upcoming = times[times > tf]
        since = tf - previous[-1] if previous.size else np.inf
        # Stick height above the head: zero at each strike, highest halfway between strikes.
        if previous.size and upcoming.size:
            phase = since / (upcoming[0] - previous[-1])
        elif upcoming.size:
            phase = 0.5 + 0.5 * min(1.0, tf / max(upcoming[0], 1e-6))
        else:
            phase = min(0.5, since / 0.4)
        height = lift * np.sin(np.pi * phase) ** 0.6
        flash = np.exp(-since / FLASH_TAU) if previous.size else 0.0
        strength = velocities[times <= tf][-1] if previous.size else 0.0

        cv2.rectangle(image, (centre[0] - rx, centre[1]), (centre[0] + rx, centre[1] + shell_h), shell, -1)
        cv2.ellipse(image, (centre[0], centre[1] + shell_h), (rx, ry), 0, 0, 180, shell, -1, cv2.LINE_AA)
        head_colour = head + flash * strength * (255 - head)
        cv2.ellipse(image, centre, (rx, ry), 0, 0, 360, tuple(float(c) for c in head_colour), -1, cv2.LINE_AA)
        cv2.ellipse(image, centre, (rx, ry), 0, 0, 360, (40, 40, 40), canvas.px(2), cv2.LINE_AA)
        if flash > 0.05:
            ripple = 1 - flash
            axes = (max(1, round(rx * (0.25 + 0.7 * ripple))), max(1, round(ry * (0.25 + 0.7 * ripple))))
            cv2.ellipse(
                image, (strike_x, centre[1]), axes, 0, 0, 360, (90, 90, 90), canvas.px(1), cv2.LINE_AA
            )
        tip = (strike_x, centre[1] - round(height))
        cv2.line(image, hand, tip, stick, canvas.px(4), cv2.LINE_AA)
        cv2.circle(image, hand, canvas.px(7), (225, 180, 150), -1, cv2.LINE_AA)
        frames[i] = to_uint8(shifted(image, *shake[i]))

    events = [Event(float(t), "hit", float(v)) for t, v in zip(times, velocities, strict=True)]
    scene = {
        "drum_centre": list(centre),
        "drum_radius": rx,
        "strike_x": strike_x,
        "hand": list(hand),
        "voice": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in voice.items()},
    }
    return SynthClip(
        frames=frames, audio=dsp.soft_limit(audio).astype(np.float32), events=events, scene=scene
    )
