"""Chainsaw: a continuous source. Throttle (idle → revving) sets the engine's pitch and loudness and,
on screen, how hard the saw vibrates, how fast the chain runs and how much sawdust flies.

The throttle is stored per frame as the clip's intensity curve; the starts of revs are its events.
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

IDLE = 0.12


def throttle_curve(
    rng: np.random.Generator, timing: ClipTiming
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(num_samples,) throttle in [0, 1] and the (start time, level) of each rev."""
    t = np.arange(timing.num_samples) / timing.sample_rate
    throttle = np.full(t.shape, IDLE)
    revs = []
    start = rng.uniform(0.2, 0.8)
    while start < timing.duration - 0.5 and len(revs) < 3:
        level = rng.uniform(0.7, 1.0)
        attack, hold, release = rng.uniform(0.08, 0.2), rng.uniform(0.3, 1.1), rng.uniform(0.2, 0.45)
        rise = np.clip((t - start) / attack, 0, 1)
        fall = np.clip(1 - (t - start - attack - hold) / release, 0, 1)
        shape = np.minimum(rise, fall)
        shape = shape * shape * (3 - 2 * shape)
        throttle = np.maximum(throttle, IDLE + (level - IDLE) * shape)
        revs.append((float(start), float(level)))
        start += attack + hold + release + rng.uniform(0.25, 0.9)
    return throttle, revs


def render(rng: np.random.Generator, timing: ClipTiming) -> SynthClip:
    canvas, sr = timing.canvas, timing.sample_rate
    throttle, revs = throttle_curve(rng, timing)

    voice = {
        "idle_f0": float(rng.uniform(38, 55)),
        "full_f0": float(rng.uniform(150, 210)),
        "rolloff": float(rng.uniform(0.7, 1.2)),
        "cut_level": float(rng.uniform(0.15, 0.4)),
        "cut_band": [float(rng.uniform(800, 1500)), float(rng.uniform(3500, 6000))],
    }
    f0 = voice["idle_f0"] + (voice["full_f0"] - voice["idle_f0"]) * throttle
    engine = dsp.harmonic_tone(
        dsp.phase_from_frequency(f0, sr), harmonics=30, rolloff=voice["rolloff"], rng=rng
    )
    engine /= np.abs(engine).max() + 1e-9
    cutting = dsp.filtered(
        rng.standard_normal(timing.num_samples), sr, low=voice["cut_band"][0], high=voice["cut_band"][1]
    )
    cutting /= np.abs(cutting).max() + 1e-9
    loudness = 0.15 + 0.85 * throttle
    audio = dsp.db(rng.uniform(-48, -36)) * dsp.pink_noise(rng, timing.num_samples)
    audio += rng.uniform(0.35, 0.55) * (loudness * engine + voice["cut_level"] * throttle**2 * cutting)

    frame_samples = np.minimum(np.round(timing.frame_times * sr).astype(int), timing.num_samples - 1)
    intensity = throttle[frame_samples]

    # Scene: outdoors, a log on the ground, the saw's bar resting in a cut.
    top = random_colour(rng, saturation=(0.2, 0.6), value=(0.5, 0.9), hue=(0.2, 0.45))
    ground = random_colour(rng, saturation=(0.3, 0.7), value=(0.2, 0.5), hue=(0.05, 0.15))
    background = soft_blobs(
        rng, vertical_gradient(canvas, top, ground), canvas, count=12, radius=(8, 30), colour_jitter=35
    )
    wood = random_colour(rng, saturation=(0.4, 0.7), value=(0.35, 0.6), hue=(0.05, 0.1))
    log_top = rng.uniform(0.62, 0.72)
    cv2.rectangle(background, canvas.point(0.05, log_top), canvas.point(0.95, log_top + 0.16), wood, -1)
    saw_colour = random_colour(rng, saturation=(0.7, 1.0), value=(0.7, 1.0), hue=(0.0, 0.16))
    cut = canvas.point(rng.uniform(0.35, 0.6), log_top + 0.02)
    bar_length = canvas.px(rng.uniform(55, 75))
    side = int(rng.choice([-1, 1]))
    body_size = (canvas.px(rng.uniform(30, 40)), canvas.px(rng.uniform(20, 26)))
    tooth_spacing = canvas.px(8)
    shake = shake_offsets(rng, timing.num_frames, rng.uniform(0.0, 1.0) * canvas.scale)

    frames = np.empty((timing.num_frames, canvas.height, canvas.width, 3), np.uint8)
    chain_position = 0.0
    sawdust: list[list[float]] = []  # x, y, vx, vy, age (pixels, pixels per frame)
    for i, level in enumerate(intensity):
        image = background.copy()
        # The saw vibrates with the engine; amplitude follows the throttle.
        jitter = level * canvas.scale * 2.5 * rng.standard_normal(2)
        bar_start = (cut[0] + jitter[0], cut[1] + jitter[1])
        bar_end = (bar_start[0] - side * bar_length, bar_start[1] + 0.25 * bar_length)
        body_corner = (bar_start[0] + side * body_size[0], bar_start[1] - body_size[1])
        cv2.line(image, _pt(bar_start), _pt(bar_end), (150, 150, 155), canvas.px(7), cv2.LINE_AA)
        # Chain teeth along the bar, running at a speed set by the throttle (below the aliasing limit).
        chain_position = (chain_position + level * 0.4 * tooth_spacing) % tooth_spacing
        along = np.subtract(bar_end, bar_start)
        span = float(np.hypot(*along))
        for offset in np.arange(chain_position, span, tooth_spacing):
            tooth = np.add(bar_start, along * offset / span) - np.array([0.0, canvas.px(4)])
            cv2.circle(image, _pt(tooth), canvas.px(1.5), (40, 40, 40), -1, cv2.LINE_AA)
        cv2.rectangle(image, _pt(bar_start), _pt(body_corner), saw_colour, -1)
        cv2.rectangle(image, _pt(bar_start), _pt(body_corner), (30, 30, 30), canvas.px(1))
        # Sawdust: spawned at the cut in proportion to the throttle, thrown out and falling.
        for _ in range(rng.poisson(12 * max(0.0, level - IDLE))):
            sawdust.append(
                [
                    cut[0],
                    cut[1],
                    side * rng.uniform(1, 5) * canvas.scale,
                    -rng.uniform(1, 4) * canvas.scale,
                    0.0,
                ]
            )
        for grain in sawdust:
            grain[0] += grain[2]
            grain[1] += grain[3]
            grain[3] += 0.6 * canvas.scale
            grain[4] += 1
            cv2.circle(image, _pt(grain[:2]), canvas.px(1), (230, 200, 140), -1, cv2.LINE_AA)
        sawdust = [g for g in sawdust if g[4] < 8 and g[1] < canvas.height]
        frames[i] = to_uint8(shifted(image, *shake[i]))

    events = [Event(start, "rev", level) for start, level in revs]
    scene = {"cut": list(cut), "bar_length": bar_length, "voice": voice}
    return SynthClip(
        frames=frames,
        audio=dsp.soft_limit(audio).astype(np.float32),
        events=events,
        scene=scene,
        intensity=intensity.astype(np.float32),
    )


def _pt(xy) -> tuple[int, int]:
    return round(float(xy[0])), round(float(xy[1]))
