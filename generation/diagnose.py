"""Is a trained model's conditioning path alive? Health of its frame tiers on real clips.

Vision enters SampleRNN at the coarsest tier (and, with `--onset-middle`, the middle one); whatever it
says reaches the samples only through those tiers' GRUs. A GRU whose units sit at ±1 passes no
gradient (tanh' = 0 there), so once a tier saturates it stops learning, the sample MLP learns to do
without it, and no conditioning can change the sound. Measured on the fireworks flow model at the
default learning rate (1e-3): 54 % of the coarsest tier's units beyond ±0.99 after 1 000 steps (0 % at
initialisation), its weights' gradient 4·10⁻⁵ of the MLP's — onset guidance then changed no sample.
At lr 3e-4 the same model's tiers stayed alive. Validation NLL does not show it (the MLP alone still
learns); this does.

For each frame tier: the share of its GRU outputs beyond ±SATURATED over the clips, and the norm of
the NLL's gradient on its GRU weights next to that on the sample MLP's output layer (under
DEAD_GRADIENT of it the tier is reported dead); for a flow
model with an onset cue, also the NLL when it is told the audio's own onsets instead of the
video's prediction (what a perfect flow encoder would be worth, and whether the model listens).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generation.data import whole_clip_batches
from generation.model import SampleRNN
from generation.prepared import ClipRecord, PreparedData
from generation.scoring import bits_per_sample, step_inputs

SATURATED = 0.99  # a GRU output beyond this passes less than 2 % of its gradient (1 - 0.99²)
# A tier whose GRU weights get less than this share of the sample MLP's gradient has stopped learning:
# 4e-5 and 3e-4 for the saturated fireworks tiers above, 1e-2 to 2e-1 for every tier that learned
# (drum and fireworks flow models at lr 3e-4, the unconditional ones) — saturation alone does not tell
# (a middle tier with half its units beyond ±0.99 still learned).
DEAD_GRADIENT = 1e-3


@dataclass(frozen=True)
class TierHealth:
    tier: str  # "top" (the coarsest) or "middle"
    saturated: float  # share of the tier's GRU outputs beyond ±SATURATED over the clips
    gradient: float  # RMS over chunks of the NLL's gradient norm on the tier's GRU weights
    relative_gradient: float  # ... over the same on the sample MLP's output layer

    @property
    def healthy(self) -> bool:
        return self.relative_gradient >= DEAD_GRADIENT


@dataclass(frozen=True)
class Diagnosis:
    clips: int
    bits: float  # teacher-forced NLL, bits per sample, with the video's own prediction of onsets
    told_bits: float | None  # the same told the audio's own onset profile (flow with an onset cue)
    tiers: tuple[TierHealth, ...]

    def lines(self) -> list[str]:
        out = [f"{self.clips} clips: NLL {self.bits:.4f} bits/sample"]
        if self.told_bits is not None:
            out[0] += (
                f"; told the audio's own onsets {self.told_bits:.4f} ({self.bits - self.told_bits:+.4f})"
            )
        for t in self.tiers:
            verdict = "ok" if t.healthy else "DEAD: no gradient reaches it, nor what enters above it"
            out.append(
                f"  {t.tier:6s} tier: {100 * t.saturated:5.1f} % of units beyond ±{SATURATED}, "
                f"gradient {t.gradient:.2e} ({t.relative_gradient:.1e} of the sample MLP's)  {verdict}"
            )
        return out


def _norm(parameters: list[nn.Parameter]) -> float:
    grads = [p.grad for p in parameters if p.grad is not None]
    return float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads))) if grads else 0.0


def diagnose(
    model: SampleRNN,
    data: PreparedData,
    records: list[ClipRecord],
    *,
    chunk_frames: int = 1,
    device: torch.device | str = "cpu",
) -> Diagnosis:
    """Teacher-forced passes over whole clips, chunk by chunk as validation runs them, with the
    gradient of each chunk's NLL taken (truncated at the chunk, as in training); nothing is updated."""
    if not records:
        raise ValueError("no clips to diagnose: check --split and --category")
    device = torch.device(device)
    model = model.to(device).eval()
    tiers = {"top": model.top, "middle": model.mid}
    counts = {name: [0, 0] for name in tiers}  # saturated, total

    def counter(name: str):
        def hook(_module: nn.Module, args: tuple) -> None:
            outputs = args[0].detach()  # the GRU's outputs, on their way to the upsampling projection
            counts[name][0] += int((outputs.abs() > SATURATED).sum())
            counts[name][1] += outputs.numel()

        return hook

    handles = [tier.upsample.register_forward_pre_hook(counter(n)) for n, tier in tiers.items()]
    squares = {name: 0.0 for name in [*tiers, "mlp"]}
    chunks = 0
    total = told_total = 0.0
    count = 0
    c = model.config
    try:
        for group in whole_clip_batches(
            data,
            records,
            chunk_frames=chunk_frames,
            lookback=c.top_frame,
            levels=c.levels,
            scheme=c.quantization,
        ):
            state = told_state = None
            for batch in group:
                codes = batch.audio.to(device)
                targets, mask = codes[:, c.top_frame :], batch.mask.to(device)
                inputs = step_inputs(batch, device)
                model.zero_grad(set_to_none=True)
                logits, state = model(codes[:, :-1], state, **inputs)
                bits, n = bits_per_sample(logits, targets, mask)
                (bits / max(n, 1)).backward()
                state = state.detach()
                for name, tier in tiers.items():
                    squares[name] += _norm(list(tier.rnn.parameters())) ** 2
                squares["mlp"] += _norm(list(model.mlp.output.parameters())) ** 2
                chunks += 1
                total, count = total + float(bits.detach()), count + n
                if c.uses_onsets:
                    with torch.no_grad():
                        told = batch.onsets.to(device)
                        logits, told_state = model(codes[:, :-1], told_state, **inputs, onsets=told)
                        told_total += float(bits_per_sample(logits, targets, mask)[0])
    finally:
        for handle in handles:
            handle.remove()
        model.zero_grad(set_to_none=True)
    rms = {name: (value / max(chunks, 1)) ** 0.5 for name, value in squares.items()}
    health = tuple(
        TierHealth(
            tier=name,
            saturated=counts[name][0] / max(counts[name][1], 1),
            gradient=rms[name],
            relative_gradient=rms[name] / rms["mlp"] if rms["mlp"] else 0.0,
        )
        for name in tiers
    )
    return Diagnosis(
        clips=len(records),
        bits=total / max(count, 1),
        told_bits=told_total / max(count, 1) if c.uses_onsets else None,
        tiers=health,
    )
