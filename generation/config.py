"""Model configuration: one dataclass where the rates line up, checked when it is built, and presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from generation import SAMPLE_RATE, SAMPLES_PER_FRAME
from generation.features import FC6_DIM
from generation.quantize import LINEAR, SCHEMES

UNCONDITIONAL = "unconditional"
FRAME = "frame"  # frame-to-frame: per-frame fc6 added to the coarsest tier's input
SEQ2SEQ = "seq2seq"  # sequence-to-sequence: a video encoder's final state is the coarsest tier's h0
FLOW = "flow"  # flow-based: seq2seq + per-frame (encoder state, flow feature) into the coarsest tier
CONDITIONINGS = (UNCONDITIONAL, FRAME, SEQ2SEQ, FLOW)


@dataclass(frozen=True)
class ModelConfig:
    conditioning: str = UNCONDITIONAL
    top_frame: int = 8  # samples per step of the coarsest tier
    mid_frame: int = 2  # samples per step of the middle tier; also the sample MLP's window
    dim: int = 1024
    rnn_layers: int = 1
    mlp_layers: int = 3  # hidden layers of the sample-level MLP
    embed_dim: int = 256
    levels: int = 256
    quantization: str = LINEAR
    sample_rate: int = SAMPLE_RATE
    video_frame_samples: int = SAMPLES_PER_FRAME  # audio samples per video frame
    feature_dim: int = FC6_DIM
    encoder_dim: int = 512  # the video encoder GRU (seq2seq, flow)
    flow_size: int = 56  # stored flow resolution (from the prepared data)
    flow_stack: int = 5  # consecutive flow fields seen by the temporal ConvNet
    flow_channels: int = 32
    flow_feature_dim: int = 128

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {self.conditioning!r}")
        if self.quantization not in SCHEMES:
            raise ValueError(f"quantization must be one of {SCHEMES}, got {self.quantization!r}")
        if self.top_frame % self.mid_frame:
            raise ValueError(
                f"top_frame ({self.top_frame}) must be a multiple of mid_frame ({self.mid_frame})"
            )
        if self.video_frame_samples % self.top_frame:
            raise ValueError(
                f"a video frame ({self.video_frame_samples} samples) must span a whole number of "
                f"coarse steps of {self.top_frame} samples"
            )

    @property
    def mid_per_top(self) -> int:
        """Middle-tier steps per coarse step: the coarsest tier's upsampling ratio."""
        return self.top_frame // self.mid_frame

    @property
    def top_steps_per_video_frame(self) -> int:
        return self.video_frame_samples // self.top_frame

    @property
    def fps(self) -> float:
        return self.sample_rate / self.video_frame_samples

    @property
    def uses_features(self) -> bool:
        return self.conditioning != UNCONDITIONAL

    @property
    def uses_encoder(self) -> bool:
        return self.conditioning in (SEQ2SEQ, FLOW)

    @property
    def uses_flow(self) -> bool:
        return self.conditioning == FLOW

    def replace(self, **changes: object) -> ModelConfig:
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, ModelConfig] = {
    # The paper's decoder: 3 tiers, coarse frames of 8 samples, middle of 2, dim 1024.
    "paper": ModelConfig(top_frame=8, mid_frame=2, dim=1024, rnn_layers=1, mlp_layers=3, embed_dim=256),
    # The old reference implementation's setting (tiers of 16 and 64 samples, 2-layer GRU), for benchmarks.
    "reference": ModelConfig(top_frame=64, mid_frame=16, dim=1024, rnn_layers=2, mlp_layers=3, embed_dim=256),
    # Small enough to train on a CPU for the demo.
    "small": ModelConfig(
        top_frame=16,
        mid_frame=4,
        dim=256,
        rnn_layers=1,
        mlp_layers=2,
        embed_dim=64,
        encoder_dim=128,
        flow_channels=16,
        flow_feature_dim=64,
    ),
    # For tests.
    "tiny": ModelConfig(
        top_frame=16,
        mid_frame=4,
        dim=32,
        rnn_layers=1,
        mlp_layers=2,
        embed_dim=16,
        encoder_dim=16,
        flow_stack=3,
        flow_channels=4,
        flow_feature_dim=8,
    ),
}


def preset(name: str, **changes: object) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name].replace(**changes)
