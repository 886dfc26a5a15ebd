"""create_study: a YAML file becomes a draft (or open) study; every problem is named by its field and
nothing is saved when there is one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from studyapp.models import Study
from tests.studyapp.conftest import study_spec

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def errors_of(path: Path) -> str:
    with pytest.raises(CommandError) as error:
        call_command("create_study", str(path))
    assert not Study.objects.exists()  # nothing half-created
    return str(error.value)


def test_a_valid_file_creates_the_study_with_every_task(imported, tmp_path, capsys) -> None:
    call_command("create_study", str(write(tmp_path, study_spec())), "--open")
    study = Study.objects.get(slug="test-study")
    assert study.status == "open"
    assert [t.type for t in study.tasks.all()] == [
        "turing_2afc",
        "turing_single",
        "sync_rating",
        "fidelity_rating",
        "ranking",
    ]
    assert study.tasks.get(type="sync_rating").scale_labels[0] == "Not at all in sync"
    assert set(study.systems.values_list("name", flat=True)) == {"real", "sys-noise", "sys-delay"}
    assert "study 'test-study' created (open)" in capsys.readouterr().out


def test_field_errors_are_all_named(imported, tmp_path) -> None:
    spec = study_spec(slug="has spaces", platform="qualtrics")
    spec["tasks"] = [
        {"type": "turing", "trials_per_participant": 3},
        {"type": "sync_rating", "trials_per_participant": 0, "catch_rate": 2, "scale_labels": ["a", "b"]},
        {"type": "turing_2afc", "colour": "red"},
    ]
    del spec["consent"]
    message = errors_of(write(tmp_path, spec))
    for expected in [
        "slug: 'has spaces' may hold only letters, digits, - and _",
        "consent: required, missing",
        "platform: 'qualtrics' is not one of none, prolific, mturk",
        "tasks[0].type: 'turing' is not one of turing_2afc, turing_single, sync_rating, fidelity_rating,",
        "tasks[1].trials_per_participant: expected a whole number ≥ 1, got 0",
        "tasks[1].catch_rate: expected a number from 0 to 1, got 2",
        "tasks[1].scale_labels: expected 5 labels (1 to 5), got 2",
        "tasks[2].colour: unknown field",
    ]:
        assert expected in message


def test_unknown_systems_and_categories_are_named(imported, tmp_path) -> None:
    spec = study_spec(systems=["real", "sys-noise", "nope"], clips={"categories": ["drum", "violin"]})
    message = errors_of(write(tmp_path, spec))
    assert "systems: unknown nope (known: real, sys-delay, sys-noise)" in message
    assert "clips.categories: no clips of violin" in message


def test_a_design_that_cannot_be_balanced_is_refused(imported, tmp_path) -> None:
    spec = study_spec(tasks=[{"type": "turing_2afc", "trials_per_participant": 9}])
    message = errors_of(write(tmp_path, spec))
    # 12 clips: per category one for practice and one reserved for catch trials, 8 to test.
    assert "tasks[0] (turing_2afc): 9 trials per participant but only 8 test clips" in message


def test_catch_trials_need_enough_reserved_clips(imported, tmp_path) -> None:
    """Catch trials show only clips reserved for them (2 here, one per category), each at most once
    per task, so a task wanting 3 per participant is refused with the numbers to change."""
    spec = study_spec(tasks=[{"type": "turing_2afc", "trials_per_participant": 6, "catch_rate": 0.5}])
    message = errors_of(write(tmp_path, spec))
    assert (
        "tasks[0].catch_rate: 3 catch trials per participant (6 trials × catch_rate 0.5) need 3 clips "
        "reserved for catch trials with every stimulus this task plays, and the study has 2; reserve 1 "
        "more (import_stimuli --catch N marks N new clips per category), or lower catch_rate to 0.333"
    ) in message
    only_test_clips = study_spec(
        clips={"ids": ["drum_0002", "drum_0003", "fireworks_0002"]},
        tasks=[{"type": "fidelity_rating", "trials_per_participant": 2, "catch_rate": 0.5}],
    )
    assert "the study has 0; reserve 1 more" in errors_of(write(tmp_path, only_test_clips))


def test_practice_trials_need_practice_clips(imported, tmp_path) -> None:
    spec = study_spec(clips={"ids": ["drum_0002", "drum_0003", "fireworks_0002", "fireworks_0003"]})
    spec["tasks"] = [{"type": "fidelity_rating", "trials_per_participant": 2, "practice_trials": 1}]
    message = errors_of(write(tmp_path, spec))
    assert "tasks[0].practice_trials: 1 practice trials but the study has no practice clips" in message


def test_broken_yaml_and_existing_slugs(imported, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n")
    assert "not valid YAML" in errors_of(broken)
    path = write(tmp_path, study_spec())
    call_command("create_study", str(path))
    with pytest.raises(CommandError, match="slug: a study 'test-study' exists already"):
        call_command("create_study", str(path))
    call_command("create_study", str(path), "--replace")  # a draft without participants may be rewritten
    assert Study.objects.count() == 1


def test_the_readme_study_file_is_valid() -> None:
    from studyapp.study_spec import parse_study

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    spec = parse_study(yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0]))
    assert [t.type for t in spec.tasks] == [
        "turing_2afc",
        "turing_single",
        "sync_rating",
        "fidelity_rating",
        "ranking",
    ]
