"""Pre-training the flow encoder as a sound-category classifier on the training clips, then freezing it.

This stands in for the paper's action-recognition flow network: what it learns is which motion goes
with which sound source. Needs at least two categories; with one, load weights trained elsewhere
(`--flow-encoder PATH`, the layout of `FlowEncoder.export()`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional
from tqdm import tqdm

from generation.checkpoint import FLOW_ENCODER, load_checkpoint, load_flow_encoder_weights, save_checkpoint
from generation.config import ModelConfig
from generation.flow_encoder import FlowEncoder, FlowEncoderConfig
from generation.prepared import PreparedData

logger = logging.getLogger(__name__)

FLOW_ENCODER_FILE = "flow_encoder.pt"


def _stacks(flows: list[torch.Tensor], picks: list[tuple[int, int]], stack: int) -> torch.Tensor:
    """(N, stack, 2, S, S): for each (clip, frame), the flows ending at that frame (zeros before frame 0)."""
    out = []
    for clip, frame in picks:
        flow = flows[clip]
        window = flow[max(0, frame - stack + 1) : frame + 1].float()
        if window.shape[0] < stack:
            window = torch.cat([window.new_zeros(stack - window.shape[0], *window.shape[1:]), window])
        out.append(window)
    return torch.stack(out)


def pretrain_flow_encoder(
    data: PreparedData,
    config: FlowEncoderConfig,
    *,
    steps: int = 600,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train on every category's training clips; returns the checkpoint (with validation accuracy)."""
    categories = data.categories
    if len(categories) < 2:
        raise ValueError(
            f"pre-training the flow encoder as a category classifier needs at least two "
            f"categories, {data.root} has {categories}; pass --flow-encoder PATH instead"
        )
    train = data.clips(split="train")
    val = data.clips(split="val") or train
    train_flows = [data.load(r).flow for r in train]
    train_labels = [categories.index(r.category) for r in train]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoder = FlowEncoder(config, num_classes=len(categories)).to(device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    for _ in tqdm(range(steps), desc="flow encoder", unit="step", disable=not progress):
        clips = rng.integers(0, len(train), batch_size)
        picks = [(int(c), int(rng.integers(0, train_flows[c].shape[0]))) for c in clips]
        stacks = _stacks(train_flows, picks, config.stack).to(device)
        labels = torch.tensor([train_labels[c] for c in clips], device=device)
        loss = functional.cross_entropy(encoder.classify(stacks), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    accuracy = _accuracy(encoder, data, val, categories, device)
    logger.info(
        "flow encoder: validation accuracy %.3f over %d categories (chance %.3f)",
        accuracy,
        len(categories),
        1 / len(categories),
    )
    return {
        **encoder.export(),
        "categories": categories,
        "val_accuracy": accuracy,
        "steps": steps,
    }


@torch.no_grad()
def _accuracy(
    encoder: FlowEncoder, data: PreparedData, records: list, categories: list[str], device: str
) -> float:
    encoder.eval()
    correct = total = 0
    for record in records:
        flow = data.load(record).flow
        stacks = _stacks([flow], [(0, f) for f in range(flow.shape[0])], encoder.config.stack).to(device)
        votes = encoder.classify(stacks).argmax(dim=1)
        correct += int((votes == categories.index(record.category)).sum())
        total += votes.numel()
    encoder.train()
    return correct / max(total, 1)


def load_or_pretrain_flow_encoder(
    data: PreparedData,
    runs: Path,
    model_config: ModelConfig,
    *,
    given: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """External weights when given; else `runs/flow_encoder.pt`, pre-trained there on first use."""
    if given is not None:
        return load_flow_encoder_weights(given)
    path = runs / FLOW_ENCODER_FILE
    if not path.exists():
        logger.info("no %s yet: pre-training the flow encoder on %s", path, data.root)
        config = FlowEncoderConfig(
            model_config.flow_stack,
            model_config.flow_size,
            model_config.flow_channels,
            model_config.flow_feature_dim,
        )
        save_checkpoint(
            path, pretrain_flow_encoder(data, config, device=device, progress=progress), kind=FLOW_ENCODER
        )
    return load_checkpoint(path, kind=FLOW_ENCODER)
