"""The flow-based model's temporal ConvNet: stacks of consecutive optical-flow fields -> a feature.

Stands in for the paper's action-recognition flow network. It is pre-trained here without labels, to
predict from the motion over each video frame's audio window how sharply the sound rises there
(`generation.train_flow`, `python -m generation train-flow`), then frozen inside the flow-based
SampleRNN: its feature says when something happens, which is what synchronisation needs and what a
category classifier (the former teacher) never had to learn. Weights trained elsewhere load from a file
with the same layout; heads (this onset head, or an older classifier) are not part of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

# Flow is stored in pixels per frame; a fixed scale keeps typical motion near unit range without
# batch statistics, which a frozen network applied to one stream at a time could not use.
FLOW_SCALE = 0.2


@dataclass(frozen=True)
class FlowEncoderConfig:
    stack: int  # consecutive flow fields per input
    size: int  # flow field resolution
    channels: int
    feature_dim: int
    # Subtract each flow field's median vector before the convolutions: a camera that shakes moves the
    # whole field, and an encoder trained on a hundred clips did not learn to look past it (on the drum
    # test clip with the strongest shake its onset cue stayed near 0 at all 8 strikes). A translation
    # of the frame is the field's median; what moves against the scene is left. Off in configs written
    # before it (their weights were trained on the raw field).
    stabilise: bool = False


HEADS = ("onset.", "classifier.")  # pre-training heads; "classifier." is the format-1 teacher's


def trunk_weights(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The weights the flow-based model uses: everything but the pre-training heads."""
    return {k: v for k, v in state_dict.items() if not k.startswith(HEADS)}


class FlowEncoder(nn.Module):
    def __init__(self, config: FlowEncoderConfig, onset_hops: int = 0) -> None:
        """onset_hops: 0 = the trunk alone; else an onset head for that many hops per window
        (`onset_profile`)."""
        super().__init__()
        self.config = config
        c = config.channels
        self.convs = nn.Sequential(
            nn.Conv2d(2 * config.stack, c, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(1),
            nn.Linear(4 * c, config.feature_dim),
            nn.ReLU(),
        )
        self.onset_hops = onset_hops
        # The window's strength, and (with hops) logits of the hop it falls in.
        outputs = 1 + (onset_hops if onset_hops > 1 else 0)
        self.onset = nn.Linear(config.feature_dim, outputs) if onset_hops else None

    def forward(self, stacks: torch.Tensor) -> torch.Tensor:
        """(N, stack, 2, S, S) flow -> (N, feature_dim)."""
        n = stacks.shape[0]
        if self.config.stabilise:
            stacks = stacks - stacks.flatten(-2).median(dim=-1).values[..., None, None]
        return self.convs(FLOW_SCALE * stacks.reshape(n, -1, *stacks.shape[-2:]))

    def onset_outputs(self, stacks: torch.Tensor) -> torch.Tensor:
        """(N, stack, 2, S, S) -> (N, outputs): the onset head's raw outputs for each stack's last window:
        its strength, then (with hops) the logits of the hop it falls in."""
        assert self.onset is not None, "built without the onset head"
        return self.onset(self(stacks))

    def onset_profile(self, features: torch.Tensor) -> torch.Tensor:
        """(..., feature_dim) trunk features -> (..., onset_hops): the predicted onset strength of each
        window spread over its hops by how likely each is to hold the event (summing to the strength);
        one hop: the strength itself."""
        assert self.onset is not None, "built without the onset head"
        out = self.onset(features)
        if self.onset_hops == 1:
            return out
        return out[..., :1] * out[..., 1:].softmax(dim=-1)

    def per_frame(self, history: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features for each of K frames from the stack of flows ending at that frame.

        history: (B, stack-1, 2, S, S) the flows before this chunk (zeros at a clip's start);
        flow: (B, K, 2, S, S). Returns (B, K, feature_dim) and the new history.
        """
        b, k = flow.shape[:2]
        joined = torch.cat([history, flow], dim=1)  # (B, stack-1+K, 2, S, S)
        stacks = joined.unfold(1, self.config.stack, 1)  # (B, K, 2, S, S, stack)
        stacks = stacks.permute(0, 1, 5, 2, 3, 4).reshape(b * k, self.config.stack, *flow.shape[2:])
        features = self(stacks).view(b, k, -1)
        return features, joined[:, k:]

    def export(self) -> dict:
        """The checkpoint layout external weights must follow."""
        return {
            "config": asdict(self.config),
            "state_dict": trunk_weights(self.state_dict()),
        }
