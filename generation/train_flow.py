"""Pre-training the flow encoder without labels: from the motion over each video frame's audio window,
predict how sharply the clip's own sound rises in that window (its onset strength) and in which of the
window's hops, then freeze it.

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
from generation.onset_strength import EVENT_STRENGTH, floored, pool_profile
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


def _clip_targets(
    data: PreparedData, record: ClipRecord, hops: int = 1, floor: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A clip's window flows and its own onset profile at ``hops`` per window (num_frames, hops),
    windows below ``floor`` zeroed (`floored`)."""
    shard = data.load(record)
    return shard.window_flow, pool_profile(floored(shard.window_onsets, floor), hops)


HOP_LOSS_WEIGHT = 0.25  # the hop classification shares the trunk; at 1 it cost the strength's r 0.71 -> 0.58


def onset_loss(outputs: torch.Tensor, profile: torch.Tensor) -> torch.Tensor:
    """The pre-training objective, from the head's outputs (N, 1 [+ hops]) and the wanted profiles
    (N, hops): the strength by regression; with hops, the hop of each event window (strength at least
    EVENT_STRENGTH) by classification — in windows without an event there is no hop to place."""
    strength = profile.sum(dim=1)
    loss = functional.smooth_l1_loss(outputs[:, 0], strength)
    events = strength >= EVENT_STRENGTH
    if profile.shape[1] > 1 and bool(events.any()):
        hops = functional.cross_entropy(outputs[events, 1:], profile[events].argmax(dim=1))
        loss = loss + HOP_LOSS_WEIGHT * hops
    return loss


def pretrain_flow_encoder(
    data: PreparedData,
    config: FlowEncoderConfig,
    *,
    onset_hops: int = 1,
    onset_floor: float = 0.0,
    category: str | None = None,
    steps: int = 2000,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train on the training clips (of ``category``, or all) to predict each window's onset profile at
    ``onset_hops`` per window (windows below ``onset_floor`` told 0); returns the checkpoint, with the
    Pearson correlation of predicted and actual onset strength on the validation clips and how often
    the predicted hop of an event is its own (to within one hop)."""
    train = data.clips(split="train", category=category)
    if not train:
        raise ValueError(f"no training clips{f' of {category!r}' if category else ''} in {data.root}")
    val = data.clips(split="val", category=category) or train
    flows, targets = zip(*(_clip_targets(data, r, onset_hops, onset_floor) for r in train), strict=True)
    # Most windows hold no onset: drawing half the batch from the strongest windows keeps the rare
    # events from being averaged away.
    weights = [t.sum(dim=1) + t.sum(dim=1).mean() + 1e-3 for t in targets]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoder = FlowEncoder(config, onset_hops=onset_hops).to(device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    for _ in tqdm(range(steps), desc="flow encoder", unit="step", disable=not progress):
        clips = rng.integers(0, len(train), batch_size)
        picks = []
        for i, c in enumerate(clips):
            p = (weights[c] / weights[c].sum()).numpy() if i % 2 else None
            picks.append((int(c), int(rng.choice(len(targets[c]), p=p))))
        stacks = _stacks(list(flows), picks, config.stack).to(device)
        wanted = torch.stack([targets[c][f] for c, f in picks]).to(device)
        loss = onset_loss(encoder.onset_outputs(stacks), wanted)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    predicted, actual = _predicted_and_actual(
        encoder, data, val, device, onset_floor
    )  # one pass for both scores
    correlation, hop_accuracy = _correlation(predicted, actual), _hop_accuracy(predicted, actual)
    logger.info(
        "flow encoder: predicted vs. actual onset strength on %d validation clips: r = %.3f; "
        "hop of each event to within one of %d: %.0f %%",
        len(val),
        correlation,
        onset_hops,
        100 * hop_accuracy,
    )
    return {
        **encoder.export(),
        # Kept beside the trunk (which is all the flow-based model loads) to check what was learned.
        "onset_head": {k: v for k, v in encoder.state_dict().items() if k.startswith("onset.")},
        "objective": "onset strength of each window's audio and the hop it falls in, from its motion",
        "onset_hops": onset_hops,
        "onset_floor": onset_floor,
        "categories": sorted({r.category for r in train}),
        "val_onset_correlation": correlation,
        "val_onset_hop_accuracy": hop_accuracy,
        "steps": steps,
    }


def onset_predictor(checkpoint: dict) -> FlowEncoder:
    """The pre-trained encoder with its onset head, from a checkpoint `pretrain_flow_encoder` wrote."""
    encoder = FlowEncoder(FlowEncoderConfig(**checkpoint["config"]), onset_hops=onset_hops_of(checkpoint))
    encoder.load_state_dict(checkpoint["state_dict"] | checkpoint["onset_head"])
    return encoder.eval()


def onset_hops_of(checkpoint: dict) -> int:
    """Hops per window of a pre-trained encoder's onset head (those written before hops: one)."""
    return int(checkpoint.get("onset_hops", 1))


def onset_floor_of(checkpoint: dict) -> float:
    """The floor below which a pre-trained encoder's targets were zeroed (those written before: none)."""
    return float(checkpoint.get("onset_floor", 0.0))


@torch.no_grad()
def predict_onsets(encoder: FlowEncoder, window_flow: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """(num_frames, onset_hops): the predicted onset profile of every window of one clip."""
    stacks = _clip_stacks(window_flow, encoder.config.stack).to(device)
    return encoder.onset_profile(encoder(stacks)).cpu()


HEAD_FIT_STEPS = 300  # full-batch steps of the hop classifier fitted on frozen features


def fit_onset_head(
    exported: dict,
    data: PreparedData,
    *,
    onset_hops: int = 1,
    onset_floor: float = 0.0,
    category: str | None = None,
) -> dict:
    """An onset head for flow encoder weights trained elsewhere (which bring none), on the frozen
    trunk's feature of every training window: the strength by least squares (the linear map that
    correlates best), the hop of each event by multinomial logistic regression (no closed form)."""
    encoder = FlowEncoder(FlowEncoderConfig(**exported["config"]))
    encoder.load_state_dict(trunk_weights(exported["state_dict"]))
    encoder.eval()
    features, targets = [], []
    with torch.no_grad():
        for record in data.clips(split="train", category=category):
            flow, profile = _clip_targets(data, record, onset_hops, onset_floor)
            features.append(encoder(_clip_stacks(flow, encoder.config.stack)))
            targets.append(profile)
    if not features:
        raise ValueError(f"no training clips in {data.root} to fit the flow encoder's onset head on")
    x, profile = torch.cat(features), torch.cat(targets)
    ones = torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)  # the bias as a constant input
    solution = torch.linalg.lstsq(ones, profile.sum(dim=1, keepdim=True)).solution[:, 0]
    weight, bias = solution[None, :-1].clone(), solution[-1:].clone()
    events = profile.sum(dim=1) >= EVENT_STRENGTH
    if onset_hops > 1:
        classifier = torch.nn.Linear(x.shape[1], onset_hops)
        if bool(events.any()):
            optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-2)
            wanted = profile[events].argmax(dim=1)
            for _ in range(HEAD_FIT_STEPS):
                loss = functional.cross_entropy(classifier(x[events]), wanted)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        weight = torch.cat([weight, classifier.weight.detach()])
        bias = torch.cat([bias, classifier.bias.detach()])
    return {"onset.weight": weight, "onset.bias": bias}


