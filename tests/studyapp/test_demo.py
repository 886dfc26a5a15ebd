"""The demo pipeline end to end at a tiny size (few short clips, a few training steps of the tiny
preset): dataset → prepare → train → sample → import → study → simulated participants → report; and
a second run that reuses everything."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from django.core.management import call_command

from generation.checkpoint import model_from_checkpoint
from generation.config import FLOW, SplitConfig
from generation.listing import ListedClip, SampleListing
from generation.prepare import assign_splits
from generation.synth.dataset import CATEGORIES, SynthConfig
from generation.weights import sha256_file
from studyapp.demo import MODELS, DemoConfig, prepared_split, run_demo, shipped_listings
from studyapp.models import Clip, Participant, Stimulus, Study, System
from studyapp.study_spec import load_study_file
from tests.conftest import TINY_PREPARE

TINY_STUDY = """
title: Tiny demo
slug: demo
consent: I agree.
instructions: Listen.
systems: all
screening: true
tasks:
  - {type: turing_2afc, trials_per_participant: 2, catch_rate: 0.5}
  - {type: turing_single, trials_per_participant: 2, catch_rate: 0.5}
  - {type: sync_rating, trials_per_participant: 2, catch_rate: 0.5}
  - {type: fidelity_rating, trials_per_participant: 2, catch_rate: 0.5}
  - {type: ranking, trials_per_participant: 1, catch_rate: 1.0}
