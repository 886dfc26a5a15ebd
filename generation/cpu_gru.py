"""A GRU for training on the CPU: the same equations and parameters as `torch.nn.GRU`, with a
hand-written backward pass.

Why: on a CPU, `nn.GRU` with autograd runs its recurrence as a graph of small per-step operations —
about a dozen autograd nodes per time step, each allocating — and its backward pass costs four times
its forward (the middle tier of the `small` preset: 29 ms forward, 119 ms forward + backward for 256
steps of batch 16). As cuDNN does on a GPU, this one computes every input-side product of the
sequence in one matrix product, runs the recurrence without autograd, keeps the gates, and in the
backward pass walks the steps in reverse with one small matrix product per step, then forms the
weight gradients of the whole sequence in one product each. Nothing changes on the GPU: `run_gru`
uses `nn.GRU` (cuDNN) there, and everywhere no gradient is needed.

Gates follow PyTorch's order and definition (r, z, n; the reset gate applied after the hidden
product):  r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ), z = σ(Wᵢ_z x + … ), n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ)),
h' = (1 − z) ⊙ n + z ⊙ h.
"""

from __future__ import annotations

import torch
from torch import nn


class _GRULayer(torch.autograd.Function):
    """One GRU layer over a whole sequence, time-major: x (T, B, I), h0 (B, H) -> outputs (T, B, H)."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
        steps, batch, _ = x.shape
        size = h0.shape[-1]
        inputs = torch.addmm(bias_ih, x.reshape(steps * batch, -1), weight_ih.t()).view(steps, batch, 3, size)
        outputs = x.new_empty(steps, batch, size)
        # Per step, what the backward pass needs: the gates and the hidden product of the candidate.
        reset, update, candidate, hidden_n = (x.new_empty(steps, batch, size) for _ in range(4))
        weight_hh_t = weight_hh.t()
        h = h0
        for t in range(steps):
            hidden = torch.addmm(bias_hh, h, weight_hh_t).view(batch, 3, size)
            r = torch.sigmoid(inputs[t, :, 0] + hidden[:, 0])
            z = torch.sigmoid(inputs[t, :, 1] + hidden[:, 1])
            n = torch.tanh(torch.addcmul(inputs[t, :, 2], r, hidden[:, 2]))
            h = torch.lerp(n, h, z)  # (1 - z) n + z h
            reset[t], update[t], candidate[t], hidden_n[t], outputs[t] = r, z, n, hidden[:, 2], h
        ctx.save_for_backward(x, h0, weight_ih, weight_hh, outputs, reset, update, candidate, hidden_n)
        return outputs

    @staticmethod
    def backward(ctx, grad_outputs):
        x, h0, weight_ih, weight_hh, outputs, reset, update, candidate, hidden_n = ctx.saved_tensors
        steps, batch, size = outputs.shape
        previous = torch.cat([h0[None], outputs[:-1]])  # (T, B, H): the state each step started from
        grad_inputs = x.new_empty(steps, batch, 3, size)  # d loss / d (input-side gate pre-activations)
        grad_hidden = x.new_empty(steps, batch, 3, size)  # d loss / d (hidden-side products)
        grad_h = torch.zeros_like(h0)
        for t in reversed(range(steps)):
            grad_h = grad_h + grad_outputs[t]
            r, z, n = reset[t], update[t], candidate[t]
            grad_n = grad_h * (1 - z) * (1 - n * n)
            grad_z = grad_h * (previous[t] - n) * z * (1 - z)
            grad_r = grad_n * hidden_n[t] * r * (1 - r)
            grad_inputs[t, :, 0], grad_inputs[t, :, 1], grad_inputs[t, :, 2] = grad_r, grad_z, grad_n
            grad_hidden[t, :, 0], grad_hidden[t, :, 1], grad_hidden[t, :, 2] = grad_r, grad_z, grad_n * r
            grad_h = torch.addmm(grad_h * z, grad_hidden[t].view(batch, 3 * size), weight_hh)
        flat_inputs = grad_inputs.view(steps * batch, 3 * size)
        flat_hidden = grad_hidden.view(steps * batch, 3 * size)
        grad_x = (flat_inputs @ weight_ih).view_as(x)
        grad_weight_ih = flat_inputs.t() @ x.reshape(steps * batch, -1)
        grad_weight_hh = flat_hidden.t() @ previous.reshape(steps * batch, size)
        return grad_x, grad_h, grad_weight_ih, grad_weight_hh, flat_inputs.sum(0), flat_hidden.sum(0)


def uses_cpu_gru(gru: nn.GRU, x: torch.Tensor) -> bool:
    """Whether `run_gru` takes the hand-written path: training on a CPU, outside torch.compile."""
    return (
        x.device.type == "cpu"
        and torch.is_grad_enabled()
        and (x.requires_grad or any(p.requires_grad for p in gru.parameters()))
        and not torch.compiler.is_compiling()
    )


def run_gru(gru: nn.GRU, x: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`gru(x, hidden)` for a batch-first, unidirectional `nn.GRU` with biases and no dropout:
    x (B, T, I), hidden (layers, B, H) -> outputs (B, T, H), hidden (layers, B, H)."""
    if not uses_cpu_gru(gru, x):
        return gru(x, hidden)
    plain = gru.batch_first and gru.bias and not gru.bidirectional and gru.dropout == 0 and gru.proj_size == 0
    if not plain:
        raise ValueError("the CPU GRU takes batch-first, unidirectional GRUs with biases and no dropout")
    sequence = x.transpose(0, 1).contiguous()  # (T, B, I)
    finals = []
    for layer in range(gru.num_layers):
        sequence = _GRULayer.apply(
            sequence,
            hidden[layer],
            getattr(gru, f"weight_ih_l{layer}"),
            getattr(gru, f"weight_hh_l{layer}"),
            getattr(gru, f"bias_ih_l{layer}"),
            getattr(gru, f"bias_hh_l{layer}"),
        )
        finals.append(sequence[-1])
    # Batch-first and contiguous: the upsampling product that follows runs at half speed on a strided view.
    return sequence.transpose(0, 1).contiguous(), torch.stack(finals)
