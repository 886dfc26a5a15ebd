"""Sampling speed: real-time factor (audio seconds generated per wall second, whole batch) of the fast
path and of a naive per-sample loop with a host round trip, like the old reference generators."""

from __future__ import annotations

import time

import torch

from generation.bench.naive import NaiveGenerator
from generation.config import UNCONDITIONAL, preset
from generation.model import SampleRNN
from generation.sample import Generator, real_time_factor


def measure_sampling(
    preset_name: str,
    *,
    batch_size: int,
    seconds: float,
    naive: bool,
    cuda_graphs: bool = True,
    conditioning: str = UNCONDITIONAL,
    device: str | None = None,
) -> dict:
    device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    config = preset(preset_name, conditioning=conditioning)
    torch.manual_seed(0)
    model = SampleRNN(config).to(device_).eval()
    frames = max(1, round(seconds * config.fps))
    samples = frames * config.video_frame_samples
    features = torch.rand(batch_size, frames, config.feature_dim, device=device_)
    flow = torch.zeros(batch_size, frames, 2, config.flow_size, config.flow_size, device=device_)
    inputs = {
        "features": features,
        "flow": flow,
        "clip_features": features,
        "clip_frames": torch.full((batch_size,), frames),
    }
    generator = NaiveGenerator(model) if naive else Generator(model, cuda_graphs=cuda_graphs)
    generator.generate(
        config.video_frame_samples,
        batch_size=batch_size,
        **{
            k: (v[:, :1] if k != "clip_frames" else torch.ones(batch_size, dtype=torch.long))
            for k, v in inputs.items()
        },
    )  # warm-up
    if device_.type == "cuda":
        torch.cuda.synchronize(device_)
    started = time.perf_counter()
    generator.generate(samples, batch_size=batch_size, **inputs)
    if device_.type == "cuda":
        torch.cuda.synchronize(device_)
    elapsed = time.perf_counter() - started
    return {
        "preset": preset_name,
        "path": "naive" if naive else ("fast" if cuda_graphs or device_.type != "cuda" else "eager"),
        "batch": batch_size,
        "audio_seconds_per_stream": samples / config.sample_rate,
        "device": torch.cuda.get_device_name(device_) if device_.type == "cuda" else "cpu",
        "rtf": round(real_time_factor(samples, batch_size, elapsed, config.sample_rate), 4),
    }
