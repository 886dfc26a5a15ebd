"""Pre-training the flow encoder without labels: from the motion over each video frame's audio window,
predict how sharply the clip's own sound rises in that window (its onset strength), then freeze it.

The teacher is the audio itself, so this works on a single category (the paper trains one model per
category) and teaches what synchronisation needs: when something happens. A category classifier, the
former teacher, can name the category from one still and never has to learn timing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional
from tqdm import tqdm

from generation.checkpoint import (
    FLOW_ENCODER,
    FORMATS,
    load_checkpoint,
    load_flow_encoder_weights,
    save_checkpoint,
)
from generation.config import ModelConfig
from generation.flow_encoder import FlowEncoder, FlowEncoderConfig
from generation.prepared import ClipRecord, PreparedData

logger = logging.getLogger(__name__)

FLOW_ENCODER_FILE = "flow_encoder.pt"
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


def _stacks(flows: list[torch.Tensor], picks: list[tuple[int, int]], stack: int) -> torch.Tensor:
    """(N, stack, 2, S, S): for each (clip, window), the window flows ending there (zeros before 0)."""
    out = []
    for clip, frame in picks:
        flow = flows[clip]
        window = flow[max(0, frame - stack + 1) : frame + 1].float()
        if window.shape[0] < stack:
            window = torch.cat([window.new_zeros(stack - window.shape[0], *window.shape[1:]), window])
        out.append(window)
    return torch.stack(out)


def _clip_targets(data: PreparedData, record: ClipRecord) -> tuple[torch.Tensor, torch.Tensor]:
    shard = data.load(record)
    strength = onset_strength(shard.audio, data.config.samples_per_frame, record.num_frames)
    return shard.window_flow, strength


def pretrain_flow_encoder(
    data: PreparedData,
    config: FlowEncoderConfig,
    *,
    category: str | None = None,
    steps: int = 600,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train on the training clips (of ``category``, or all); returns the checkpoint, with the Pearson
    correlation of predicted and actual onset strength on the validation clips."""
    train = data.clips(split="train", category=category)
    if not train:
        raise ValueError(f"no training clips{f' of {category!r}' if category else ''} in {data.root}")
    val = data.clips(split="val", category=category) or train
    flows, targets = zip(*(_clip_targets(data, r) for r in train), strict=True)
    # Most windows hold no onset: drawing half the batch from the strongest windows keeps the rare
    # events from being averaged away.
    weights = [t + t.mean() + 1e-3 for t in targets]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoder = FlowEncoder(config, onset_head=True).to(device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    for _ in tqdm(range(steps), desc="flow encoder", unit="step", disable=not progress):
        clips = rng.integers(0, len(train), batch_size)
        picks = []
        for i, c in enumerate(clips):
            p = (weights[c] / weights[c].sum()).numpy() if i % 2 else None
            picks.append((int(c), int(rng.choice(len(targets[c]), p=p))))
        stacks = _stacks(list(flows), picks, config.stack).to(device)
        wanted = torch.stack([targets[c][f] for c, f in picks]).to(device)
        loss = functional.smooth_l1_loss(encoder.onset_strength(stacks), wanted)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    correlation = onset_correlation(encoder, data, val, device)
    logger.info(
        "flow encoder: predicted vs. actual onset strength on %d validation clips: r = %.3f",
        len(val),
        correlation,
    )
    return {
        **encoder.export(),
        # Kept beside the trunk (which is all the flow-based model loads) to check what was learned.
        "onset_head": {k: v for k, v in encoder.state_dict().items() if k.startswith("onset.")},
        "objective": "onset strength of each window's audio, from its motion",
        "categories": sorted({r.category for r in train}),
        "val_onset_correlation": correlation,
        "steps": steps,
    }


def onset_predictor(checkpoint: dict) -> FlowEncoder:
    """The pre-trained encoder with its onset head, from a checkpoint `pretrain_flow_encoder` wrote."""
    encoder = FlowEncoder(FlowEncoderConfig(**checkpoint["config"]), onset_head=True)
    encoder.load_state_dict(checkpoint["state_dict"] | checkpoint["onset_head"])
    return encoder.eval()


@torch.no_grad()
def predict_onsets(encoder: FlowEncoder, window_flow: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """(num_frames,) predicted onset strength of every window of one clip."""
    stacks = _stacks([window_flow], [(0, f) for f in range(window_flow.shape[0])], encoder.config.stack)
    return encoder.onset_strength(stacks.to(device)).cpu()


@torch.no_grad()
def onset_correlation(encoder: FlowEncoder, data: PreparedData, records: list, device: str = "cpu") -> float:
    """Pearson r over every window of ``records`` between predicted and actual onset strength."""
    was_training = encoder.training
    encoder.eval()
    predicted, actual = [], []
    for record in records:
        flow, strength = _clip_targets(data, record)
        predicted.append(predict_onsets(encoder, flow, device))
        actual.append(strength)
    encoder.train(was_training)
    both = torch.stack([torch.cat(predicted), torch.cat(actual)])
    return float(torch.corrcoef(both)[0, 1].nan_to_num(0.0))


def load_or_pretrain_flow_encoder(
    data: PreparedData,
    runs: Path,
    model_config: ModelConfig,
    *,
    category: str | None = None,
    given: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """External weights when given; else `runs/flow_encoder.pt`, pre-trained there on first use (on
    ``category``'s training clips, or all) and again when it was written by the older category-classifier
    pre-training (format 1)."""
    if given is not None:
        return load_flow_encoder_weights(given)
    path = runs / FLOW_ENCODER_FILE
    if path.exists():
        found = torch.load(path, map_location="cpu", weights_only=True).get("format")
        if found == FORMATS[FLOW_ENCODER]:
            return load_checkpoint(path, kind=FLOW_ENCODER)
        logger.warning(
            "%s is a format-%s flow encoder (a category classifier): pre-training again", path, found
        )
    logger.info("pre-training the flow encoder on %s into %s", data.root, path)
    config = FlowEncoderConfig(
        model_config.flow_stack,
        model_config.flow_size,
        model_config.flow_channels,
        model_config.flow_feature_dim,
    )
    payload = pretrain_flow_encoder(data, config, category=category, device=device, progress=progress)
    save_checkpoint(path, payload, kind=FLOW_ENCODER)
    return load_checkpoint(path, kind=FLOW_ENCODER)
