"""Fireworks: a rocket climbs, bursts in a flash of expanding sparks, and the sparks crackle as they fall.

Visible cause: the burst (sky flash and sparks appearing) is the bang's onset; the sparks' twinkling
is the crackle tail. The rocket's climb announces the burst, as in real footage.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.synth import dsp
from generation.synth.clip import ClipTiming, Event, SynthClip
from generation.synth.scene import (
    hsv_colour,
    random_colour,
    shake_offsets,
    shifted,
    to_uint8,
    vertical_gradient,
)

FLASH_TAU = 0.12  # seconds for the sky flash to fade
GRAVITY = 0.12  # frame heights per second squared


def burst_times(rng: np.random.Generator, duration: float) -> np.ndarray:
    times = []
    t = rng.uniform(0.45, 1.1)
    while t < duration - 0.35 and len(times) < 4:
        times.append(t)
        t += rng.uniform(0.45, 1.5)
    return np.array(times)


def _bang(rng: np.random.Generator, sr: int, strength: float, distance: float) -> np.ndarray:
    """Low thump + broadband blast + rumbling tail; farther bursts are duller (air absorbs highs)."""
    n = int(1.2 * sr)
    t = np.arange(n) / sr
    thump = np.sin(2 * np.pi * rng.uniform(45, 90) * t) * dsp.exp_decay(
        n, sr, rng.uniform(0.08, 0.2), attack=0.002
    )
    blast = dsp.filtered(rng.standard_normal(n), sr, high=6500 - 4000 * distance)
    blast *= dsp.exp_decay(n, sr, rng.uniform(0.03, 0.1), attack=0.001)
    rumble = dsp.filtered(rng.standard_normal(n), sr, high=rng.uniform(300, 800))
    rumble *= dsp.exp_decay(n, sr, rng.uniform(0.3, 0.7), attack=0.02)
    sound = 0.8 * thump + blast / (np.abs(blast).max() + 1e-9) + 0.5 * rumble / (np.abs(rumble).max() + 1e-9)
    return strength * sound / np.abs(sound).max()


def _crackle(rng: np.random.Generator, sr: int, length: float, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Sparse bright clicks whose density thins out; returns the sound and the click times."""
    n = int(length * sr)
    count = rng.poisson(rate * length)
    # Denser early on: times drawn from a decaying distribution over the tail.
    times = np.sort(length * (1 - np.sqrt(rng.uniform(0, 1, count))))
    sound = np.zeros(n)
    click_len = int(0.004 * sr)
    for t in times:
        click = dsp.exp_decay(click_len, sr, 0.0008, attack=0.0002) * rng.standard_normal(click_len)
        dsp.add_at(sound, click, int(t * sr), rng.uniform(0.3, 1.0))
    return dsp.filtered(sound, sr, low=1800, high=7000), times


