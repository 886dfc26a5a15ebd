"""Optical flow between consecutive frames, the input of the flow-based model's temporal ConvNet.

OpenCV's DIS by default (fast on CPU, no weights); torchvision's RAFT (small) when its weights are on
disk. Either way the result is (T, 2, S, S) float16: flow[i] is the motion from frame i-1 to frame i
as (dx, dy) in pixels of the prepared frame per frame interval, and flow[0] is zero (no earlier frame),
so flow[i] lines up with frame i and with audio samples [i·spf, (i+1)·spf).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

from generation.weights import WeightsIdentity, find_weights, load_pretrained, seeded_init

logger = logging.getLogger(__name__)


def _store(flow: np.ndarray, frame_size: int, compute_size: int, out_size: int) -> np.ndarray:
    """(S_c, S_c, 2) flow in compute pixels -> (2, S_o, S_o) in prepared-frame pixels."""
    flow = flow * (frame_size / compute_size)
    flow = cv2.resize(flow, (out_size, out_size), interpolation=cv2.INTER_AREA)
    return flow.transpose(2, 0, 1)


class DisFlow:
    identity = WeightsIdentity("none", "OpenCV DIS, preset medium", None, None)

    def __init__(self, *, compute_size: int, out_size: int) -> None:
        self.compute_size, self.out_size = compute_size, out_size

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """frames: (T, H, W, 3) uint8 RGB, square -> (T, 2, out_size, out_size) float16."""
        size = self.compute_size
        gray = [
            cv2.cvtColor(cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
            for f in frames
        ]
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        out = np.zeros((len(frames), 2, self.out_size, self.out_size), np.float16)
        for i in range(1, len(frames)):
            flow = dis.calc(gray[i - 1], gray[i], None)  # (size, size, 2)
            out[i] = _store(flow, frames.shape[1], size, self.out_size)
        return out


class RaftFlow:
    """torchvision's RAFT-small; needs its weights on disk (or random ones, for tests only)."""

    def __init__(
        self, identity: WeightsIdentity, *, compute_size: int, out_size: int, device: str | None = None
    ) -> None:
        if compute_size % 8 or compute_size < 128:
            raise ValueError(
                f"RAFT needs a flow compute size of at least 128, divisible by 8; got {compute_size}"
            )
        self.identity = identity
        self.compute_size, self.out_size = compute_size, out_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if identity.pretrained:
            network = load_pretrained(raft_small(weights=None), identity)
        else:
            network = seeded_init(lambda: raft_small(weights=None), 0)
            logger.warning("!!!!! RAFT with RANDOM weights: the flow is meaningless (tests only) !!!!!")
        self.network = network.eval().to(self.device)

    @staticmethod
    def resolve_weights(weights_path: Path | None) -> WeightsIdentity:
        found = find_weights(weights_path, Raft_Small_Weights.C_T_V2.url, option="--raft-weights")
        if found is None:
            raise FileNotFoundError(
                "RAFT weights not found: put raft_small's C_T_V2 weights in torchvision's cache, pass "
                "--raft-weights PATH, or use --flow dis"
            )
        return found

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray, batch_size: int = 16) -> np.ndarray:
        size = self.compute_size
        images = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # (T, 3, H, W)
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", antialias=True)
        out = np.zeros((len(frames), 2, self.out_size, self.out_size), np.float16)
        for start in range(1, len(frames), batch_size):
            stop = min(start + batch_size, len(frames))
            before = images[start - 1 : stop - 1].to(self.device)
            after = images[start:stop].to(self.device)
            flows = self.network(before, after)[-1].cpu().numpy()  # (B, 2, size, size), last refinement
            for offset, flow in enumerate(flows):
                out[start + offset] = _store(flow.transpose(1, 2, 0), frames.shape[1], size, self.out_size)
        return out
