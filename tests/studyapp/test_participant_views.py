"""The participant's pages and JSON API through Django's test client: the whole journey, resume,
idempotent retries, others' trials, platform links, and a scan of everything a participant receives
for what must never reach them."""

from __future__ import annotations

import csv
import io
import json
import re
import wave
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from evaluation.results import apply_exclusions, load_results
from studyapp import presentation, screening, selectors
from studyapp.media_tokens import media_token
from studyapp.models import Participant, Response, Study, System, Trial, TrialStimulus
from tests.studyapp.answers import right_answer

pytestmark = pytest.mark.django_db

PROLIFIC_DONE = "https://app.prolific.com/submissions/complete?cc=C1A2B3"
PROLIFIC = {"PROLIFIC_PID": "pid-0001", "STUDY_ID": "st-1", "SESSION_ID": "se-1"}
TRIAL_KEYS = {"index", "practice", "task", "stimuli"}
TASK_KEYS = {"number", "of", "type", "question", "intro", "scale_labels"}
MEDIA_URL = re.compile(r"^/m/[0-9a-f]{32}\.mp4$")


def entry(study: Study) -> str:
    return f"/s/{study.slug}/"


def consent(client: Client, study: Study, **params) -> Participant:
    response = client.post(f"/s/{study.slug}/consent", {"consent": "yes", **params})
    assert response.status_code == 302, response.content[:500]
    return Participant.objects.get(public_id=client.session[f"vis2sound.participant.{study.pk}"])


def pass_screening(client: Client, study: Study, participant: Participant, right: int = 6) -> None:
    layouts = screening.trial_layouts(settings.SECRET_KEY, participant.public_id)
    answers = {f"trial{n}": str(q + 1 if n < right else (q + 1) % 3 + 1) for n, (q, _) in enumerate(layouts)}
    assert client.post(f"/s/{study.slug}/headphones", answers).status_code == 302


def as_json(answer) -> dict:
    fields = {
        "choice": answer.choice,
        "judged_real": answer.judged_real,
        "rating": answer.rating,
        "ranking": answer.ranking,
        "response_time_ms": answer.response_time_ms,
        "play_counts": answer.play_counts,
    }
    return {k: v for k, v in fields.items() if v is not None}


def post_answer(client: Client, study: Study, index: int, body: dict):
    return client.post(f"/s/{study.slug}/trials/{index}", json.dumps(body), content_type="application/json")


def answer_next(client: Client, study: Study, participant: Participant, key: str | None = None):
    payload = client.get(f"/s/{study.slug}/trial").json()
    trial = participant.trials.get(index=payload["trial"]["index"])
    body = {"idempotency_key": key or f"k-{trial.pk}", **as_json(right_answer(trial))}
    return payload, post_answer(client, study, trial.index, body)


def test_whole_journey_prolific(make_study) -> None:
    study = make_study(screening=True, platform="prolific", completion_url=PROLIFIC_DONE)
    client = Client()
    page = client.get(entry(study), PROLIFIC)
    assert page.status_code == 200
    html = page.content.decode()
    assert study.consent_text in html and 'name="PROLIFIC_PID" value="pid-0001"' in html

    refused = client.post(f"/s/{study.slug}/consent", PROLIFIC)  # box not ticked
    assert refused.status_code == 400 and "tick the box" in refused.content.decode()
    assert not study.participants.exists()

    participant = consent(client, study, **PROLIFIC)
    assert (participant.prolific_pid, participant.prolific_session_id) == ("pid-0001", "se-1")
    page = client.get(entry(study))
    assert "Headphone check" in page.content.decode()
    for n in range(screening.TRIALS):
        audio = client.get(f"/s/{study.slug}/headphones/{n}.wav")
        assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
        with wave.open(io.BytesIO(audio.content)) as wav:
            assert wav.getnchannels() == 2
    assert client.get(f"/s/{study.slug}/trial").status_code == 403  # no trials before the check
    pass_screening(client, study, participant)
    participant.refresh_from_db()
    assert participant.screening_passed and participant.screening_score == 6

    total = participant.trials.count()
    assert 'id="app"' in client.get(entry(study)).content.decode()
    feedback = []
    for _ in range(total):
        payload, saved = answer_next(client, study, participant)
        assert saved.status_code == 200, saved.content
        feedback.append((payload["trial"]["practice"], saved.json()["feedback"]))
        # The answer is saved before anything else happens: nothing is batched in the browser.
        assert (
            Response.objects.filter(trial__participant=participant).count()
            == payload["progress"]["answered"] + 1
        )
    assert all(bool(text) == practice for practice, text in feedback)
    assert client.get(f"/s/{study.slug}/trial").json() == {
        "done": True,
        "progress": {"answered": total, "total": total},
    }

    questionnaire = client.get(entry(study)).content.decode()
    assert 'id="questionnaire"' in questionnaire
    bad = client.post(f"/s/{study.slug}/questionnaire", {"age": "7"})
    assert bad.status_code == 400 and "greater than or equal to 18" in bad.content.decode()
    client.post(
        f"/s/{study.slug}/questionnaire", {"age": "34", "listening_device": "over_ear", "comments": "ok"}
    )
    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED and not participant.excluded
    assert participant.questionnaire == {"age": 34, "listening_device": "over_ear", "comments": "ok"}
    done = client.get(entry(study)).content.decode()
    assert study.completion_code in done
    assert PROLIFIC_DONE in done
    assert Response.objects.filter(trial__participant=participant).count() == total


