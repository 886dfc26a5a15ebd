"""Conditioned models that begin as the unconditional model of their category (`train --warm-start K`).

Trained from scratch, a conditioned model learns the sound itself more slowly than the unconditional one
(its vision inputs perturb the tiers that have to learn it), so at equal steps its validation NLL was
higher even where vision demonstrably helped: the flow model placed 85 % of the drum strikes yet stayed
0.002 bits/sample above the unconditional model, the fireworks one 0.026 (README, "Does the sound follow
the video?"). What the NLL gap then measures is learning speed, not vision.

Warm-started, a conditioned run takes the unconditional run's state at step K — the sound tiers'
weights (top, mid, sample MLP: every parameter whose name and shape both models have), their Adam
moments, the step, the data position, the streams' carried GRU state and the RNG — and trains on to
--steps with its vision inputs added. Both runs then see the same clips in the same order for the same
steps under the same learning-rate schedule, so the gap between their validation NLLs is what vision
adds. The unconditional run keeps a copy of its step-K checkpoint for this (`snapshot_path`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from generation.checkpoint import load_checkpoint
from generation.config import UNCONDITIONAL, ModelConfig
from generation.model import SampleRNN, State

logger = logging.getLogger(__name__)


def snapshot_path(runs: Path, category: str, step: int) -> Path:
    """Where the unconditional run of ``category`` keeps its checkpoint at ``step`` for warm starts."""
    return runs / category / UNCONDITIONAL / f"step-{step}.pt"


def load_snapshot(runs: Path, category: str, step: int, device: torch.device) -> dict:
    path = snapshot_path(runs, category, step)
    if not path.exists():
        raise FileNotFoundError(
            f"--warm-start {step}: {path} is missing. Train the unconditional model first with the same "
            f"--warm-start {step} (it writes that file when it passes step {step}; --model all trains it "
            "first)"
        )
    saved = load_checkpoint(path, map_location=device)
    if saved["step"] != step:
        raise ValueError(f"{path} holds step {saved['step']}, not {step}")
    return saved


def shared_parameters(model: SampleRNN, source: ModelConfig, saved: dict) -> list[str]:
    """The names of ``model``'s parameters that the saved model has with the same shape."""
    if source.conditioning != UNCONDITIONAL:
        raise ValueError(f"a warm start begins from an unconditional model, not {source.conditioning}")
    mine, theirs = model.state_dict(), saved["model"]
    mismatched = sorted(k for k in theirs if k in mine and theirs[k].shape != mine[k].shape)
    if mismatched:
        raise ValueError(
            f"the unconditional model's {', '.join(mismatched)} differ in shape from this model's: "
            "warm-start only models of the same --preset and data"
        )
    return [k for k in theirs if k in mine]


def apply(
    model: SampleRNN, optimizer: torch.optim.Optimizer, saved: dict, device: torch.device, rank: int = 0
) -> State:
    """Copy the shared weights and their Adam moments from the unconditional checkpoint ``saved`` into
    ``model`` and ``optimizer`` (built over ``model``'s trainable parameters, in order); the streams'
    carried state to continue from (its top and middle tiers'; encoder and flow history start at zero,
    as at a clip's start)."""
    source = ModelConfig.from_dict(saved["model_config"])
    names = shared_parameters(model, source, saved)
    model.load_state_dict({k: saved["model"][k] for k in names}, strict=False)

    # Adam's state is keyed by position among the trainable parameters; map it through the names.
    donor = SampleRNN(source)
    donor_names = [n for n, p in donor.named_parameters() if p.requires_grad]
    donor_state = {donor_names[i]: s for i, s in saved["optimizer"]["state"].items()}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    params = dict(model.named_parameters())
    for name in trainable:
        if name in donor_state:
            # As Optimizer.load_state_dict does: moments on the parameter's device, the step count
            # where it was (on the CPU unless the optimiser is capturable or fused).
            optimizer.state[params[name]] = {
                k: v.to(device) if torch.is_tensor(v) and k != "step" else v
                for k, v in donor_state[name].items()
            }

    carried = saved["stream_state"][rank]
    c = model.config
    batch = carried["top"].shape[1]
    state = State(
        top=carried["top"].to(device),
        mid=carried["mid"].to(device),
        encoder=torch.zeros(1, batch, c.encoder_dim, device=device) if c.uses_encoder else None,
        flow_history=(
            torch.zeros(batch, c.flow_stack - 1, 2, c.flow_size, c.flow_size, device=device)
            if c.uses_flow
            else None
        ),
    )
    fresh = [n for n in trainable if n not in donor_state]
    logger.info(
        "warm start from the unconditional model at step %d: %d tensors copied, new: %s",
        saved["step"],
        len(names),
        ", ".join(sorted({n.split(".")[0] for n in fresh})) or "none",
    )
    return state
