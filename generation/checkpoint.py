"""Every checkpoint this project writes, read and written only here. Each is self-describing: a
`kind` and that kind's format version, checked on load, and what rebuilds it (configs):

- SampleRNN (training and inference): weights, optimiser, step, best validation NLL, the configs,
  the data stream's position and the carried hidden state; the model is rebuilt from its stored config;
- the flow encoder (`FlowEncoder.export()` plus how it was pre-trained);
- the audio classifier of the objective metrics (evaluation.metrics.classifier).

Written through `generation.atomic`, so a crash never leaves a half-written one; loaded with
`weights_only=True`. `export_for_inference` makes the small checkpoints the repository ships: weights
only (no optimiser, data position or hidden state), large matrices as int8 with a float scale per
output row, the rest fp16; `model_from_checkpoint` reads both kinds."""

from __future__ import annotations

from pathlib import Path

import torch

from generation.atomic import atomic_path
from generation.config import ModelConfig
from generation.model import SampleRNN

SAMPLERNN = "vis2sound.samplernn"
FLOW_ENCODER = "vis2sound.flow-encoder"
AUDIO_CLASSIFIER = "vis2sound.audio-classifier"
FORMATS = {SAMPLERNN: 1, FLOW_ENCODER: 2, AUDIO_CLASSIFIER: 1}  # bump a kind's number when it changes
FORMAT = FORMATS[SAMPLERNN]


def save_checkpoint(path: Path | str, payload: dict, *, kind: str = SAMPLERNN) -> None:
    with atomic_path(path) as temporary:
        torch.save({"kind": kind, "format": FORMATS[kind]} | payload, temporary)


def load_checkpoint(
    path: Path | str, map_location: str | torch.device = "cpu", *, kind: str = SAMPLERNN
) -> dict:
    """The payload of a checkpoint of ``kind``, its format version checked; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    # SampleRNN checkpoints of format 1 were written before kinds existed.
    found = payload.get("kind", SAMPLERNN if "model_config" in payload else None)
    if found != kind:
        raise ValueError(f"{path}: a {found or 'foreign'} checkpoint, expected a {kind} one")
    if payload.get("format") != FORMATS[kind]:
        raise ValueError(
            f"{path}: {kind} checkpoint format {payload.get('format')}, this version reads {FORMATS[kind]}"
        )
    return payload


def load_flow_encoder_weights(path: Path | str) -> dict:
    """A flow encoder pre-trained here (a checkpoint of its kind), or weights trained elsewhere in the
    layout of `FlowEncoder.export()`: {"config": {...}, "state_dict": {...}}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"flow encoder {path}: no such file")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if "kind" in payload:
        return load_checkpoint(path, kind=FLOW_ENCODER)
    if not {"config", "state_dict"} <= set(payload):
        raise ValueError(
            f"{path}: not flow encoder weights; expected the layout of FlowEncoder.export(), "
            '{"config": {...}, "state_dict": {...}}'
        )
    return payload


def model_from_checkpoint(path: Path | str, device: str | torch.device = "cpu") -> tuple[SampleRNN, dict]:
    """The model rebuilt from the checkpoint's own config, with its weights, in eval mode."""
    payload = load_checkpoint(path, map_location=device)
    model = SampleRNN(ModelConfig.from_dict(payload["model_config"])).to(device)
    model.load_state_dict(_weights(payload))
    return model.eval(), payload


INT8_MIN_ELEMENTS = 65_536  # smaller tensors (biases, gains, embeddings) gain little and stay fp16
INFERENCE_KEYS = (
    "model_config",
    "train_config",
    "category",
    "step",
    "best_val_bits",
    "last_val_bits",
    "val_clips",
)


def _weights(payload: dict) -> dict[str, torch.Tensor]:
    """fp32 weights from a training checkpoint, or from an exported one (dequantised)."""
    weights = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
    for name, packed in payload.get("model_int8", {}).items():
        weights[name] = packed["q"].float() * packed["scale"]
    return weights


def export_for_inference(source: Path | str, target: Path | str) -> dict:
    """Write the weights of a training checkpoint as a small inference checkpoint; returns its
    description (also stored in it under "export")."""
    payload = load_checkpoint(source)
    plain, packed = {}, {}
    for name, tensor in payload["model"].items():
        if tensor.is_floating_point() and tensor.dim() >= 2 and tensor.numel() >= INT8_MIN_ELEMENTS:
            rows = tensor.float().reshape(tensor.shape[0], -1)
            scale = (rows.abs().amax(dim=1, keepdim=True) / 127).clamp_min(1e-12)
            packed[name] = {
                "q": (rows / scale).round().clamp(-127, 127).to(torch.int8).reshape(tensor.shape),
                "scale": scale.reshape(-1, *([1] * (tensor.dim() - 1))),
            }
        else:
            plain[name] = tensor.half() if tensor.is_floating_point() else tensor
    export = {
        "source": Path(source).name,
        "precision": f"int8 per-row for tensors of >= {INT8_MIN_ELEMENTS} elements, fp16 otherwise",
        "int8_tensors": len(packed),
    }
    light = {k: payload[k] for k in INFERENCE_KEYS if k in payload}
    save_checkpoint(Path(target), light | {"model": plain, "model_int8": packed, "export": export})
    return export