def render(rng: np.random.Generator, timing: ClipTiming) -> SynthClip:
    canvas, sr = timing.canvas, timing.sample_rate
    times = burst_times(rng, timing.duration)
    bursts = []
    for t in times:
        bursts.append(
            {
                "time": float(t),
                "strength": float(rng.uniform(0.55, 1.0)),
                "distance": float(rng.uniform(0.0, 0.8)),
                "rise": float(rng.uniform(0.3, 0.6)),
                "launch_x": float(rng.uniform(0.15, 0.85)),
                "x": float(rng.uniform(0.2, 0.8)),
                "y": float(rng.uniform(0.15, 0.45)),
                "hue": float(rng.uniform(0, 1)),
                "sparks": int(rng.integers(40, 90)),
                "life": float(rng.uniform(0.8, 1.6)),
                "crackles": bool(rng.uniform() < 0.6),
                "whistle": bool(rng.uniform() < 0.3),
            }
        )

    audio = dsp.db(rng.uniform(-52, -38)) * dsp.filtered(
        dsp.pink_noise(rng, timing.num_samples), sr, high=2000
    )
    gain = rng.uniform(0.5, 0.75)
    twinkle_windows = []
    for burst in bursts:
        start = timing.sample_at(burst["time"])
        dsp.add_at(audio, _bang(rng, sr, burst["strength"], burst["distance"]), start, gain)
        if burst["crackles"]:
            delay, length = rng.uniform(0.2, 0.35), rng.uniform(0.6, 1.2)
            crackle, _ = _crackle(rng, sr, length, rng.uniform(30, 80))
            dsp.add_at(
                audio, crackle, timing.sample_at(burst["time"] + delay), gain * rng.uniform(0.08, 0.18)
            )
            twinkle_windows.append((burst["time"] + delay, burst["time"] + delay + length))
        if burst["whistle"]:
            n = int(burst["rise"] * sr)
            freq = np.linspace(rng.uniform(1200, 1800), rng.uniform(2500, 3500), n)
            # Faded in and out so the whistle adds no onset of its own before the bang.
            envelope = np.sin(np.linspace(0, np.pi, n)) ** 2
            whistle = envelope * np.sin(dsp.phase_from_frequency(freq, sr))
            dsp.add_at(audio, whistle, timing.sample_at(burst["time"] - burst["rise"]), gain * 0.04)

    # Scene: a night sky with stars over a dark skyline.
    sky_top = random_colour(rng, saturation=(0.4, 0.9), value=(0.02, 0.12), hue=(0.55, 0.75))
    sky_low = random_colour(rng, saturation=(0.3, 0.8), value=(0.1, 0.3), hue=(0.55, 0.95))
    sky = vertical_gradient(canvas, sky_top, sky_low)
    for _ in range(int(rng.integers(20, 70))):
        brightness = float(rng.uniform(80, 200))
        cv2.circle(
            sky, canvas.point(rng.uniform(), rng.uniform(0, 0.7)), 1, (brightness,) * 3, -1, cv2.LINE_AA
        )
    skyline = np.zeros(sky.shape[:2], np.uint8)
    x = 0.0
    while x < 1.0:
        w, h = rng.uniform(0.04, 0.14), rng.uniform(0.05, 0.25)
        cv2.rectangle(skyline, canvas.point(x, 1 - h), canvas.point(x + w, 1.0), 255, -1)
        x += w
    skyline_colour = np.array(random_colour(rng, saturation=(0.0, 0.3), value=(0.0, 0.08)), np.float32)

    spark_dirs = []
    for burst in bursts:
        angles = rng.uniform(0, 2 * np.pi, burst["sparks"])
        speeds = rng.uniform(0.3, 0.75, burst["sparks"]) * (1.3 - 0.5 * burst["distance"])
        spark_dirs.append(
            (np.cos(angles) * speeds, np.sin(angles) * speeds, rng.uniform(0.6, 1.0, burst["sparks"]))
        )
    shake = shake_offsets(rng, timing.num_frames, rng.uniform(0.0, 1.5) * canvas.scale)

    frames = np.empty((timing.num_frames, canvas.height, canvas.width, 3), np.uint8)
    for i, tf in enumerate(timing.frame_times):
        image = sky.copy()
        flash = 0.0
        twinkling = any(lo <= tf < hi for lo, hi in twinkle_windows)
        for burst, (vx, vy, bright) in zip(bursts, spark_dirs, strict=True):
            age = tf - burst["time"]
            colour = np.array(hsv_colour(burst["hue"], 0.7, 1.0))
            if -burst["rise"] <= age < 0:
                progress = 1 + age / burst["rise"]
                x = burst["launch_x"] + (burst["x"] - burst["launch_x"]) * progress
                y = 1.0 + (burst["y"] - 1.0) * (1 - (1 - progress) ** 2)
                tail_y = min(1.0, y + 0.06)
                cv2.line(
                    image,
                    canvas.point(x, y),
                    canvas.point(x, tail_y),
                    (255, 210, 150),
                    canvas.px(1),
                    cv2.LINE_AA,
                )
                cv2.circle(image, canvas.point(x, y), canvas.px(1.5), (255, 240, 200), -1, cv2.LINE_AA)
            elif 0 <= age < burst["life"]:
                flash = max(
                    flash, burst["strength"] * (1 - 0.6 * burst["distance"]) * np.exp(-age / FLASH_TAU)
                )
                fade = (1 - age / burst["life"]) ** 1.5
                # Sparks slow down (drag) and fall (gravity).
                travel = (1 - np.exp(-3 * age)) / 3
                xs = burst["x"] + vx * travel
                ys = burst["y"] + vy * travel + GRAVITY * age**2
                flicker = rng.uniform(0.3, 1.0, xs.size) if twinkling else np.ones(xs.size)
                for x, y, b, f in zip(xs, ys, bright, flicker, strict=True):
                    level = fade * b * f
                    cv2.circle(
                        image,
                        canvas.point(x, y),
                        canvas.px(1.8),
                        tuple(float(c) for c in colour * level),
                        -1,
                        cv2.LINE_AA,
                    )
        if flash > 0:
            image += flash * 110.0
        image[skyline > 0] = skyline_colour
        frames[i] = to_uint8(shifted(image, *shake[i]))

    events = [Event(b["time"], "burst", b["strength"]) for b in bursts]
    return SynthClip(
        frames=frames, audio=dsp.soft_limit(audio).astype(np.float32), events=events, scene={"bursts": bursts}
    )
