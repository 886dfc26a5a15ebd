import numpy as np
import pytest

from generation.flow import DisFlow, RaftFlow
from generation.weights import WeightsIdentity


def translating_texture(frames: int, dx: int, dy: int, size: int = 224) -> np.ndarray:
    """A smooth random texture moving by (dx, dy) pixels per frame, (T, size, size, 3) uint8."""
    import cv2

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (size * 2, size * 2)).astype(np.float32), (0, 0), 3)
    big = cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX)
    out = []
    for t in range(frames):
        y0, x0 = size // 2 - dy * t, size // 2 - dx * t  # content moves by +dx, +dy
        crop = big[y0 : y0 + size, x0 : x0 + size]
        out.append(np.repeat(crop[:, :, None], 3, axis=2))
    return np.stack(out).astype(np.uint8)


def test_dis_flow_of_a_translation_has_its_direction_and_magnitude() -> None:
    frames = translating_texture(5, dx=6, dy=-4)
    flow = DisFlow(compute_size=112, out_size=28)(frames)
    assert flow.shape == (5, 2, 28, 28)
    assert flow.dtype == np.float16
    assert not flow[0].any(), "flow[0] has no earlier frame: zero"
    centre = flow[1:, :, 4:-4, 4:-4].astype(float)
    assert np.median(centre[:, 0]) == pytest.approx(6, abs=0.5)  # pixels of the 224 frame, rightwards
    assert np.median(centre[:, 1]) == pytest.approx(-4, abs=0.5)  # upwards


def test_raft_produces_aligned_flow_fields() -> None:
    """With random weights the values mean nothing; the shapes and the alignment are checked."""
    identity = WeightsIdentity("random-init", "test", None, "random")
    flow = RaftFlow(identity, compute_size=128, out_size=8, device="cpu")(
        translating_texture(3, 2, 0, size=64)
    )
    assert flow.shape == (3, 2, 8, 8)
    assert not flow[0].any()
    assert np.isfinite(flow.astype(float)).all()


def test_raft_without_weights_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="use --flow dis"):
        RaftFlow.resolve_weights(None)
    with pytest.raises(FileNotFoundError, match=r"--raft-weights .*missing\.pth: no such file"):
        RaftFlow.resolve_weights(tmp_path / "missing.pth")
