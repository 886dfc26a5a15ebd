"""A task type is one module: registering a new one (here a two-point acceptability judgement) is all
it takes for a study to plan, serve, validate, score, export, exclude on and simulate it."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from django.test import Client

from studyapp import exports
from studyapp.models import Participant, Response, Trial
from studyapp.services.simulation import study_simulate
from studyapp.study_spec import SpecError
from studyapp.tasks import registry
from studyapp.tasks.base import Answer, AnswerError, TaskType

pytestmark = pytest.mark.django_db


class Acceptability(TaskType):
    """Would this soundtrack do in a film? No (1) or yes (2); the degraded anchor must get a no."""

    name = "acceptability"
    label = "acceptability"
    question = "Would this soundtrack be acceptable in a film?"
    intro = "You will see one video at a time. Say whether its sound would be acceptable in a film."
    scale = ("No", "Yes")
    script = "js/tasks/rating.js"  # two buttons, "1 · No" and "2 · Yes": the rating renderer fits
    catch_rule = "say_no"

    def validate(self, answer: Answer, positions: int) -> None:
        if answer.rating not in (1, 2):
            raise AnswerError("rating: expected 1 (no) or 2 (yes)")

    def catch_passed(self, answer, shown) -> bool:
        return answer.rating == 1

    def export_rows(self, answer, shown) -> list[dict]:
        return [{"shown": shown[0], "answer": "yes" if answer.rating == 2 else "no", "rating": answer.rating}]

    def simulated_answer(self, quality, shown, rater, rng: random.Random) -> Answer:
        return Answer(rating=2 if rng.random() < quality[0] else 1)


@pytest.fixture
def acceptability():
    registry.register(Acceptability())
    yield
    registry.unregister("acceptability")


TASK = {"type": "acceptability", "trials_per_participant": 4, "catch_rate": 0.25, "practice_trials": 0}


def test_a_participant_goes_through_a_registered_task_type(acceptability, make_study) -> None:
    study = make_study(tasks=[TASK])
    client = Client()
    page = client.get(f"/s/{study.slug}/")
    assert page.status_code == 200
    assert client.post(f"/s/{study.slug}/consent", {"consent": "yes"}).status_code == 302
    participant = Participant.objects.get()
    trials_page = client.get(f"/s/{study.slug}/").content.decode()
    assert 'data-task-types="acceptability"' in trials_page and "js/tasks/rating.js" in trials_page

    kinds = []
    for _ in range(participant.trials.count()):
        payload = client.get(f"/s/{study.slug}/trial").json()["trial"]
        assert payload["task"]["type"] == "acceptability"
        assert payload["task"]["scale_labels"] == ["No", "Yes"]
        assert payload["task"]["question"] == Acceptability.question
        trial = participant.trials.get(index=payload["index"])
        url = f"/s/{study.slug}/trials/{trial.index}"
        wrong = client.post(
            url, json.dumps({"idempotency_key": f"w{trial.pk}", "rating": 3}), "application/json"
        )
        assert wrong.status_code == 400 and wrong.json()["error"] == "rating: expected 1 (no) or 2 (yes)"
        rating = 2 if trial.kind == Trial.Kind.CATCH else 1  # fails every catch trial
        body = {"idempotency_key": f"k{trial.pk}", "rating": rating, "play_counts": [1]}
        assert client.post(url, json.dumps(body), "application/json").status_code == 200
        kinds.append(trial.kind)
    assert kinds.count(Trial.Kind.CATCH) == 1 and kinds.count(Trial.Kind.TEST) == 4
    client.post(f"/s/{study.slug}/questionnaire", {})
    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED
    assert participant.excluded and "task 0 (acceptability)" in participant.exclusion_reason

    rows = list(csv.DictReader(io.StringIO(exports.responses_csv(study, include_excluded=True))))
    assert len(rows) == Response.objects.count() == 5
    assert {r["task_type"] for r in rows} == {"acceptability"}
    assert sorted(r["answer"] for r in rows) == ["no"] * 4 + ["yes"]
    assert [r["catch_passed"] for r in rows if r["trial_kind"] == "catch"] == ["0"]


def test_a_registered_task_type_is_simulated_and_its_settings_checked(acceptability, make_study) -> None:
    study = make_study(tasks=[TASK])
    report = study_simulate(study, n=4, progress=False)
    assert report.finished == 4
    assert Response.objects.filter(trial__task__type="acceptability").count() == 4 * 5
    with pytest.raises(SpecError, match=r"tasks\[0\].scale_labels: expected 2 labels \(1 to 2\), got 3"):
        make_study(slug="other", tasks=[{**TASK, "scale_labels": ["a", "b", "c"]}])


def test_a_type_the_database_cannot_hold_is_refused_at_registration() -> None:
    class TooLong(Acceptability):
        name = "a_name_longer_than_twenty"

    class TooFine(Acceptability):
        name = "ten_point"
        scale = tuple(str(n) for n in range(10))

    with pytest.raises(ValueError, match="must be 1 to 20 characters"):
        registry.register(TooLong())
    with pytest.raises(ValueError, match="at most 5 points"):
        registry.register(TooFine())
    assert "ten_point" not in registry.names()