def test_a_failed_headphone_check_ends_the_session_politely(make_study) -> None:
    study = make_study(screening=True)
    client = Client()
    participant = consent(client, study)
    pass_screening(client, study, participant, right=4)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.SCREENING_FAILED and participant.screening_score == 4
    assert not participant.trials.exists()
    assert "did not confirm" in client.get(entry(study)).content.decode()
    assert client.get(f"/s/{study.slug}/trial").status_code == 403
    pass_screening(client, study, participant)  # no second attempt
    participant.refresh_from_db()
    assert participant.screening_score == 4


def test_retries_resume_and_locked_answers(make_study) -> None:
    study = make_study()
    client = Client()
    participant = consent(client, study)
    payload, first = answer_next(client, study, participant, key="key-1")
    index = payload["trial"]["index"]
    trial = participant.trials.get(index=index)
    body = {"idempotency_key": "key-1", **as_json(right_answer(trial))}
    retry = post_answer(client, study, index, body)  # the same request again: the network dropped the reply
    assert retry.status_code == 200 and retry.json() == first.json()
    assert Response.objects.filter(trial=trial).count() == 1

    changed = post_answer(
        client, study, index, {**body, "idempotency_key": "key-2", "rating": 1, "choice": 0}
    )
    assert changed.status_code == 409 and "cannot be changed" in changed.json()["error"]
    assert Response.objects.get(trial=trial).idempotency_key == "key-1"

    answer_next(client, study, participant)
    # A reload, or the link opened in another tab of the same browser, resumes at the next trial.
    assert client.get(entry(study)).status_code == 200
    assert client.get(f"/s/{study.slug}/trial").json()["trial"]["index"] == 2
    # Prolific participants coming back in another browser are resumed by their id, not restarted.
    prolific_study = make_study(slug="other-study", platform="prolific", completion_url=PROLIFIC_DONE)
    first_browser, second_browser = Client(), Client()
    p1 = consent(first_browser, prolific_study, **PROLIFIC)
    answer_next(first_browser, prolific_study, p1)
    p2 = consent(second_browser, prolific_study, **PROLIFIC)
    assert p1.pk == p2.pk
    assert second_browser.get(f"/s/{prolific_study.slug}/trial").json()["trial"]["index"] == 1


