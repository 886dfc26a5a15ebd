"""The simple, slow definition of sampling that tests check the fast path against."""

from __future__ import annotations

import torch

from generation.model import SampleRNN
from generation.onset_strength import HOPS_PER_WINDOW
from generation.quantize import quantize
from generation.sample import draw, without_events


def reference_generate(
    model: SampleRNN,
    num_samples: int,
    *,
    batch_size: int,
    features=None,
    flow=None,
    clip_features=None,
    clip_frames=None,
    temperature: float = 1.0,
    seed: int = 0,
    onset_guidance: float = 1.0,
) -> torch.Tensor:
    """For every sample, run the whole teacher-forced forward pass over everything generated so far
    and draw from the logits at that position; with onset guidance, from the guided combination of
    the pass with the video's onset cue and the pass told that cue without its events (a model with a
    learned "no cue" input: the pass given it)."""
    c = model.config
    generator = torch.Generator().manual_seed(seed)
    silence = int(quantize(torch.zeros(1), c.levels, c.quantization))
    codes = torch.full((batch_size, c.top_frame + num_samples), silence, dtype=torch.long)
    with torch.no_grad():
        told = uncued = None
        if onset_guidance != 1.0 and c.onset_null:
            uncued = torch.ones(batch_size, dtype=torch.bool)
        elif onset_guidance != 1.0:
            state = model.initial_state(batch_size, clip_features, clip_frames)
            profile = model.flow_encoder.onset_profile(
                model.flow_encoder.per_frame(state.flow_history, flow)[0]
            )
            told = torch.zeros(*profile.shape[:2], HOPS_PER_WINDOW)
            told[..., :: HOPS_PER_WINDOW // c.onset_hops] = without_events(profile)
        for t in range(num_samples):
            inputs = (codes[:, :-1], None, features, flow, None, clip_features, clip_frames)
            logits, _ = model(*inputs)
            if told is not None or uncued is not None:
                without, _ = model(*inputs, onsets=told, uncued=uncued)
                logits = without + onset_guidance * (logits - without)
            codes[:, c.top_frame + t] = draw(logits[:, t], temperature, generator)
    return codes[:, c.top_frame :]
