"""Training throughput: samples per second of one optimiser step (forward, backward, clip, Adam).

Uses random codes and features of the right shapes, so it measures the model and the step, not the
data pipeline. `reference` is the old reference implementation's setting built from our own code
(tiers of 16 and 64 samples, 2-layer GRU, dim 1024, batch 128, fp32): its published anchor on an H100
is 2.17 M samples/s for the old code.
"""

from __future__ import annotations

import resource
import time

import torch

from generation.config import UNCONDITIONAL, ModelConfig, preset
from generation.model import SampleRNN
from generation.precision import BF16, autocast, native_precision
from generation.scoring import sample_bits

GRU_GATES = 3


def flops_per_sample(config: ModelConfig, *, window_lookup_samples: int | None = None) -> float:
    """Floating-point operations of one training step per audio sample of the unconditional decoder:
    the forward pass's matrix products (2 per multiply-add) times 3 for forward + backward (the backward
    computes a gradient for each operand). Elementwise work is left out: it is not where the time goes.

    On a CPU the sample MLP's window convolution is table lookups (`SampleMLP._window_by_lookup`):
    give the samples of a step as ``window_lookup_samples`` and the convolution's products are replaced
    by building the tables once per step, shared by those samples.
    """
    gru = 2 * GRU_GATES * config.dim * config.dim * config.rnn_layers  # input and hidden products
    top = config.top_frame * config.dim + gru + config.dim * config.dim * config.mid_per_top
    mid = config.mid_frame * config.dim + gru + config.dim * config.dim * config.mid_frame
    window = config.mid_frame * config.embed_dim * config.dim
    if window_lookup_samples:
        window = window * config.levels / window_lookup_samples
    mlp = window + max(0, config.mlp_layers - 2) * config.dim * config.dim + config.dim * config.levels
    multiply_adds = top / config.top_frame + mid / config.mid_frame + mlp
    return 3 * 2 * multiply_adds


def matmul_gflops(
    device: torch.device,
    size: tuple[int, int, int] = (16384, 256, 256),
    repeats: int = 20,
    dtype: torch.dtype = torch.float32,
) -> float:
    """What this device's matrix product reaches at the sample MLP's shape, in GFLOP/s."""
    m, k, n = size
    a, b = torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return 2 * m * k * n * repeats / (time.perf_counter() - started) / 1e9


def measure(
    preset_name: str,
    *,
    batch_size: int,
    chunk: int = 1024,
    steps: int = 20,
    warmup: int = 3,
    conditioning: str = UNCONDITIONAL,
    precision: str = "bf16",
    compile: bool = False,
    device: str | None = None,
) -> dict:
    device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    config = preset(preset_name, conditioning=conditioning)
    if chunk % config.video_frame_samples:
        raise ValueError(
            f"chunk {chunk} must be a multiple of {config.video_frame_samples} samples (a video frame)"
        )
    torch.manual_seed(0)
    model = SampleRNN(config).to(device_)
    step_model = torch.compile(model) if compile else model
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    frames = chunk // config.video_frame_samples
    codes = torch.randint(0, config.levels, (batch_size, config.top_frame - 1 + chunk + 1), device=device_)
    features = torch.rand(batch_size, frames, config.feature_dim, device=device_)
    flow = torch.randn(batch_size, frames, 2, config.flow_size, config.flow_size, device=device_)
    clip = {"clip_features": features, "clip_frames": torch.full((batch_size,), frames)}
    # bf16 autocast only where it is native; asked for elsewhere, the run is fp32 and says so.
    used = BF16 if precision == BF16 and native_precision(device_) == BF16 else "fp32"
    state = None
    if device_.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device_)

    def one_step() -> None:
        nonlocal state
        with autocast(device_, used):
            logits, state = step_model(codes[:, :-1], state, features, flow, None, **clip)
        loss = sample_bits(logits, codes[:, config.top_frame :]).mean()  # the training loss, in bits
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state = state.detach()

    for _ in range(warmup):
        one_step()
    if device_.type == "cuda":
        torch.cuda.synchronize(device_)
    started = time.perf_counter()
    for _ in range(steps):
        one_step()
    if device_.type == "cuda":
        torch.cuda.synchronize(device_)
    elapsed = time.perf_counter() - started
    if device_.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device_) / 2**30
        device_name = torch.cuda.get_device_name(device_)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB, whole process
        device_name = "cpu"
    cpu = device_.type == "cpu"
    flops = flops_per_sample(config, window_lookup_samples=batch_size * chunk if cpu else None)
    dtype = torch.bfloat16 if used == BF16 else torch.float32
    gflops = matmul_gflops(device_, dtype=dtype) if cpu else None
    return {
        "preset": preset_name,
        "conditioning": conditioning,
        "batch": batch_size,
        "chunk": chunk,
        "precision": used,
        "compile": compile,
        "device": device_name,
        "samples_per_second": round(batch_size * chunk * steps / elapsed),
        "peak_memory_gib": round(peak, 2),
        "parameters": sum(p.numel() for p in model.parameters()),
        "gflop_per_sample": round(flops / 1e9, 6),
        # On a CPU: the rate if every product of the step ran as fast as one large matrix product of
        # the sample MLP's shape does here, in the step's precision. Not a hard limit (bf16 runs the
        # GRU's recurrence in fp32, and small products are slower than large ones), but the scale
        # against which a CPU step's efficiency is read.
        "matmul_gflops": None if gflops is None else round(gflops, 1),
        "matmul_bound_samples_per_second": None if gflops is None else round(gflops * 1e9 / flops),
    }