def test_no_one_answers_another_participants_trials(make_study) -> None:
    study = make_study()
    alice, bob, stranger = Client(), Client(), Client()
    pa, pb = consent(alice, study), consent(bob, study)
    answer_next(alice, study, pa)
    assert not Response.objects.filter(trial__participant=pb).exists()  # Alice's answer is hers
    beyond = pa.trials.count() + 5
    assert post_answer(alice, study, beyond, {"idempotency_key": "x", "rating": 3}).status_code == 404
    # Bob's trial 0 is not addressable by anyone but Bob, and Bob's key cannot be replayed by Alice.
    assert stranger.get(f"/s/{study.slug}/trial").status_code == 403
    assert post_answer(stranger, study, 0, {"idempotency_key": "y", "rating": 3}).status_code == 403
    _, saved_b = answer_next(bob, study, pb, key="bob-key")
    assert saved_b.status_code == 200
    trial = pa.trials.get(index=1)
    replay = post_answer(alice, study, 1, {"idempotency_key": "bob-key", **as_json(right_answer(trial))})
    assert replay.status_code == 409
    assert not Response.objects.filter(trial=trial).exists()
    skipping = post_answer(alice, study, 3, {"idempotency_key": "z", "rating": 3})
    assert skipping.status_code == 409 and "in order" in skipping.json()["error"]
    bad = post_answer(alice, study, 1, {"idempotency_key": "w", "rating": "five"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("rating:")


def test_catch_trials_failed_through_the_pages_exclude_the_participant(make_study) -> None:
    study = make_study()
    client = Client()
    participant = consent(client, study)
    for trial in participant.trials.order_by("index"):
        answer = as_json(right_answer(trial))
        if trial.kind == Trial.Kind.CATCH and trial.task.is_rating:
            answer["rating"] = 5  # rates the shifted or degraded anchor as perfect
        saved = post_answer(client, study, trial.index, {"idempotency_key": f"c{trial.pk}", **answer})
        assert saved.status_code == 200
    client.post(f"/s/{study.slug}/questionnaire", {})
    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED
    assert participant.excluded and "catch trials in task" in participant.exclusion_reason


def test_mturk_preview_accept_and_submit(make_study) -> None:
    study = make_study(screening=False, platform="mturk")
    client = Client()
    preview = client.get(entry(study), {"assignmentId": presentation.MTURK_PREVIEW, "hitId": "h"})
    html = preview.content.decode()
    assert "This is a preview" in html and "consent" not in html.lower().split("</header>")[1]
    assert not study.participants.exists()

    mturk = {
        "assignmentId": "a-1",
        "workerId": "w-1",
        "hitId": "h",
        "turkSubmitTo": "https://workersandbox.mturk.com",
    }
    assert 'name="turkSubmitTo"' in client.get(entry(study), mturk).content.decode()
    participant = consent(client, study, **mturk)
    assert (participant.mturk_worker_id, participant.mturk_assignment_id) == ("w-1", "a-1")
    for trial in participant.trials.order_by("index"):
        post_answer(
            client, study, trial.index, {"idempotency_key": f"m{trial.pk}", **as_json(right_answer(trial))}
        )
    client.post(f"/s/{study.slug}/questionnaire", {})
    done = client.get(entry(study)).content.decode()
    assert 'action="https://workersandbox.mturk.com/mturk/externalSubmit"' in done
    assert 'name="assignmentId" value="a-1"' in done

    assert presentation.mturk_submit_url("https://evil.example.org") == ""  # never an open redirect
    assert presentation.mturk_submit_url("http://www.mturk.com") == ""


def test_closed_and_unknown_studies(make_study) -> None:
    draft = make_study(open=False)
    page = Client().get(entry(draft))
    assert page.status_code == 403 and "not open" in page.content.decode()
    assert Client().post(f"/s/{draft.slug}/consent", {"consent": "yes"}).status_code == 403
    assert not draft.participants.exists()
    assert Client().get("/s/no-such-study/").status_code == 404


def test_nothing_a_participant_receives_names_a_system_or_the_answer(make_study) -> None:
    """Every page, JSON payload, media URL and media header of whole journeys, scanned."""
    study = make_study(screening=True)
    names = [s.name for s in System.objects.exclude(kind=System.Kind.REAL)]
    forbidden = [
        *names,
        "answer_key",
        "catch",
        "variant",
        "degraded",
        "shift_",
        "anchor",
        "system",
        "is_real",
        "stimulus_role",
        "external",
        "ours",
        "fingerprint",
    ]
    received: list[str] = []
    headers: dict[str, set] = {}
    for n in range(3):
        client = Client()
        received.append(client.get(entry(study), PROLIFIC | {"PROLIFIC_PID": f"p{n}"}).content.decode())
        participant = consent(client, study, **PROLIFIC | {"PROLIFIC_PID": f"p{n}"})
        received.append(client.get(entry(study)).content.decode())
        pass_screening(client, study, participant)
        received.append(client.get(entry(study)).content.decode())
        while True:
            raw = client.get(f"/s/{study.slug}/trial")
            received.append(raw.content.decode())
            payload = raw.json()
            if payload["done"]:
                break
            assert set(payload) == {"done", "progress", "trial", "preload"}
            trial = payload["trial"]
            assert set(trial) == TRIAL_KEYS and set(trial["task"]) == TASK_KEYS
            for item in trial["stimuli"]:
                assert set(item) == {"label", "src"} and MEDIA_URL.match(item["src"])
                media = client.get(item["src"], HTTP_RANGE="bytes=0-99")
                assert media.status_code == 206
                stimulus = selectors.participant_stimulus(participant, item["src"][3:-4])
                headers.setdefault(stimulus.role, set()).add(tuple(sorted(k.lower() for k in media.headers)))
                received.append(json.dumps(dict(media.headers)))
            assert all(MEDIA_URL.match(url) for url in payload["preload"])
            db_trial = participant.trials.get(index=trial["index"])
            body = {"idempotency_key": f"s{db_trial.pk}", **as_json(right_answer(db_trial))}
            saved = post_answer(client, study, trial["index"], body)
            if not trial["practice"]:
                received.append(saved.content.decode())  # practice feedback teaches; it is sent after saving
        received.append(client.get(entry(study)).content.decode())
        client.post(f"/s/{study.slug}/questionnaire", {})
        received.append(client.get(entry(study)).content.decode())
    text = "\n".join(received).lower()
    for word in forbidden:
        assert word.lower() not in text, f"{word!r} reached a participant"
    assert '"real"' not in text and '"generated"' not in text
    # Real, generated and anchor soundtracks are served with exactly the same headers.
    assert len({frozenset(v) for v in headers.values()}) == 1, headers
    assert {"test", "anchor"} <= set(headers)


def test_media_urls_are_per_participant_and_trial_and_served_only_to_their_session(make_study) -> None:
    study = make_study()
    alice, bob, stranger = Client(), Client(), Client()
    consent(alice, study)
    consent(bob, study)
    urls = {}
    for name, client in (("alice", alice), ("bob", bob)):
        payload = client.get(f"/s/{study.slug}/trial").json()
        again = client.get(f"/s/{study.slug}/trial").json()  # a reload, or a replay: the same URLs
        assert [s["src"] for s in again["trial"]["stimuli"]] == [
            s["src"] for s in payload["trial"]["stimuli"]
        ]
        urls[name] = [s["src"] for s in payload["trial"]["stimuli"]] + payload["preload"]
    assert not set(urls["alice"]) & set(urls["bob"])
    for url in urls["alice"]:
        assert alice.get(url, HTTP_RANGE="bytes=0-99").status_code == 206
        assert bob.get(url).status_code == 404  # another participant's session
        assert stranger.get(url).status_code == 404  # no session
    # No stimulus, whoever sees it and wherever, has the same URL twice across all planned trials.
    participants = Participant.objects.filter(study=study)
    every = [
        media_token(p.public_id, item.trial_id, item.position)
        for p in participants
        for item in TrialStimulus.objects.filter(trial__participant=p)
    ]
    assert len(every) == len(set(every)) > 0


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"choice": 0, "client_time": "2026-13-45T00:00:00"}, 400, "client_time"),
        ({"choice": 0, "response_time_ms": 2**40}, 400, "response_time_ms"),
        ({"choice": 0, "play_counts": [1] * 33}, 400, "play_counts"),
        ({"ranking": list(range(1000))}, 413, "bytes"),
        ({"choice": 0, "idempotency_key": "k" * 5000}, 413, "bytes"),
    ],
)
def test_hostile_answer_bodies_get_4xx_naming_the_problem(make_study, body, status, named) -> None:
    study = make_study()
    client = Client()
    consent(client, study)
    index = client.get(f"/s/{study.slug}/trial").json()["trial"]["index"]
    reply = post_answer(client, study, index, {"idempotency_key": "k1", **body})
    assert reply.status_code == status and named in reply.json()["error"], reply.content
    assert not Response.objects.exists()


