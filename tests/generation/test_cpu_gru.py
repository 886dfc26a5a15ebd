"""The CPU GRU against `torch.nn.GRU`: same outputs, same gradients, same final state."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from generation.cpu_gru import run_gru, uses_cpu_gru

BATCH, STEPS, INPUT, HIDDEN = 3, 7, 5, 4


def gradients(gru: nn.GRU, x: torch.Tensor, h0: torch.Tensor, forward) -> tuple[torch.Tensor, ...]:
    """Outputs, final state and the gradients of a loss that depends on both, by `forward`."""
    x, h0 = x.clone().requires_grad_(), h0.clone().requires_grad_()
    out, final = forward(gru, x, h0)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + (final**2).sum()
    grads = torch.autograd.grad(loss, [x, h0, *gru.parameters()])
    return (out.detach(), final.detach(), *grads)


@pytest.mark.parametrize("layers", [1, 2])
def test_outputs_and_every_gradient_match_nn_gru(layers: int) -> None:
    torch.manual_seed(0)
    gru = nn.GRU(INPUT, HIDDEN, num_layers=layers, batch_first=True).double()
    x = torch.randn(BATCH, STEPS, INPUT, dtype=torch.float64)
    h0 = torch.randn(layers, BATCH, HIDDEN, dtype=torch.float64)
    assert uses_cpu_gru(gru, x)
    ours = gradients(gru, x, h0, run_gru)
    reference = gradients(gru, x, h0, lambda g, a, b: g(a, b))
    names = ["outputs", "final state", "x", "h0", *(name for name, _ in gru.named_parameters())]
    for name, a, b in zip(names, ours, reference, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=f"{name} differs from nn.GRU")


def test_the_hand_written_backward_passes_gradcheck() -> None:
    torch.manual_seed(1)
    gru = nn.GRU(INPUT, HIDDEN, batch_first=True).double()
    x = torch.randn(2, 4, INPUT, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, 2, HIDDEN, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: run_gru(gru, a, b)[0], (x, h0))


def test_without_gradients_it_is_nn_gru_itself() -> None:
    gru = nn.GRU(INPUT, HIDDEN, batch_first=True)
    x, h0 = torch.randn(BATCH, STEPS, INPUT), torch.zeros(1, BATCH, HIDDEN)
    with torch.no_grad():
        assert not uses_cpu_gru(gru, x)
        out, final = run_gru(gru, x, h0)
        expected, expected_final = gru(x, h0)
    assert torch.equal(out, expected) and torch.equal(final, expected_final)


def test_unsupported_grus_are_refused_by_name() -> None:
    gru = nn.GRU(INPUT, HIDDEN, batch_first=True, bidirectional=True)
    with pytest.raises(ValueError, match="unidirectional"):
        run_gru(gru, torch.randn(BATCH, STEPS, INPUT), torch.zeros(2, BATCH, HIDDEN))


def test_under_cpu_autocast_the_recurrence_stays_fp32_and_gradients_keep_their_dtypes() -> None:
    torch.manual_seed(2)
    gru = nn.GRU(16, 32, batch_first=True)
    x = torch.randn(4, 20, 16, dtype=torch.bfloat16)  # as a bf16 linear layer before it would give
    h0 = torch.randn(1, 4, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert uses_cpu_gru(gru, x.requires_grad_())
        ours = gradients(gru, x, h0, run_gru)
    reference = gradients(gru.double(), x.double(), h0.double(), lambda g, a, b: g(a, b))
    assert ours[0].dtype == torch.float32 and ours[1].dtype == torch.float32  # outputs, final state
    assert ours[2].dtype == torch.bfloat16 and all(g.dtype == torch.float32 for g in ours[3:])
    names = ["outputs", "final", "x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"]
    for name, a, b in zip(names, ours, reference, strict=True):
        # bf16 products: about 3 significant digits, relative to each tensor's own scale.
        scale = b.abs().max().item()
        assert (a.double() - b).abs().max().item() <= 0.03 * scale, f"{name} is off under autocast"
