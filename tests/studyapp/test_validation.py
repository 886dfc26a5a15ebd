"""The DRF serializers of hand-written and browser-sent input name the field of every problem."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from studyapp.participant_api import AnswerInput
from studyapp.validation import error_lines


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"rating": "3"}, "rating: expected a whole number ≥ 0 and ≤ 2147483647, got '3'"),
        ({"rating": True}, "rating: expected a whole number ≥ 0 and ≤ 2147483647, got True"),
        ({"judged_real": "yes"}, "judged_real: expected true or false, got 'yes'"),
        ({"ranking": [0, "1"]}, "ranking[1]: expected a whole number ≥ 0 and ≤ 2147483647, got '1'"),
        ({"response_time_ms": 2**40}, "response_time_ms: expected a whole number ≥ 0 and ≤ 2147483647"),
        ({"client_time": "2026-13-45T00:00:00"}, "client_time: Datetime has wrong format."),
    ],
)
def test_a_bad_answer_field_is_named(body: dict, error: str) -> None:
    serializer = AnswerInput(data=body)
    assert not serializer.is_valid()
    assert error_lines(serializer.errors)[0].startswith(error)


def test_a_good_answer_body_is_taken_as_given() -> None:
    serializer = AnswerInput(
        data={"idempotency_key": "k", "choice": 1, "client_time": "2026-11-26T10:00:00Z"}
    )
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["choice"] == 1 and serializer.validated_data["rating"] is None


@pytest.mark.django_db
def test_a_malformed_answer_is_a_400_through_the_api(make_study) -> None:
    study = make_study()
    client = Client()
    assert client.post(f"/s/{study.slug}/consent", {"consent": "yes"}).status_code == 302
    index = client.get(f"/s/{study.slug}/trial").json()["trial"]["index"]
    body = {"idempotency_key": "k", "rating": 3, "client_time": "2026-13-45T00:00:00"}
    answer = client.post(f"/s/{study.slug}/trials/{index}", json.dumps(body), content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"].startswith("client_time:")