"""


def test_the_shipped_demo_study_file_is_valid() -> None:
    spec = load_study_file(DemoConfig().study_file)
    assert {t.type for t in spec.tasks} == {"turing_2afc", "turing_single", "sync_rating", "fidelity_rating",
                                            "ranking"}  # fmt: skip


def test_the_demo_has_enough_clips_to_learn_from_and_to_test_on() -> None:
    config = DemoConfig()
    per_category = config.synth.clips_per_category
    test = round(per_category * config.split.test_ratio)
    val = round(per_category * config.split.val_ratio)
    assert per_category - test - val >= 100 and test >= 8
    # Without TRAIN=1 only the test clips are prepared, drawn over the whole dataset.
    assert prepared_split(config) == SplitConfig(val_ratio=0.08, test_ratio=0.07, only="test")
    assert prepared_split(DemoConfig(train=True)).only is None


def test_the_shipped_soundtracks_are_the_shipped_checkpoints_on_the_held_out_clips() -> None:
    config = DemoConfig()
    clips = [{"category": c, "clip_id": i} for c, i, _ in config.synth.clip_ids()]
    assign_splits(clips, config.split)
    held_out = sorted((c["category"], c["clip_id"]) for c in clips if c["split"] == "test")
    for model, listing in shipped_listings(config).items():
        assert sorted((c.category, c.clip_id) for c in listing.clips) == held_out
        assert all((config.soundtracks / model / c.wav).is_file() for c in listing.clips)
        for category in CATEGORIES:  # made by the checkpoint shipped beside them, byte for byte
            assert listing.checkpoints[category] == sha256_file(config.checkpoints / category / f"{model}.pt")


def test_the_shipped_checkpoints_suit_the_demo_data() -> None:
    config = DemoConfig()
    rows = json.loads((config.checkpoints / "checkpoints.json").read_text())
    assert sorted((r["category"], r["model"]) for r in rows) == sorted(
        (c, m) for c in CATEGORIES for m in MODELS
    )
    for row in rows:
        path = config.checkpoints / row["file"]
        assert path.stat().st_size == row["bytes"] <= 5_000_000
        assert row["train_clips"] >= 100 and row["val_clips"] >= 8
        # What TRAIN=1 trains with is what the shipped ones were trained with: it reproduces them.
        trained = row["train_config"]
        assert (trained["steps"], trained["batch_size"], trained["lr"], trained["preset"]) == (
            config.train_steps,
            config.train_batch_size,
            config.train_lr,
            config.train_preset,
        )
        model, _ = model_from_checkpoint(path)
        assert model.config.conditioning == row["model"]
        assert model.config.feature_dim == config.prepare.feature_dim
        assert model.config.video_frame_samples == config.prepare.samples_per_frame
        if row["model"] == FLOW:
            assert model.config.flow_size == config.prepare.flow_size


# `make demo` runs on the embedded default; its services are covered on PostgreSQL by their own tests.
@pytest.mark.django_db(transaction=True)
@pytest.mark.embedded_only
def test_demo_pipeline_at_a_tiny_size(tmp_path, capsys) -> None:
    (tmp_path / "study.yaml").write_text(TINY_STUDY)
    config = DemoConfig(
        root=tmp_path / "demo",
        study_file=tmp_path / "study.yaml",
        synth=SynthConfig(
            clips_per_category=20, duration=1.0, width=64, height=64, categories=("drum", "fireworks")
        ),
        prepare=TINY_PREPARE,
        split=SplitConfig(test_ratio=0.16, val_ratio=0.08),  # 3 test clips of 20: practice, catch, 1
        train=True,
        train_preset="tiny",
        train_steps=2,
        train_batch_size=2,
        flow_encoder_steps=20,
        progress=False,
    )
    first = run_demo(config)
    assert [name for name, _, _ in first.steps] == ["demo dataset", "prepare", "checkpoints", "soundtracks",
                                                    "stimuli", "study"]  # fmt: skip
    assert first.password and first.study.status == Study.Status.OPEN
    names = set(System.objects.values_list("name", flat=True))
    assert names == {"real", *(f"ours-{m}" for m in MODELS)}
    assert {t.type for t in first.study.tasks.all()} == {"turing_2afc", "turing_single", "sync_rating",
                                                         "fidelity_rating", "ranking"}  # fmt: skip
    stimuli = Stimulus.objects.count()
    # Every category's test clips: 3 of its 20 (1 practice, 1 catch), real + 3 anchors + 4 models each.
    assert set(Clip.objects.values_list("category", flat=True)) == {"drum", "fireworks"}
    assert stimuli == Clip.objects.count() * (4 + len(MODELS))

    again = run_demo(config)  # a second run reuses every step's output
    outcomes = {name: outcome for name, outcome, _ in again.steps}
    assert outcomes["demo dataset"] == "exists" and outcomes["prepare"] == "exists"
    assert outcomes["checkpoints"].startswith("0 trained") and outcomes["soundtracks"] == "all exist"
    assert outcomes["stimuli"].startswith("0 rendered") and outcomes["study"] == "exists"
    assert again.password is None and Stimulus.objects.count() == stimuli

    call_command("simulate_participants", "demo", "--n", "8", "--careless", "0.3")
    assert "8 SIMULATED participants in demo-sim" in capsys.readouterr().out
    assert not first.study.participants.exists()  # the real study stays real
    simulated = Participant.objects.filter(study__slug="demo-sim", simulated=True)
    assert simulated.count() == 8 and simulated.filter(status="finished").exists()
    call_command("export_results", "demo-sim", "--out", str(tmp_path / "demo.csv"))
    assert "SIMULATED" in capsys.readouterr().out
    assert ",1," in (tmp_path / "demo.csv").read_text().splitlines()[1]  # the simulated column
    call_command("study_report", "demo-sim", "--out", str(tmp_path / "report"))
    page = (tmp_path / "report" / "index.html").read_text()
    assert "SIMULATED DATA" in page and "Ranking of soundtracks" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.embedded_only
def test_demo_with_shipped_soundtracks_builds_only_their_clips_and_prepares_nothing(tmp_path) -> None:
    (tmp_path / "study.yaml").write_text(TINY_STUDY)
    synth = SynthConfig(
        clips_per_category=20, duration=1.0, width=64, height=64, categories=("drum", "fireworks")
    )
    shipped = [("drum", f"drum_{i:04d}") for i in (2, 7, 11)] + [
        ("fireworks", f"fireworks_{i:04d}") for i in (0, 4, 9)
    ]
    checkpoints, soundtracks = tmp_path / "checkpoints", tmp_path / "soundtracks"
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, 16_000).astype(np.float32)
    for model in MODELS:
        hashes = {}
        for category in ("drum", "fireworks"):
            weights = checkpoints / category / f"{model}.pt"
            weights.parent.mkdir(parents=True, exist_ok=True)
            weights.write_bytes(f"{category} {model}".encode())  # only hashed: the soundtracks are shipped
            hashes[category] = sha256_file(weights)
        clips = []
        for category, clip_id in shipped:
            (soundtracks / model / category).mkdir(parents=True, exist_ok=True)
            soundfile.write(
                soundtracks / model / category / f"{clip_id}.flac", noise, 16_000, subtype="PCM_16"
            )
            clips.append(
                ListedClip(clip_id, category, f"{category}/{clip_id}.flac", "elsewhere.mp4", 0.0, 1.0)
            )
        SampleListing(model, "test", 1.0, 0, 16_000, clips, hashes).merge_into(soundtracks / model)
    config = DemoConfig(
        root=tmp_path / "demo",
        study_file=tmp_path / "study.yaml",
        synth=synth,
        checkpoints=checkpoints,
        soundtracks=soundtracks,
        progress=False,
    )

    result = run_demo(config)

    outcomes = {name: outcome for name, outcome, _ in result.steps}
    assert outcomes["demo dataset"] == "6 clips written (the test clips)"
    assert outcomes["prepare"].startswith("not needed") and not (tmp_path / "demo" / "prepared").exists()
    assert outcomes["soundtracks"] == f"{6 * len(MODELS)} shipped soundtracks copied"
    assert sorted(p.stem for p in (tmp_path / "demo" / "videos").rglob("*.mp4")) == sorted(
        c for _, c in shipped
    )
    assert sorted(Clip.objects.values_list("clip_id", flat=True)) == sorted(c for _, c in shipped)
    assert result.study.status == Study.Status.OPEN

    # Soundtracks that another checkpoint made are refused, naming the fix.
    (checkpoints / "drum" / "flow.pt").write_bytes(b"retrained")
    with pytest.raises(ValueError, match=r"drum/flow .*`make demo SAMPLE=1`"):
        run_demo(config)