def test_the_server_clock_flags_answers_sooner_than_the_videos_could_play(make_study, tmp_path) -> None:
    """The browser may claim any response time; the server records when it sent each trial, and an
    answer that arrived before the videos could have played is flagged and dropped from analysis."""
    study = make_study(
        tasks=[{"type": "turing_2afc", "trials_per_participant": 5, "catch_rate": 0, "practice_trials": 0}]
    )
    client = Client()
    participant = consent(client, study)
    _, rushed = answer_next(client, study, participant)  # at once, though it claims 5 s after playing
    assert rushed.status_code == 200
    patient = []
    for _ in range(4):  # sent now; pretend each was sent 30 s before its answer
        index = client.get(f"/s/{study.slug}/trial").json()["trial"]["index"]
        participant.trials.filter(index=index).update(delivered_at=timezone.now() - timedelta(seconds=30))
        trial = participant.trials.get(index=index)
        body = {"idempotency_key": f"patient-{index}", **as_json(right_answer(trial))}
        assert post_answer(client, study, index, body).status_code == 200
        patient.append(index)

    call_command("export_results", study.slug, "--out", str(tmp_path / "r.csv"))
    with open(tmp_path / "r.csv", newline="") as handle:
        rows = {int(r["trial_index"]): r for r in csv.DictReader(handle)}
    first, later = rows[0], rows[patient[0]]
    assert first["faster_than_media"] == "1" and int(first["server_answer_ms"]) < int(first["min_play_ms"])
    assert first["min_play_ms"] == str(round(0.9 * trial.clip.duration * 1000 * 2))  # two videos
    assert later["faster_than_media"] == "0" and int(later["server_answer_ms"]) >= 30_000
    kept, report = apply_exclusions(load_results(tmp_path / "r.csv"))
    assert sorted(set(kept["trial_index"])) == patient and report.fast_responses_dropped == 1
