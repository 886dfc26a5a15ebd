"""The on-disk formats' owners: atomic writes, the sample listing, checkpoint kinds and versions."""

from __future__ import annotations

import json

import pytest
import torch

from generation.atomic import atomic_path, write_text_atomic
from generation.checkpoint import (
    FLOW_ENCODER,
    FORMATS,
    load_checkpoint,
    load_flow_encoder_weights,
    save_checkpoint,
)
from generation.listing import LISTING, ListedClip, ListingError, SampleListing


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    target = tmp_path / "out.json"
    write_text_atomic(target, "old")

    def interrupted_write() -> None:
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        interrupted_write()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def listing(category: str, model: str = "flow") -> SampleListing:
    clip = ListedClip("c1", category, f"{category}/c1.wav", "/videos/c1.mp4", 0.0, 4.0)
    return SampleListing(model=model, split="test", temperature=1.0, seed=0, sample_rate=16_000, clips=[clip])


def test_listing_merges_categories_and_refuses_another_model(tmp_path) -> None:
    listing("drum").merge_into(tmp_path)
    merged = listing("fireworks").merge_into(tmp_path)
    assert merged.categories == ["drum", "fireworks"] == SampleListing.read(tmp_path).categories
    with pytest.raises(ListingError, match="give each model its own --out folder"):
        listing("drum", model="frame").merge_into(tmp_path)


def test_listing_of_an_older_version_and_a_broken_one(tmp_path) -> None:
    old = {
        "category": "drum",
        "model": "flow",
        "clips": [{"clip_id": "c", "wav": "drum/c.wav", "source": "v.mp4", "duration": 2}],
    }
    (tmp_path / LISTING).write_text(json.dumps(old))
    assert SampleListing.read(tmp_path).clips[0].category == "drum"
    (tmp_path / LISTING).write_text("{")
    with pytest.raises(ListingError, match=r"samples.json: not the output of `python -m generation sample`"):
        SampleListing.read(tmp_path)


def test_checkpoint_kinds_and_versions_are_checked(tmp_path) -> None:
    path = tmp_path / "encoder.pt"
    save_checkpoint(path, {"config": {}, "state_dict": {}}, kind=FLOW_ENCODER)
    assert load_flow_encoder_weights(path)["kind"] == FLOW_ENCODER
    with pytest.raises(
        ValueError, match=r"a vis2sound\.flow-encoder checkpoint, expected a vis2sound\.samplernn"
    ):
        load_checkpoint(path)
    torch.save({"kind": FLOW_ENCODER, "format": 99}, path)
    with pytest.raises(ValueError, match=f"format 99, this version reads {FORMATS[FLOW_ENCODER]}"):
        load_flow_encoder_weights(path)
    external = tmp_path / "external.pt"
    torch.save({"config": {"stack": 3}, "state_dict": {}}, external)  # trained elsewhere: the export layout
    assert load_flow_encoder_weights(external)["config"] == {"stack": 3}
    torch.save({"weights": {}}, external)
    with pytest.raises(ValueError, match="not flow encoder weights"):
        load_flow_encoder_weights(external)