@torch.no_grad()
def _predicted_and_actual(
    encoder: FlowEncoder, data: PreparedData, records: list, device: str, floor: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and actual onset profiles of every window of ``records``, (N, onset_hops) each (the
    actual ones below ``floor`` zeroed, as the encoder was trained)."""
    was_training = encoder.training
    encoder.eval()
    predicted, actual = [], []
    for record in records:
        flow, profile = _clip_targets(data, record, encoder.onset_hops, floor)
        predicted.append(predict_onsets(encoder, flow, device))
        actual.append(profile)
    encoder.train(was_training)
    return torch.cat(predicted), torch.cat(actual)


def _correlation(predicted: torch.Tensor, actual: torch.Tensor) -> float:
    both = torch.stack([predicted.sum(dim=1), actual.sum(dim=1)])
    return float(torch.corrcoef(both)[0, 1].nan_to_num(0.0))


def _hop_accuracy(predicted: torch.Tensor, actual: torch.Tensor) -> float:
    events = actual.sum(dim=1) >= EVENT_STRENGTH
    if not bool(events.any()):
        return float("nan")
    off = (predicted[events].argmax(dim=1) - actual[events].argmax(dim=1)).abs()
    return float((off <= 1).float().mean())


def onset_correlation(encoder: FlowEncoder, data: PreparedData, records: list, device: str = "cpu") -> float:
    """Pearson r over every window of ``records`` between predicted and actual onset strength."""
    return _correlation(*_predicted_and_actual(encoder, data, records, device))


def onset_hop_accuracy(encoder: FlowEncoder, data: PreparedData, records: list, device: str = "cpu") -> float:
    """Share of the event windows of ``records`` whose most likely hop is, to within one, the hop where
    their sound rises most (1.0 with one hop per window; NaN without events)."""
    return _hop_accuracy(*_predicted_and_actual(encoder, data, records, device))


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
    pre-training (format 1) or its onset head has other hops per window or another floor than the
    model's."""
    hops, floor = model_config.onset_hops, model_config.onset_floor

    def head_fits(checkpoint: dict) -> bool:
        return onset_hops_of(checkpoint) == hops and onset_floor_of(checkpoint) == floor

    if given is not None:
        exported = load_flow_encoder_weights(given)
        if model_config.uses_onsets and ("onset_head" not in exported or not head_fits(exported)):
            logger.info(
                "%s has no onset head of %d hops, floor %g: fitting one on the training clips",
                given,
                hops,
                floor,
            )
            exported["onset_head"] = fit_onset_head(
                exported, data, onset_hops=hops, onset_floor=floor, category=category
            )
            exported["onset_hops"], exported["onset_floor"] = hops, floor
        return exported
    path = runs / FLOW_ENCODER_FILE
    if path.exists():
        found = torch.load(path, map_location="cpu", weights_only=True)
        if found.get("format") != FORMATS[FLOW_ENCODER]:
            logger.warning(
                "%s is a format-%s flow encoder (a category classifier): pre-training again",
                path,
                found.get("format"),
            )
        elif FlowEncoderConfig(**found["config"]) != model_config.flow_encoder_config:
            logger.warning(
                "%s is a flow encoder of %s, the model needs %s: pre-training again",
                path,
                FlowEncoderConfig(**found["config"]),
                model_config.flow_encoder_config,
            )
        elif model_config.uses_onsets and not head_fits(found):
            logger.warning(
                "%s places onsets at %d hops per window with floor %g, the model at %d with %g: "
                "pre-training again",
                path,
                onset_hops_of(found),
                onset_floor_of(found),
                hops,
                floor,
            )
        else:
            return load_checkpoint(path, kind=FLOW_ENCODER)
    logger.info("pre-training the flow encoder on %s into %s", data.root, path)
    payload = pretrain_flow_encoder(
        data,
        model_config.flow_encoder_config,
        onset_hops=hops,
        onset_floor=floor,
        category=category,
        steps=steps,
        device=device,
        progress=progress,
    )
    save_checkpoint(path, payload, kind=FLOW_ENCODER)
    return load_checkpoint(path, kind=FLOW_ENCODER)
