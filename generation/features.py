"""Per-frame VGG19 fc6 features (4096-d), the visual input of all three models.

ImageNet weights are used when they are on disk — torchvision's cache (where `vgg19(weights=...)`
puts them) or a file given with `--vgg-weights`. Otherwise the network is randomly initialised from a
fixed seed, with a loud warning that is also recorded in the manifest: features from random weights
still carry timing (they change when the picture changes) but no semantics.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torchvision.models import VGG19_Weights, vgg19

from generation.precision import BF16, native_precision
from generation.weights import WeightsIdentity, find_weights, hub_cache_file, load_pretrained, seeded_init

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RANDOM_INIT_SEED = 0
RANDOM_WEIGHTS_WARNING = (
    "VGG19 ImageNet weights not found: using RANDOM initialisation (seed 0). Features will follow the "
    "picture's changes but carry no semantics, so models trained on them are not the paper's. Put the "
    "weights in torchvision's cache ({cache}) or pass --vgg-weights PATH."
)


def resolve_vgg_weights(weights_path: Path | None) -> WeightsIdentity:
    """ImageNet weights from ``weights_path`` or torchvision's cache; else seeded random ones, flagged."""
    found = find_weights(weights_path, VGG19_Weights.IMAGENET1K_V1.url, option="--vgg-weights")
    if found is not None:
        return found
    warning = RANDOM_WEIGHTS_WARNING.format(cache=hub_cache_file(VGG19_Weights.IMAGENET1K_V1.url).parent)
    return WeightsIdentity("random-init", f"torch.manual_seed({RANDOM_INIT_SEED})", None, warning)


class Fc6Extractor:
    """Frames (T, H, W, 3) uint8 RGB -> fc6 activations after ReLU, (T, 4096) float32."""

    def __init__(self, identity: WeightsIdentity, *, device: str | None = None, batch_size: int = 32) -> None:
        self.identity = identity
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = batch_size
        self.precision = native_precision(self.device)
        if identity.pretrained:
            network = load_pretrained(vgg19(weights=None), identity)
            logger.info("VGG19 fc6: ImageNet weights from %s", identity.source)
        else:
            network = seeded_init(lambda: vgg19(weights=None), RANDOM_INIT_SEED)
            logger.warning("!!!!! %s !!!!!", identity.warning)
        # fc6 = the first Linear of the classifier; its ReLU follows. Dropout and fc7/fc8 are not needed.
        self.network = (
            torch.nn.Sequential(
                network.features, network.avgpool, torch.nn.Flatten(1), *network.classifier[:2]
            )
            .eval()
            .to(self.device, memory_format=torch.channels_last)
        )
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        outputs = []
        for start in range(0, len(frames), self.batch_size):
            batch = torch.from_numpy(frames[start : start + self.batch_size]).to(self.device)
            batch = batch.permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
            batch = ((batch - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == BF16):
                outputs.append(self.network(batch).float().cpu())
        return torch.cat(outputs).numpy()  # (T, 4096)
