"""Both APIs fuzzed from their own OpenAPI schema (/api/schema/) by schemathesis, in process through
the WSGI app on the test database: the researcher API as a staff account, the participant API as a
participant of an open study (their participant token). For every operation schemathesis generates
valid and invalid paths, queries and bodies (Hypothesis), half of them addressed to the real study;
none may get a server error.

(schemathesis' own pytest plugin does not run under pytest 9, so the operations' Hypothesis
strategies are driven here.)"""

from __future__ import annotations

import base64
import contextlib
import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp import framing
from studyapp.models import Participant

pytestmark = pytest.mark.django_db
PASSWORD = "fuzz-password-1"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))  # per operation and address; more by hand


@contextlib.contextmanager
def wsgi_app_in_test_transaction() -> Iterator[object]:
    """The WSGI app as Django's test client runs it: without closing the database connection around
    each request (Django's request signals would close the test's own connection, inside whose
    transaction the test's data lives — on PostgreSQL a real close). Entered after the last test-client
    request: the test client connects the signal again after each of its own."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def fuzz(operation, addressed: list, headers: dict, calls: Counter, failures: list[str]) -> None:
    """Run one operation's generated cases (valid and invalid; each path in ``addressed`` fixed, or
    None for generated paths) and record every status and every server error."""
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
    def run(case) -> None:
        response = case.call(headers=headers)
        calls[(case.operation.label, response.status_code)] += 1
        if response.status_code >= 500:
            failures.append(f"{case.as_curl_command()} -> {response.status_code} {response.text[:300]}")

    run()


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
    calls: Counter = Counter()
    failures: list[str] = []
    with wsgi_app_in_test_transaction() as app:
        schema = schemathesis.openapi.from_wsgi("/api/schema/", app, headers=headers)
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            addressed = [None]  # generated paths, and paths to the real study (and real trials)
            if "{slug}" in operation.path:
                addressed.append({"slug": study.slug})
            if "{index}" in operation.path:
                addressed += [{"slug": study.slug, "index": index} for index in trial_indices]
            fuzz(operation, addressed, headers, calls, failures)
    named = {operation.definition.raw.get("operationId") for operation in operations}
    assert {"participant_next_trial", "participant_answer"} <= named
    print(f"{sum(calls.values())} cases:", sorted(calls.items()))
    assert failures == [], failures[:5]
    assert sum(calls.values()) >= EXAMPLES * len(operations)
    statuses = {status for (label, status) in calls if label.startswith("POST /s/")}
    assert 400 in statuses and statuses & {200, 409}  # bodies refused, and some reached the trial itself
