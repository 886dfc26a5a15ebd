"""export_results: the tidy table round trip — columns, values, exclusions, both formats."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluation.results import COLUMNS as RESULT_COLUMNS
from evaluation.results import PARTICIPANT_COLUMNS
from studyapp import services
from studyapp.models import Response, Trial
from studyapp.services import Answer
from tests.studyapp.test_services import answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_study(make_study):
    study = make_study()
    attentive = services.participant_register(study=study, prolific={"PROLIFIC_PID": "good"})
    answer_all(attentive)
    services.participant_finish(participant=attentive)
    careless = services.participant_register(study=study)
    answer_all(
        careless,
        lambda trial: Answer(
            choice=0, judged_real=True, rating=5, ranking=list(range(trial.presented.count()))
        ),
    )
    services.participant_finish(participant=careless)
    return study, attentive, careless


def read(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_response_with_the_documented_columns(finished_study, tmp_path) -> None:
    study, attentive, _ = finished_study
    out = tmp_path / "results.csv"
    call_command("export_results", study.slug, "--out", str(out))
    rows = read(out)
    assert list(rows[0]) == RESULT_COLUMNS
    assert {r["participant"] for r in rows} == {attentive.public_id}  # the excluded one is left out
    responses = Response.objects.filter(trial__participant=attentive)
    ranking_items = sum(r.trial.presented.count() - 1 for r in responses if r.trial.task.type == "ranking")
    assert len(rows) == responses.count() + ranking_items  # a ranking: one row per ranked soundtrack

    for row in rows:
        trial = Trial.objects.get(participant=attentive, index=int(row["trial_index"]))
        assert row["clip"] == trial.clip.clip_id and row["category"] == trial.clip.category
        assert row["task_type"] == trial.task.type and row["trial_kind"] == trial.kind
        if row["task_type"] in ("turing_2afc", "turing_single"):
            assert row["correct"] == "1"  # the attentive participant always knows
        if row["trial_kind"] == "catch":
            assert row["catch_passed"] == "1"
            if row["task_type"] != "ranking":  # a ranking row per soundtrack, the anchor among them
                assert row["stimulus_role"] == "anchor"
        if row["task_type"] == "turing_2afc" and row["trial_kind"] == "test":
            assert row["system"] == trial.system.name and row["system"] != "real"
            assert len(row["positions"]) == 2 and row["answer"] in "AB"
        if row["task_type"] in ("sync_rating", "fidelity_rating"):
            assert row["rating"] in {"1", "4"}
        assert int(row["response_time_ms"]) > 0 and int(row["plays"]) >= 1
    ranks = [r for r in rows if r["task_type"] == "ranking" and r["trial_kind"] == "test"]
    assert sorted({r["rank"] for r in ranks}) == ["1", "2", "3"]

    participants = read(tmp_path / "results-participants.csv")
    assert list(participants[0]) == PARTICIPANT_COLUMNS
    assert [(p["participant"], p["prolific_pid"], p["excluded"]) for p in participants] == [
        (attentive.public_id, "good", "0")
    ]


def test_include_excluded_adds_them_with_the_reason(finished_study, tmp_path) -> None:
    study, _, careless = finished_study
    out = tmp_path / "all.csv"
    call_command("export_results", study.slug, "--out", str(out), "--include-excluded")
    theirs = [r for r in read(out) if r["participant"] == careless.public_id]
    assert theirs and {r["excluded"] for r in theirs} == {"1"}
    assert "catch trials" in theirs[0]["exclusion_reason"]
    failed = [r for r in theirs if r["trial_kind"] == "catch" and r["catch_passed"] == "0"]
    assert failed


def test_json_holds_responses_and_participants(finished_study, tmp_path) -> None:
    study, attentive, _ = finished_study
    out = tmp_path / "results.json"
    call_command("export_results", study.slug, "--format", "json", "--out", str(out))
    document = json.loads(out.read_text())
    assert document["study"] == study.slug
    assert {r["participant"] for r in document["responses"]} == {attentive.public_id}
    assert set(document["responses"][0]) == set(RESULT_COLUMNS)
    assert len(document["participants"]) == 1


def test_an_unknown_study_is_named(finished_study) -> None:
    with pytest.raises(CommandError, match="no study 'nope' \\(studies: test-study\\)"):
        call_command("export_results", "nope")


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(make_study, tmp_path) -> None:
    """A participant id or questionnaire answer like `=HYPERLINK(…)` is exported with a leading
    apostrophe, so opening the CSV in a spreadsheet runs nothing; numbers (negative ones too) stay."""
    study = make_study()
    hostile = '=HYPERLINK("http://evil.example","x")'
    person = services.participant_register(study=study, prolific={"PROLIFIC_PID": hostile})
    answer_all(person)
    services.participant_finish(participant=person, questionnaire={"comments": "@SUM(1+1)"})
    call_command("export_results", study.slug, "--out", str(tmp_path / "r.csv"))
    (row,) = read(tmp_path / "r-participants.csv")
    assert row["prolific_pid"] == "'" + hostile
    assert not any(value.startswith(("=", "+", "@")) for value in row.values())
    assert all(not v.startswith(("=", "+", "-", "@")) for r in read(tmp_path / "r.csv") for v in r.values())
