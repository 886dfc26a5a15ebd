"""Helicopter: a periodic source. Each rotor blade passing the tail boom gives a low "thump"; the rotor
speeds up or slows down during the clip, so the thump rate has to be read off the visible rotor.

The blade-passing rate stays below half the frame rate, so the rotation never aliases on video
(no wagon-wheel illusion): the rotor's phase can be followed frame to frame.
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

ROTOR_TILT = 0.35  # the rotor disc seen from slightly above: vertical axis squashed to this fraction
MAX_PASS_RATE_OF_NYQUIST = 0.85


def blade_pass_rate(rng: np.random.Generator, timing: ClipTiming) -> tuple[np.ndarray, str]:
    """(num_samples,) blade passes per second, steady, spinning up or spinning down."""
    t = np.arange(timing.num_samples) / timing.sample_rate
    ceiling = MAX_PASS_RATE_OF_NYQUIST * timing.fps / 2
    base = rng.uniform(2.5, ceiling - 0.4)
    profile = str(rng.choice(["steady", "spin_up", "spin_down", "wobble"]))
    if profile == "steady":
        rate = base + 0.1 * np.sin(2 * np.pi * t / rng.uniform(2, 5))
    elif profile == "wobble":
        rate = base * (1 + 0.2 * np.sin(2 * np.pi * t / rng.uniform(1.5, 3.5) + rng.uniform(0, 2 * np.pi)))
    else:
        low = base * rng.uniform(0.5, 0.75)
        ramp = np.clip((t - rng.uniform(0.3, 1.2)) / rng.uniform(1.0, 2.0), 0, 1)
        ramp = ramp * ramp * (3 - 2 * ramp)
        rate = low + (base - low) * (ramp if profile == "spin_up" else 1 - ramp)
    return np.clip(rate, 1.0, ceiling), profile


def _thump(rng: np.random.Generator, sr: int, voice: dict) -> np.ndarray:
    n = int(0.15 * sr)
    t = np.arange(n) / sr
    envelope = dsp.exp_decay(n, sr, voice["thump_tau"], attack=0.003)
    body = np.sin(2 * np.pi * voice["thump_f"] * t) * envelope
    slap = dsp.filtered(rng.standard_normal(n), sr, high=voice["slap_cutoff"]) * envelope
    return body + voice["slap_level"] * slap / (np.abs(slap).max() + 1e-9)


def render(rng: np.random.Generator, timing: ClipTiming) -> SynthClip:
    canvas, sr = timing.canvas, timing.sample_rate
    blades = int(rng.choice([2, 3, 4]))
    pass_rate, profile = blade_pass_rate(rng, timing)
    # Phase in "blade passes": an integer crossing means some blade lies along the tail boom.
    pass_phase = rng.uniform(0.0, 0.9) + np.cumsum(pass_rate) / sr
    crossings = np.nonzero(np.diff(np.floor(pass_phase)) > 0)[0] + 1
    times = crossings / sr

    voice = {
        "thump_f": float(rng.uniform(55, 110)),
        "thump_tau": float(rng.uniform(0.02, 0.045)),
        "slap_cutoff": float(rng.uniform(500, 1500)),
        "slap_level": float(rng.uniform(0.3, 0.8)),
        "turbine_f": float(rng.uniform(350, 700)),
        "turbine_level": float(rng.uniform(0.03, 0.08)),
    }
    audio = dsp.db(rng.uniform(-40, -28)) * dsp.filtered(
        dsp.pink_noise(rng, timing.num_samples), sr, high=1200
    )
    gain = rng.uniform(0.4, 0.6)
    mean_rate = float(pass_rate.mean())
    strengths = []
    for index in crossings:
        # Faster rotors push more air: louder thumps.
        strength = float(np.clip(pass_rate[index] / mean_rate * rng.uniform(0.85, 1.0), 0, 1))
        strengths.append(strength)
        dsp.add_at(audio, _thump(rng, sr, voice), int(index), gain * strength)
    turbine_freq = voice["turbine_f"] * pass_rate / mean_rate
    turbine = dsp.harmonic_tone(dsp.phase_from_frequency(turbine_freq, sr), harmonics=6, rolloff=1.5, rng=rng)
    audio += voice["turbine_level"] * turbine

    # Scene: sky with clouds, a helicopter whose main rotor turns with the pass phase.
    sky_top = random_colour(rng, saturation=(0.2, 0.6), value=(0.6, 0.95), hue=(0.52, 0.62))
    sky_low = random_colour(rng, saturation=(0.05, 0.3), value=(0.75, 1.0), hue=(0.5, 0.65))
    background = soft_blobs(
        rng, vertical_gradient(canvas, sky_top, sky_low), canvas, count=10, radius=(10, 30), colour_jitter=40
    )
    body_colour = random_colour(rng, saturation=(0.3, 0.9), value=(0.25, 0.7))
    blade_colour = random_colour(rng, saturation=(0.0, 0.2), value=(0.05, 0.2))
    hub = canvas.point(rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.45))
    radius = canvas.px(rng.uniform(55, 80))
    tail_side = int(rng.choice([-1, 1]))
    body_axes = (canvas.px(rng.uniform(26, 34)), canvas.px(rng.uniform(14, 19)))
    body_centre = (hub[0], hub[1] + body_axes[1] + canvas.px(5))
    tail_end = (body_centre[0] + tail_side * canvas.px(rng.uniform(65, 85)), body_centre[1] - canvas.px(6))
    # The blade-pass reference direction: pointing along the tail boom.
    reference = 0.0 if tail_side > 0 else np.pi
    shake = shake_offsets(rng, timing.num_frames, rng.uniform(0.0, 1.0) * canvas.scale)

    frames = np.empty((timing.num_frames, canvas.height, canvas.width, 3), np.uint8)
    frame_samples = np.minimum(np.round(timing.frame_times * sr).astype(int), timing.num_samples - 1)
    for i, sample in enumerate(frame_samples):
        image = background.copy()
        cv2.line(image, body_centre, tail_end, body_colour, canvas.px(5), cv2.LINE_AA)
        cv2.circle(image, tail_end, canvas.px(7), blade_colour, canvas.px(1), cv2.LINE_AA)
        cv2.ellipse(image, body_centre, body_axes, 0, 0, 360, body_colour, -1, cv2.LINE_AA)
        skid_y = body_centre[1] + body_axes[1] + canvas.px(6)
        cv2.line(
            image,
            (body_centre[0] - body_axes[0], skid_y),
            (body_centre[0] + body_axes[0], skid_y),
            blade_colour,
            canvas.px(2),
            cv2.LINE_AA,
        )
        cv2.line(image, hub, (hub[0], body_centre[1] - body_axes[1]), blade_colour, canvas.px(3), cv2.LINE_AA)
        angle0 = reference + 2 * np.pi * pass_phase[sample] / blades
        for blade in range(blades):
            angle = angle0 + 2 * np.pi * blade / blades
            tip = (
                round(hub[0] + radius * np.cos(angle)),
                round(hub[1] + ROTOR_TILT * radius * np.sin(angle)),
            )
            cv2.line(image, hub, tip, blade_colour, canvas.px(4), cv2.LINE_AA)
        cv2.circle(image, hub, canvas.px(4), blade_colour, -1, cv2.LINE_AA)
        frames[i] = to_uint8(shifted(image, *shake[i]))

    events = [Event(float(t), "blade_pass", s) for t, s in zip(times, strengths, strict=True)]
    scene = {
        "rotor_hub": list(hub),
        "rotor_radius": radius,
        "rotor_tilt": ROTOR_TILT,
        "blades": blades,
        "reference_angle": reference,
        "rate_profile": profile,
        "mean_pass_rate": mean_rate,
        "voice": voice,
    }
    return SynthClip(
        frames=frames, audio=dsp.soft_limit(audio).astype(np.float32), events=events, scene=scene
    )
