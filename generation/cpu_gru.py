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
    """One GRU layer over a whole sequence, time-major: x (T, B, I), h0 (B, H) -> outputs (T, B, H).

    The recurrence is what costs: T small steps, each a handful of operations whose fixed cost
    (dispatch, allocation) outweighs their arithmetic at batch 16. So each step writes into buffers
    allocated once for the sequence (`out=`), and everything that does not depend on the previous step
    — the gates' derivatives, the input-side gradients — is computed for the whole sequence at once.
    Per step that leaves 6 operations forward and 4 backward.
    """

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
        # Under CPU autocast the three sequence-wide products (input side forward; input, weight
        # gradients backward) run in bf16 like any linear layer; the recurrence always runs in fp32.
        ctx.product_dtype = torch.bfloat16 if torch.is_autocast_enabled("cpu") else weight_ih.dtype
        with torch.autocast("cpu", enabled=False):
            return _GRULayer._forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh)

    @staticmethod
    def _forward(ctx, x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
        steps, batch, _ = x.shape
        size = h0.shape[-1]
        low = ctx.product_dtype
        inputs = (_product(x.reshape(steps * batch, -1), weight_ih.t(), low) + bias_ih).view(
            steps, batch, 3, size
        )
        h0 = h0.to(weight_hh.dtype)
        hidden = h0.new_empty(steps, batch, 3, size)  # hidden-side products, bias included
        gates = h0.new_empty(steps, batch, 3, size)  # r, z and the candidate n
        outputs = h0.new_empty(steps, batch, size)
        weight_hh_t = weight_hh.t()
        h = h0
        for t in range(steps):
            torch.addmm(bias_hh, h, weight_hh_t, out=hidden[t].view(batch, 3 * size))
            torch.add(inputs[t, :, :2], hidden[t, :, :2], out=gates[t, :, :2]).sigmoid_()
            torch.addcmul(inputs[t, :, 2], gates[t, :, 0], hidden[t, :, 2], out=gates[t, :, 2]).tanh_()
            h = torch.lerp(gates[t, :, 2], h, gates[t, :, 1], out=outputs[t])  # (1 - z) n + z h
        ctx.save_for_backward(x, h0, weight_ih, weight_hh, outputs, gates, hidden[:, :, 2])
        return outputs

    @staticmethod
    def backward(ctx, grad_outputs):
        with torch.autocast("cpu", enabled=False):
            return _GRULayer._backward(ctx, grad_outputs.to(ctx.saved_tensors[4].dtype))

    @staticmethod
    def _backward(ctx, grad_outputs):
        x, h0, weight_ih, weight_hh, outputs, gates, hidden_n = ctx.saved_tensors
        low = ctx.product_dtype
        steps, batch, size = outputs.shape
        previous = torch.cat([h0[None], outputs[:-1]])  # (T, B, H): the state each step started from
        r, z, n = gates.unbind(2)
        # With g = d loss / d h' at a step, every gate gradient is g times a factor known from the
        # forward pass: d/dn = g (1 - z)(1 - n²), d/dz = g (h - n) z (1 - z), d/dr = d/dn · Wₕₙh r (1 - r).
        grad_n_factor = (1 - z) * (1 - n * n)
        input_factors = torch.stack(
            [grad_n_factor * hidden_n * r * (1 - r), (previous - n) * z * (1 - z), grad_n_factor], dim=2
        )
        # The hidden-side product of the candidate enters through r ⊙ (Wₕₙh + bₕₙ).
        hidden_factors = torch.cat([input_factors[:, :, :2], (grad_n_factor * r)[:, :, None]], dim=2)
        grad_hs = outputs.new_empty(steps, batch, size)  # g per step
        grad_hidden = outputs.new_empty(steps, batch, 3, size)  # d loss / d (hidden-side products)
        grad_h = torch.zeros_like(h0)
        for t in reversed(range(steps)):
            g = torch.add(grad_h, grad_outputs[t], out=grad_hs[t])
            torch.mul(g[:, None], hidden_factors[t], out=grad_hidden[t])
            grad_h = torch.addmm(g * z[t], grad_hidden[t].view(batch, 3 * size), weight_hh)
        flat_inputs = (grad_hs[:, :, None] * input_factors).view(steps * batch, 3 * size)
        flat_hidden = grad_hidden.view(steps * batch, 3 * size)
        grad_x = _product(flat_inputs, weight_ih, low).view_as(x).to(x.dtype)
        grad_weight_ih = _product(flat_inputs.t(), x.reshape(steps * batch, -1), low).to(weight_ih.dtype)
        grad_weight_hh = _product(flat_hidden.t(), previous.reshape(steps * batch, size), low).to(
            weight_hh.dtype
        )
        return grad_x, grad_h, grad_weight_ih, grad_weight_hh, flat_inputs.sum(0), flat_hidden.sum(0)


def _product(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return a.to(dtype) @ b.to(dtype)


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
