"""Which number format a device computes fast in, and the autocast that uses it: one home for the
choice made by feature extraction, training and the throughput benchmark.

bf16 is native on CUDA and on CPUs with bf16 dot-product instructions (AVX512-BF16, AMX): there a
matrix product in bf16 runs several times faster than in fp32 (2.5 TFLOP/s against 0.1-0.4 on the
2-core Sapphire Rapids VM this project is developed on, at the sample MLP's shape). Elsewhere bf16 is
emulated and slower than fp32, so fp32 is used.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

BF16, FP32 = "bf16", "fp32"
AUTO = "auto"
TRAINING_PRECISIONS = (AUTO, FP32)
NATIVE_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: trust oneDNN's own check alone
        return frozenset(NATIVE_CPU_FLAGS)
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def native_precision(device: torch.device) -> str:
    """BF16 where the hardware runs bf16 products natively, FP32 elsewhere."""
    if device.type == "cuda":
        return BF16
    if (
        device.type == "cpu"
        and torch.backends.mkldnn.is_available()
        and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        and _cpu_flags() & NATIVE_CPU_FLAGS
    ):
        return BF16
    return FP32


def check_training_precision(requested: str) -> None:
    """Raise ValueError naming the choices unless ``requested`` is one of TRAINING_PRECISIONS."""
    if requested not in TRAINING_PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(TRAINING_PRECISIONS)}, got {requested!r}")


def training_precision(device: torch.device, requested: str) -> str:
    """What `TrainConfig.precision` means on this device: AUTO is bf16 autocast where native."""
    check_training_precision(requested)
    return native_precision(device) if requested == AUTO else FP32


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``precision`` is BF16, else nothing."""
    if precision == BF16:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
