"""Configuration: the dataclasses where the rates line up, each checked when it is built — data
preparation (PrepareConfig, SplitConfig) and the model (ModelConfig, with its presets). Plain values
only: importing this module loads neither OpenCV nor torchvision."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from generation import SAMPLE_RATE, SAMPLES_PER_FRAME
from generation.flow_encoder import FlowEncoderConfig
from generation.onset_strength import HOPS_PER_WINDOW
from generation.options import option
from generation.quantize import LINEAR, SCHEMES

FC6_DIM = 4096  # VGG19's fc6, the per-frame visual feature
DIS = "dis"  # optical flow by OpenCV's DIS (CPU, no weights)
RAFT = "raft"  # optical flow by torchvision's RAFT (small)
FLOW_METHODS = (DIS, RAFT)
PAD = "pad"  # short clips are padded (silence, last frame held)
SKIP = "skip"  # short clips are skipped


@dataclass(frozen=True)
class PrepareConfig:
    sample_rate: int = option(SAMPLE_RATE, "audio sample rate in Hz")
    samples_per_frame: int = option(SAMPLES_PER_FRAME, "audio samples per video frame; fps = rate / this")
    frame_size: int = option(224, "frames resized (short side) and centre-cropped to this square for VGG19")
    max_seconds: float = option(10.0, "cut longer clips")
    min_seconds: float = option(1.0, "skip shorter clips")
    clip_seconds: float | None = option(
        None, "make every clip exactly this long (default: each keeps min(max, its length))"
    )
    short_clips: str = option(
        SKIP,
        "with --clip-seconds: pad shorter clips (silence, last frame held) or skip them",
        choices=(PAD, SKIP),
    )
    flow_method: str = option(
        DIS, "optical flow: OpenCV DIS, or torchvision RAFT (needs its weights)", choices=FLOW_METHODS
    )
    flow_compute_size: int = option(112, "frame size the flow is computed at (RAFT: at least 128)")
    flow_size: int = option(56, "stored flow resolution")
    feature_dim: int = FC6_DIM

    def __post_init__(self) -> None:
        if self.samples_per_frame <= 0 or self.sample_rate % 2:
            raise ValueError("samples_per_frame must be positive and sample_rate even")
        if self.short_clips not in (PAD, SKIP):
            raise ValueError(f"short_clips must be {PAD!r} or {SKIP!r}, got {self.short_clips!r}")
        if self.flow_method not in FLOW_METHODS:
            raise ValueError(f"flow method must be one of {FLOW_METHODS}, got {self.flow_method!r}")
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(
                f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}"
            )
        if self.flow_method == RAFT and (self.flow_compute_size < 128 or self.flow_compute_size % 8):
            raise ValueError(
                f"RAFT needs a flow compute size of at least 128, divisible by 8; "
                f"got {self.flow_compute_size}"
            )
        if self.clip_seconds is not None and self.clip_seconds < self.min_seconds:
            raise ValueError(f"clip_seconds ({self.clip_seconds}) is below min_seconds ({self.min_seconds})")

    @property
    def fps(self) -> float:
        return self.sample_rate / self.samples_per_frame

    def frames_for(self, seconds: float) -> int:
        # A hair of tolerance: 4.0 s at 15.625 fps is 62.5 frames, but 3.9999999 must not lose one.
        return math.floor(seconds * self.fps + 1e-6)


SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitConfig:
    seed: int = option(0, "seed of the stratified train/val/test split")
    val_ratio: float = option(0.1, "share of each category's clips for validation")
    test_ratio: float = option(0.1, "share of each category's clips for testing")
    only: str | None = option(
        None,
        "prepare only the clips of this split (e.g. test, to sample with shipped checkpoints); the split "
        "is drawn over all clips, so it is the one a full preparation gives",
        choices=SPLITS,
    )

    def __post_init__(self) -> None:
        if self.only is not None and self.only not in SPLITS:
            raise ValueError(f"only must be one of {SPLITS}, got {self.only!r}")
        if self.val_ratio < 0 or self.test_ratio < 0 or self.val_ratio + self.test_ratio >= 1:
            raise ValueError(
                f"split ratios must be >= 0 and leave some training clips: "
                f"val {self.val_ratio}, test {self.test_ratio}"
            )


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
    flow_stabilise: bool = False  # the flow encoder sees each field less its median (`FlowEncoderConfig`)
    # Flow-based only: the flow encoder's predicted onset strength of each window enters the coarsest
    # tier through its own projection (the audio's own strength for part of training, train.py).
    onset_conditioning: bool = True
    # ... at this many points per video frame (`generation.onset_strength.onset_profile`): 1 = once per
    # frame; 8 = in every 8-ms hop, the cue placed where the strike begins (`train --onset-hops`).
    # Measured on the drum set it did not help yet (README, "Does the sound follow the video?").
    onset_hops: int = 1
    # ... and a learned "no cue" input in its place for a share of training's streams (`train
    # --onset-dropout`): onset guidance then steers away from what the model does told nothing, the
    # unconditional branch of classifier-free guidance, instead of from a cue with its events clamped.
    onset_null: bool = False
    # ... and, through a projection of its own, into the middle tier's conditioning as well
    # (`train --onset-middle`): one GRU between the cue and the sample-level MLP instead of two.
    onset_middle: bool = False
    # ... and, per coarse step, the cue times how far into its window (hop) the step is (`train
    # --onset-phase`): told "a strike in this window" and nothing else, a GRU fed the same vector at
    # each of the window's 64 steps cannot make its hazard rise toward the window's end, where a strike
    # not yet made must come; the drum flow model missed late-window strikes more (55 % vs 65 % found).
    # Measured, it did not help (drum validation onset F1 0.52 against 0.63 at 10 000 steps, README).
    onset_phase: bool = False
    # ... as events only: windows whose onset strength is below this are told 0, in training's teacher
    # forcing and in the flow encoder's targets (`generation.onset_strength.floored`, `train
    # --onset-floor`; 0 = the profile as it is).
    onset_floor: float = 0.0

    def __post_init__(self) -> None:
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {self.conditioning!r}")
        if self.quantization not in SCHEMES:
            raise ValueError(f"quantization must be one of {SCHEMES}, got {self.quantization!r}")
        if self.top_frame % self.mid_frame:
            raise ValueError(
                f"top_frame ({self.top_frame}) must be a multiple of mid_frame ({self.mid_frame})"
            )
        if self.onset_floor < 0:
            raise ValueError(f"onset_floor must be >= 0, got {self.onset_floor}")
        hops_fit = not (HOPS_PER_WINDOW % self.onset_hops or self.top_steps_per_video_frame % self.onset_hops)
        if self.uses_onsets and not hops_fit:
            raise ValueError(
                f"onset_hops ({self.onset_hops}) must divide {HOPS_PER_WINDOW} and the coarsest tier's "
                f"{self.video_frame_samples // self.top_frame} steps per video frame"
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
    def conditioning_steps_per_video_frame(self) -> int:
        """Visual conditioning vectors per video frame: one, (onset cue) one per onset hop, or (onset
        phase) one per coarse step."""
        if self.uses_onsets and self.onset_phase:
            return self.top_steps_per_video_frame
        return self.onset_hops if self.uses_onsets else 1

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

    @property
    def flow_encoder_config(self) -> FlowEncoderConfig:
        """The flow encoder this (flow-based) model is built with."""
        return FlowEncoderConfig(
            self.flow_stack, self.flow_size, self.flow_channels, self.flow_feature_dim, self.flow_stabilise
        )

    @property
    def uses_onsets(self) -> bool:
        return self.conditioning == FLOW and self.onset_conditioning

    def replace(self, **changes: object) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """A config as a checkpoint stores it. Those written before onset conditioning existed lack it:
        a flow model of then had no onset path; for the other models it means nothing, and the default
        keeps their configs equal to today's (so their runs resume). Flow models written before onset
        hops were told the onset strength once per video frame (the default still)."""
        flow = values.get("conditioning") == FLOW
        before = {
            "onset_conditioning": not flow,
            "onset_hops": 1 if flow else cls.onset_hops,
            "flow_stabilise": False,
        }
        return cls(**before | values)


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
