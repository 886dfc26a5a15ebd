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
from generation.flow_encoder import FlowEncoder, FlowEncoderConfig, trunk_weights
from generation.prepared import ClipRecord, PreparedData

logger = logging.getLogger(__name__)

FLOW_ENCODER_FILE = "flow_encoder.pt"


def _clip_stacks(window_flow: torch.Tensor, stack: int) -> torch.Tensor:
    """(num_frames, stack, 2, S, S): the stack of flows ending at every window of one clip."""
    return _stacks([window_flow], [(0, f) for f in range(window_flow.shape[0])], stack)


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
    return shard.window_flow, shard.window_onsets


def pretrain_flow_encoder(
    data: PreparedData,
    config: FlowEncoderConfig,
    *,
    category: str | None = None,
    steps: int = 2000,
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
    stacks = _clip_stacks(window_flow, encoder.config.stack)
    return encoder.onset_strength(stacks.to(device)).cpu()


@torch.no_grad()
def fit_onset_head(exported: dict, data: PreparedData, *, category: str | None = None) -> dict:
    """An onset head for flow encoder weights trained elsewhere (which bring none): the least-squares
    linear map from the frozen trunk's feature of every training window to its onset strength."""
    encoder = FlowEncoder(FlowEncoderConfig(**exported["config"]))
    encoder.load_state_dict(trunk_weights(exported["state_dict"]))
    encoder.eval()
    features, targets = [], []
    for record in data.clips(split="train", category=category):
        flow, strength = _clip_targets(data, record)
        features.append(encoder(_clip_stacks(flow, encoder.config.stack)))
        targets.append(strength)
    if not features:
        raise ValueError(f"no training clips in {data.root} to fit the flow encoder's onset head on")
    x = torch.cat(features)
    x = torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)  # the bias as a constant input
    solution = torch.linalg.lstsq(x, torch.cat(targets)[:, None]).solution[:, 0]
    return {"onset.weight": solution[None, :-1].clone(), "onset.bias": solution[-1:].clone()}


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
    steps: int = 2000,
    given: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """External weights when given; else `runs/flow_encoder.pt`, pre-trained there on first use (on
    ``category``'s training clips, or all) and again when it was written by the older category-classifier
    pre-training (format 1)."""
    if given is not None:
        exported = load_flow_encoder_weights(given)
        if model_config.uses_onsets and "onset_head" not in exported:
            logger.info("%s has no onset head: fitting one on the training clips", given)
            exported["onset_head"] = fit_onset_head(exported, data, category=category)
        return exported
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
    payload = pretrain_flow_encoder(
        data, config, category=category, steps=steps, device=device, progress=progress
    )
    save_checkpoint(path, payload, kind=FLOW_ENCODER)
    return load_checkpoint(path, kind=FLOW_ENCODER)
