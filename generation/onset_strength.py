"""Onset strength: how sharply a clip's sound rises in each video frame's audio window.

One definition for the three places that use it: the flow encoder learns to predict it from motion
(`generation.train_flow`); the flow-based model is conditioned on that prediction when it samples and is
scored, and on the audio's own onset strength for part of its training (`generation.train`).
"""

from __future__ import annotations

import torch

HOPS_PER_WINDOW = 8  # loudness is measured this many times per video frame's window (8 ms at the demo's rate)
RISE_SCALE_DB = 10.0  # a rise of 10 dB between hops is onset strength 1
MAX_STRENGTH = 4.0


def onset_strength(audio: torch.Tensor, samples_per_frame: int, num_frames: int) -> torch.Tensor:
    """(num_frames,): for each video frame's audio window, the steepest rise of the sound's loudness.

    Loudness is the log energy of hops of samples_per_frame / HOPS_PER_WINDOW samples; a window's
    strength is its largest hop-to-hop rise in units of RISE_SCALE_DB, clipped to [0, MAX_STRENGTH]:
    a strike rises by tens of dB within a hop, steady noise or a fading ring hardly at all.
    """
    hop = samples_per_frame // HOPS_PER_WINDOW
    samples = torch.zeros(num_frames * samples_per_frame)
    given = audio[: samples.numel()].float()
    samples[: given.numel()] = given
    energy = samples.view(-1, hop).pow(2).mean(dim=1)
    level = 10.0 * torch.log10(energy + 1e-8)  # dB; -80 dB floor for digital silence
    rise = torch.cat([level.new_zeros(1), level.diff()]).clamp(min=0) / RISE_SCALE_DB
    return rise.view(num_frames, HOPS_PER_WINDOW).amax(dim=1).clamp(max=MAX_STRENGTH)
