"""The old reference implementations' way of sampling, kept only to benchmark against: each sample
drawn with multinomial and brought to the host as Python numbers before the next step (a device round
trip per sample, which also rules out a CUDA graph)."""

from __future__ import annotations

import torch

from generation.sample import Generator


class NaiveGenerator(Generator):
    graphable = False

    def _draw_function(self, temperature: float, noise: torch.Tensor):
        def draw(logits: torch.Tensor, t: int) -> torch.Tensor:
            probabilities = (logits.float() / max(temperature, 1e-6)).softmax(dim=-1)
            chosen = torch.multinomial(probabilities, 1, generator=self._rng)[:, 0].tolist()
            return torch.tensor(chosen, device=logits.device)

        return draw
