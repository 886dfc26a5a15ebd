"""An MTurk worker takes a HIT in a real browser (Debian's chromium, headless) the way MTurk shows it:
the study framed by a page on another site (here another loopback origin stands in for
www.mturk.com, with MTurk's query parameters), third-party cookies blocked. The worker passes the
headphone check, answers every trial and the questionnaire inside the frame, and the HIT is posted to
MTurk's externalSubmit with the assignment id only once every answer is saved."""

from __future__ import annotations

import http.server
import shutil
import threading
from urllib.parse import parse_qs, urlencode

import pytest

from studyapp.models import Participant, Response
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.studyapp.conftest import study_spec
from tests.studyapp.test_participant_browser import give, pass_headphone_check, play_all

# embedded_only: on PostgreSQL it would repeat what tests/studyapp/test_framing.py checks there (the
# same requests, without the browser), and cost a minute of every CI run.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only, pytest.mark.django_db(transaction=True)]

SUBMIT = "https://workersandbox.mturk.com/mturk/externalSubmit"
MTURK = {
    "assignmentId": "3ASSIGNMENT",
    "hitId": "3HIT",
    "workerId": "AWORKER",
    "turkSubmitTo": "https://workersandbox.mturk.com",
}


def serve_framing_page(study_url: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    """MTurk's side: a page on 127.0.0.1 (the study is on localhost: another site) framing the HIT."""
    page = (
        f'<!doctype html><title>HIT</title><iframe id="hit" src="{study_url}?{urlencode(MTURK)}" '
        'width="800" height="1400" allow="autoplay"></iframe>'
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_a_worker_completes_the_hit_inside_mturks_frame(browser, live_server, imported, settings) -> None:
    from studyapp import services
    from studyapp.study_spec import parse_study

    spec = study_spec(
        slug="framed-study",
        screening=True,
        platform="mturk",
        tasks=[{"type": "turing_2afc", "trials_per_participant": 2, "catch_rate": 0.5}],
    )
    study = services.study_open(study=services.study_create(spec=parse_study(spec)))
    assert live_server.url.startswith("http://localhost:")  # and the framing page is on 127.0.0.1
    server, mturk_origin = serve_framing_page(f"{live_server.url}/s/{study.slug}/")
    settings.PARTICIPANT_FRAME_ANCESTORS = [mturk_origin]
    # No third-party cookies at all, as Safari and Chrome's incognito do, and as Chrome may ship.
    blocking = browser.browser_type.launch(
        executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
        args=[*CHROMIUM_FLAGS, "--test-third-party-cookie-phaseout"],
    )
    context = blocking.new_context()
    submitted: list[dict] = []

    def mturk_receives(route) -> None:
        submitted.append(parse_qs(route.request.post_data or ""))
        answers = Response.objects.filter(trial__participant__study=study).count()
        submitted[-1]["answers_saved_at_submit"] = [answers]
        route.fulfill(status=200, content_type="text/html", body="<p>HIT submitted</p>")

    context.route(f"{SUBMIT}*", mturk_receives)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(mturk_origin)
        hit = page.frame_locator("#hit")
        hit.locator("#consent").check()
        hit.locator("#consent-submit").click()
        hit.locator("text=Headphone check").wait_for()
        frame = page.main_frame.child_frames[0]
        participant = Participant.objects.get(study=study)
        assert participant.mturk_assignment_id == MTURK["assignmentId"]
        pass_headphone_check(frame, participant)
        frame.wait_for_selector("#intro:not([hidden])")
        trials = list(participant.trials.select_related("task").order_by("index"))
        frame.click("#intro-start")
        for trial in trials:
            frame.wait_for_selector(f"#trial[data-index='{trial.index}']:not([hidden])")
            play_all(frame, trial.presented.count())
            give(frame, trial, use_keys=False)
            if trial.kind == "practice":
                frame.wait_for_selector("#continue:not([hidden])")
                frame.click("#continue")
        frame.wait_for_selector("#questionnaire")
        frame.click("#finish")
        assert frame.locator("#completion-code").inner_text() == study.completion_code
        with page.expect_response(lambda reply: reply.url.startswith(SUBMIT)):
            frame.click("#mturk-submit button")
        assert errors == []
        study_cookies = context.cookies([live_server.url])
    finally:
        context.close()
        blocking.close()
        server.shutdown()

    assert study_cookies == []  # the whole HIT ran on the page's token: the browser kept no cookie
    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED
    assert Response.objects.filter(trial__participant=participant).count() == len(trials)
    assert len(submitted) == 1
    assert submitted[0]["assignmentId"] == [MTURK["assignmentId"]]
    assert submitted[0]["completion_code"] == [study.completion_code]
    assert submitted[0]["answers_saved_at_submit"] == [len(trials)]
