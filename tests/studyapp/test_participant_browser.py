"""A participant completes a whole study in a real browser (Debian's chromium, headless): consent,
the headphone check, practice with feedback, every task type with real video playback, a reload in
the middle, a lost network reply, the questionnaire and the completion code. The database must then
hold exactly one response per trial, each the answer that was given."""

from __future__ import annotations

import pytest
from django.conf import settings

from studyapp import screening
from studyapp.models import Participant, Response, Trial
from tests.studyapp.answers import right_answer
from tests.studyapp.conftest import EXTERNAL_SYSTEMS

# embedded_only: the browser's requests are the ones test_participant_views.py makes on PostgreSQL too;
# repeating the browser there costs a minute of every CI run and checks no more database behaviour.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only, pytest.mark.django_db(transaction=True)]

TASKS = [
    {"type": "turing_2afc", "trials_per_participant": 2, "catch_rate": 0.5},
    {"type": "turing_single", "trials_per_participant": 2, "catch_rate": 0.5},
    {"type": "sync_rating", "trials_per_participant": 1, "catch_rate": 1.0},
    {"type": "fidelity_rating", "trials_per_participant": 1, "catch_rate": 1.0},
    {"type": "ranking", "trials_per_participant": 1, "catch_rate": 1.0},
]


def play_all(page, count: int) -> None:
    """Press each Play button and wait for that video to end (the answer stays locked until then)."""
    for n in range(count):
        assert page.locator("#answers button, #answers select").first.is_disabled()
        page.locator("#players button.play").nth(n).click()
        page.wait_for_function(
            "n => document.querySelectorAll('#players button.play')[n].textContent.startsWith('Replay')",
            arg=n,
            timeout=20_000,
        )


def give(page, trial: Trial, use_keys: bool) -> None:
    """Answer as right_answer says, through the page's controls (keyboard shortcuts or clicks)."""
    answer = right_answer(trial)
    kind = trial.task.type
    if kind == "ranking":
        for rank, position in enumerate(answer.ranking, start=1):
            page.select_option(f"#answers select[data-position='{position}']", str(rank))
        page.click("#submit-ranking")
        return
    if kind == "turing_2afc":
        key = "ab"[answer.choice]
    elif kind == "turing_single":
        key = "r" if answer.judged_real else "g"
    else:
        key = str(answer.rating)
    if use_keys:
        page.keyboard.press(key)
    else:
        page.click(f"#answers button[data-key='{key}']")


def pass_headphone_check(page, participant: Participant) -> None:
    """Play each item's tones and pick the quiet one (a page, or the frame the study is shown in)."""
    layouts = screening.trial_layouts(settings.SECRET_KEY, participant.public_id)
    items = page.locator(".screening-trial")
    for n, (quiet, _) in enumerate(layouts):
        item = items.nth(n)
        assert item.locator("input").first.is_disabled()  # locked until the tones have played
        item.locator("button.play").click()
        item.locator("input").first.wait_for(state="visible")
        page.wait_for_function(
            "n => !document.querySelectorAll('.screening-trial')[n].querySelector('input').disabled",
            arg=n,
            timeout=20_000,
        )
        item.locator(f"input[value='{quiet + 1}']").check()
    page.click("#screening-submit")


def test_a_participant_completes_every_task_type(browser, live_server, imported) -> None:
    from studyapp import services
    from studyapp.study_spec import parse_study

    spec = {
        "title": "Browser study",
        "slug": "browser-study",
        "consent": "I agree to take part in this listening study.",
        "instructions": "Use headphones. Watch each video to the end.",
        "systems": ["real", *EXTERNAL_SYSTEMS],
        "screening": True,
        "tasks": TASKS,
    }
    study = services.study_open(study=services.study_create(spec=parse_study(spec)))
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{live_server.url}/s/{study.slug}/")
        page.click("#consent-submit")  # the box is required: nothing happens without it
        assert not Participant.objects.filter(study=study).exists()
        page.check("#consent")
        page.click("#consent-submit")
        page.wait_for_selector("text=Headphone check")
        participant = Participant.objects.get(study=study)

        pass_headphone_check(page, participant)
        page.wait_for_selector("#intro:not([hidden])")
        participant.refresh_from_db()
        assert participant.screening_passed and participant.screening_score == 6

        trials = list(participant.trials.select_related("task").order_by("index"))
        assert {t.task.type for t in trials} == {t["type"] for t in TASKS}
        assert {t.kind for t in trials} == {"practice", "test", "catch"}
        lose_reply_of = next(t.index for t in trials if t.kind == Trial.Kind.TEST)
        lost = []

        def drop_first_reply(route) -> None:
            # The answer reaches the server, but its reply is lost: the page must retry with the same key.
            if f"/trials/{lose_reply_of}" in route.request.url and not lost:
                route.fetch()
                lost.append(route.request.post_data)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/trials/*", drop_first_reply)
        previous_task = None
        for number, trial in enumerate(trials):
            if number == 4:  # a reload in the middle resumes at the next unanswered trial
                page.reload()
                previous_task = None
            if trial.task_id != previous_task:
                page.wait_for_selector("#intro:not([hidden])")
                page.click("#intro-start")
                previous_task = trial.task_id
            page.wait_for_selector(f"#trial[data-index='{trial.index}']:not([hidden])")
            assert page.locator("#practice-badge").is_visible() == (trial.kind == Trial.Kind.PRACTICE)
            play_all(page, trial.presented.count())
            give(page, trial, use_keys=number % 2 == 0)
            if trial.kind == Trial.Kind.PRACTICE:
                page.wait_for_selector("#continue:not([hidden])")
                assert page.locator("#feedback").inner_text()
                page.click("#continue")
            else:
                page.wait_for_function(  # the next trial, a new part's intro, or the questionnaire
                    """i => { const t = document.getElementById('trial');
                              return !t || t.dataset.index !== String(i)
                                  || !document.getElementById('intro').hidden; }""",
                    arg=trial.index,
                    timeout=20_000,
                )
        page.wait_for_selector("#questionnaire")
        assert lost, "the lost reply was not exercised"
        page.fill("#id_age", "41")
        page.select_option("#id_listening_device", "over_ear")
        page.click("#finish")
        code = page.locator("#completion-code").inner_text()
        assert code == study.completion_code
        assert errors == []
    finally:
        context.close()

    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED and not participant.excluded
    assert participant.questionnaire == {"age": 41, "listening_device": "over_ear"}
    responses = Response.objects.filter(trial__participant=participant).select_related("trial__task")
    assert responses.count() == len(trials)  # exactly one per trial: the retried one too
    for response in responses:
        trial = response.trial
        expected = right_answer(trial)
        given = (response.choice, response.judged_real, response.rating, response.ranking)
        assert given == (expected.choice, expected.judged_real, expected.rating, expected.ranking), trial
        assert response.play_counts == [1] * trial.presented.count()
        assert response.response_time_ms is not None and response.response_time_ms < 60_000
        assert response.client_time is not None
