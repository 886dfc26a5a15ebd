"""Which arithmetic training and feature extraction use on which device."""

from __future__ import annotations

import pytest
import torch

from generation import precision
from generation.precision import AUTO, BF16, FP32, autocast, native_precision, training_precision


def test_cuda_is_always_bf16_and_fp32_can_be_forced_anywhere() -> None:
    assert native_precision(torch.device("cuda")) == BF16
    assert training_precision(torch.device("cuda"), AUTO) == BF16
    assert training_precision(torch.device("cuda"), FP32) == FP32
    assert training_precision(torch.device("cpu"), FP32) == FP32


def test_a_cpu_without_bf16_instructions_trains_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "_cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert native_precision(torch.device("cpu")) == FP32
    assert training_precision(torch.device("cpu"), AUTO) == FP32


def test_this_cpu_is_described_by_its_own_flags() -> None:
    flags = precision._cpu_flags()
    onednn = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    expected = BF16 if onednn and flags & precision.NATIVE_CPU_FLAGS else FP32
    assert native_precision(torch.device("cpu")) == expected


def test_an_unknown_precision_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, got 'fp16'"):
        training_precision(torch.device("cpu"), "fp16")


def test_the_autocast_it_gives_runs_products_in_bf16_only_when_asked() -> None:
    layer = torch.nn.Linear(4, 4)
    with autocast(torch.device("cpu"), BF16):
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), FP32):
        assert layer(torch.randn(2, 4)).dtype == torch.float32
