"""The demo pipeline end to end at a tiny size (few short clips, a few training steps of the tiny
preset): dataset → prepare → train → sample → import → study → simulated participants → report; and
a second run that reuses everything."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from generation.synth.dataset import SynthConfig
from studyapp.demo import MODELS, DemoConfig, run_demo
from studyapp.models import Clip, Participant, Stimulus, Study, System
from studyapp.study_spec import load_study_file
from tests.conftest import TINY_PREPARE

# `make demo` runs on the embedded default; its services are covered on PostgreSQL by their own tests.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded_only]

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


def test_demo_pipeline_at_a_tiny_size(tmp_path, capsys) -> None:
    (tmp_path / "study.yaml").write_text(TINY_STUDY)
    config = DemoConfig(
        root=tmp_path / "demo",
        study_file=tmp_path / "study.yaml",
        synth=SynthConfig(
            clips_per_category=20, duration=1.0, width=64, height=64, categories=("drum", "fireworks")
        ),
        prepare=TINY_PREPARE,
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
