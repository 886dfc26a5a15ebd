"""Finding third-party pretrained weights on disk (never downloading them), loading them, and
recording which were used. (The project's own checkpoints are `generation.checkpoint`'s.)"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class WeightsIdentity:
    name: str  # "pretrained" or "random-init"
    source: str  # the file loaded, or how the random weights were made
    sha256: str | None
    warning: str | None

    @property
    def pretrained(self) -> bool:
        return self.name == "pretrained"

    def as_dict(self) -> dict:
        return asdict(self)


def hub_cache_file(url: str) -> Path:
    """Where torchvision keeps the file at ``url`` once downloaded (``torch.hub.get_dir()/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_weights(given: Path | None, url: str, *, option: str) -> WeightsIdentity | None:
    """The weights file named by ``option`` (which must exist), else torchvision's cached copy of
    ``url``, else None."""
    if given is not None:
        if not given.is_file():
            raise FileNotFoundError(f"{option} {given}: no such file")
        return WeightsIdentity("pretrained", str(given), sha256_file(given), None)
    cached = hub_cache_file(url)
    if cached.is_file():
        return WeightsIdentity("pretrained", str(cached), sha256_file(cached), None)
    return None


def load_pretrained(network: torch.nn.Module, identity: WeightsIdentity) -> torch.nn.Module:
    """``network`` with the state dict of the file ``identity`` names (torchvision's layout)."""
    try:
        state = torch.load(identity.source, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except (RuntimeError, OSError, KeyError) as error:
        raise ValueError(f"{identity.source}: not weights for {type(network).__name__} ({error})") from None
    return network


def seeded_init(build: Callable[[], torch.nn.Module], seed: int) -> torch.nn.Module:
    """Build a network from a fixed seed without disturbing the caller's random stream, so every run
    (and every resumed run) sees the same random weights."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return build()
    finally:
        torch.random.set_rng_state(state)
