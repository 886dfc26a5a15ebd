"""Both APIs fuzzed from their own OpenAPI schema (/api/schema/) by schemathesis, in process through
the WSGI app on the test database: the researcher API as a staff account, the participant API as a
participant of an open study (their participant token). For every operation schemathesis generates
valid and invalid paths, queries and bodies (Hypothesis), half of them addressed to the real study;
none may get a server error.

(schemathesis' own pytest plugin does not run under pytest 9, so the operations' Hypothesis
strategies are driven here.)"""

from __future__ import annotations

import base64
import os
from collections import Counter

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp import framing
from studyapp.models import Participant

pytestmark = pytest.mark.django_db
PASSWORD = "fuzz-password-1"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))  # per operation and address; more by hand


def test_no_input_to_either_api_gets_a_server_error(make_study) -> None:
    study = make_study(slug="fuzzed", screening=False)
    Client().post(f"/s/{study.slug}/consent", {"consent": "yes"})
    participant = Participant.objects.get(study=study)
    trial_indices = list(participant.trials.order_by("index").values_list("index", flat=True)[:3])
    get_user_model().objects.create_user("fuzzer", password=PASSWORD, is_staff=True)
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"fuzzer:{PASSWORD}".encode()).decode(),
        framing.TOKEN_HEADER: framing.token_for(study.pk, participant.public_id),
        "Sec-Fetch-Site": "same-origin",  # as the participant's own page sends it
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers=headers)
    calls: Counter = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"participant_next_trial", "participant_answer"} <= {
        op.definition.raw.get("operationId") for op in operations
    }
    for operation in operations:
        addressed = [None]  # random paths, and paths to the real study (and a real trial)
        if "{slug}" in operation.path:
            addressed.append({"slug": study.slug})
        if "{index}" in operation.path:
            addressed += [{"slug": study.slug, "index": index} for index in trial_indices]
        strategies = [
            operation.as_strategy(mode, path_parameters=fixed)
            for mode in schemathesis.GenerationMode
            for fixed in addressed
        ]

        @settings(
            max_examples=EXAMPLES * len(strategies) // 2,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def fuzz(case) -> None:
            response = case.call(headers=headers)
            calls[(case.operation.label, response.status_code)] += 1
            if response.status_code >= 500:
                failures.append(f"{case.as_curl_command()} -> {response.status_code} {response.text[:300]}")

        fuzz()
    print(f"{sum(calls.values())} cases:", sorted(calls.items()))
    assert failures == [], failures[:5]
    assert sum(calls.values()) >= EXAMPLES * len(operations)
    statuses = {status for (label, status) in calls if label.startswith("POST /s/")}
    assert 400 in statuses and statuses & {200, 409}  # bodies refused, and some reached the trial itself
