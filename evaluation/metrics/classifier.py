"""An audio classifier of the sound categories, trained here on the real training clips: its
penultimate-layer embeddings give the Fréchet distance of generated audio to real audio, and its
accuracy on generated audio says whether a soundtrack sounds like its category. A small CNN on
log-mel spectrograms, stored as a self-describing checkpoint (categories, settings, weights)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from evaluation.metrics.spectral import log_mel
from generation.checkpoint import AUDIO_CLASSIFIER, load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierConfig:
    sample_rate: int = 16_000
    n_mels: int = 64
    crop_seconds: float = 1.0
    channels: int = 32
    embedding: int = 64
    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0


class AudioClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig, categories: int) -> None:
        super().__init__()
        c = config.channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(2 * c, config.embedding), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(config.embedding, categories)

    def forward(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.features(mel.unsqueeze(1))
        return embedding, self.head(embedding)


def _mel(audio: np.ndarray, config: ClassifierConfig) -> np.ndarray:
    return log_mel(audio, config.sample_rate, n_mels=config.n_mels).astype(np.float32)


def train_classifier(
    clips: list[tuple[np.ndarray, str]], config: ClassifierConfig | None = None, *, progress: bool = True
) -> dict:
    """Train on (audio, category) pairs of real training clips; returns the checkpoint payload."""
    config = config or ClassifierConfig()
    categories = sorted({c for _, c in clips})
    if len(categories) < 2:
        raise ValueError("the classifier needs real training clips of at least two categories")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    mels = [_mel(a, config) for a, _ in clips]
    labels = [categories.index(c) for _, c in clips]
    frames = max(8, min(int(config.crop_seconds * config.sample_rate / 256), min(m.shape[1] for m in mels)))
    mean, std = float(np.mean([m.mean() for m in mels])), float(np.mean([m.std() for m in mels]) + 1e-6)
    model = AudioClassifier(config, len(categories))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for _ in tqdm(range(config.steps), desc="audio classifier", disable=not progress):
        picks = rng.integers(0, len(mels), config.batch_size)
        batch = []
        for i in picks:
            start = rng.integers(0, mels[i].shape[1] - frames + 1)
            batch.append(mels[i][:, start : start + frames])
        x = (torch.from_numpy(np.stack(batch)) - mean) / std
        _, logits = model(x)
        loss = nn.functional.cross_entropy(logits, torch.tensor([labels[i] for i in picks]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return {
        "config": asdict(config),
        "categories": categories,
        "normalisation": {"mean": mean, "std": std},
        "trained_on": len(clips),
        "model": model.state_dict(),
    }


class Classifier:
    """A trained classifier, loaded from its checkpoint, ready to embed and classify waveforms."""

    def __init__(self, payload: dict) -> None:
        self.config = ClassifierConfig(**payload["config"])
        self.categories: list[str] = payload["categories"]
        self.mean, self.std = payload["normalisation"]["mean"], payload["normalisation"]["std"]
        self.model = AudioClassifier(self.config, len(self.categories))
        self.model.load_state_dict(payload["model"])
        self.model.eval()

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        return cls(load_checkpoint(path, kind=AUDIO_CLASSIFIER))

    @staticmethod
    def save(path: str | Path, payload: dict) -> None:
        save_checkpoint(path, payload, kind=AUDIO_CLASSIFIER)

    @torch.no_grad()
    def __call__(self, audio: np.ndarray) -> tuple[np.ndarray, str]:
        """(embedding, predicted category) of a whole waveform at the classifier's sample rate."""
        x = (torch.from_numpy(_mel(audio, self.config))[None] - self.mean) / self.std
        embedding, logits = self.model(x)
        return embedding[0].numpy(), self.categories[int(logits.argmax())]
