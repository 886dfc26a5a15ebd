"""Participant pages in MTurk's cross-site frame (studyapp.framing), through Django's test client: a
participant whose browser sends no cookie at all (each request from a fresh client) goes through the
whole HIT on the signed token its pages carry; who may frame which page; POSTs told apart from
cross-site forgeries by Fetch Metadata / Origin, with Django's CSRF check where a client sends
neither. tests/studyapp/test_mturk_frame_browser.py does the same in a real browser."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from studyapp import framing, screening
from studyapp.models import Participant
from tests.studyapp.answers import right_answer
from tests.studyapp.test_participant_views import as_json

pytestmark = pytest.mark.django_db

MTURK = {
    "assignmentId": "a-9",
    "workerId": "w-9",
    "hitId": "h-9",
    "turkSubmitTo": "https://workersandbox.mturk.com",
}
SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}  # what a browser sends from the study's own page


def cookieless() -> Client:
    """A browser in a third-party frame: no cookie ever comes back, and CSRF is really checked."""
    return Client(enforce_csrf_checks=True)


def page_token(html: str) -> str:
    found = re.search(r'name="participant-token" content="([^"]+)"', html) or re.search(
        r'name="pt" value="([^"]+)"', html
    )
    assert found, "the page carries no participant token"
    return found.group(1)


def test_a_whole_hit_without_cookies(make_study) -> None:
    study = make_study(screening=True, platform="mturk")
    entry = f"/s/{study.slug}/"
    assert cookieless().get(entry, MTURK).status_code == 200
    consented = cookieless().post(f"{entry}consent", {"consent": "yes", **MTURK}, **SAME_ORIGIN)
    assert consented.status_code == 302
    token = parse_qs(urlparse(consented["Location"]).query)["pt"][0]
    participant = Participant.objects.get(study=study)
    assert participant.mturk_assignment_id == "a-9"

    check_page = cookieless().get(entry, {"pt": token}).content.decode()
    assert page_token(check_page) == token
    audio = re.findall(r'data-src="([^"]+\.wav[^"]*)"|src="([^"]+\.wav[^"]*)"', check_page)
    urls = [a or b for a, b in audio]
    assert urls and all("pt=" in url for url in urls)
    assert cookieless().get(urls[0].replace("&amp;", "&")).status_code == 200
    layouts = screening.trial_layouts(settings.SECRET_KEY, participant.public_id)
    answers = {f"trial{n}": str(quiet + 1) for n, (quiet, _) in enumerate(layouts)}
    passed = cookieless().post(f"{entry}headphones", {**answers, "pt": token}, **SAME_ORIGIN)
    assert passed.status_code == 302 and "pt=" in passed["Location"]

    trials_page = cookieless().get(entry, {"pt": token}).content.decode()
    assert page_token(trials_page) == token and f"?pt={token}" in trials_page.replace("%3A", ":")
    headers = {"HTTP_X_PARTICIPANT_TOKEN": token}
    while True:
        payload = cookieless().get(f"{entry}trial", **headers).json()
        if payload["done"]:
            break
        index = payload["trial"]["index"]
        media = payload["trial"]["stimuli"][0]["src"]
        assert "pt=" in media and cookieless().get(media).status_code == 200
        assert cookieless().get(media.split("?")[0]).status_code == 404  # the token is what opens it
        trial = participant.trials.get(index=index)
        body = json.dumps({"idempotency_key": f"k{index}", **as_json(right_answer(trial))})
        saved = cookieless().post(
            f"{entry}trials/{index}", body, content_type="application/json", **headers, **SAME_ORIGIN
        )
        assert saved.status_code == 200 and saved.json()["saved"], saved.content

    finished = cookieless().post(f"{entry}questionnaire", {"pt": token}, **SAME_ORIGIN)
    assert finished.status_code == 302
    done = cookieless().get(finished["Location"]).content.decode()
    assert 'action="https://workersandbox.mturk.com/mturk/externalSubmit"' in done
    assert 'name="assignmentId" value="a-9"' in done
    participant.refresh_from_db()
    assert participant.status == Participant.Status.FINISHED
    assert participant.trials.filter(response__isnull=True).count() == 0


def test_a_forged_or_foreign_token_is_nobody(make_study) -> None:
    study, other = make_study(platform="mturk", screening=False), make_study(slug="other", screening=False)
    client = Client()
    client.post(f"/s/{study.slug}/consent", {"consent": "yes", **MTURK})
    participant = Participant.objects.get(study=study)
    token = framing.token_for(study.pk, participant.public_id)
    assert cookieless().get(f"/s/{study.slug}/trial", HTTP_X_PARTICIPANT_TOKEN=token).status_code == 200
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert cookieless().get(f"/s/{study.slug}/trial", HTTP_X_PARTICIPANT_TOKEN=tampered).status_code == 403
    assert cookieless().get(f"/s/{other.slug}/trial", HTTP_X_PARTICIPANT_TOKEN=token).status_code == 403
    payload = {"s": study.pk, "p": participant.public_id, "t": ""}
    forged = signing.dumps(payload, key="a guessed secret", salt=framing.SALT)  # not the server's key
    assert cookieless().get(f"/s/{study.slug}/trial", HTTP_X_PARTICIPANT_TOKEN=forged).status_code == 403


def test_only_participant_pages_may_be_framed_and_only_by_mturk(make_study, admin_client) -> None:
    study = make_study(platform="mturk")
    page = Client().get(f"/s/{study.slug}/", MTURK)
    assert "X-Frame-Options" not in page
    policy = page["Content-Security-Policy"]
    assert policy == "frame-ancestors 'self' https://www.mturk.com https://workersandbox.mturk.com"
    assert admin_client.get("/admin/")["X-Frame-Options"] == "DENY"
    assert Client().get("/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, 403),
        ({"HTTP_SEC_FETCH_SITE": "same-site"}, 403),
        ({"HTTP_ORIGIN": "https://evil.example.org"}, 403),
        ({"HTTP_ORIGIN": "null"}, 403),
        ({"HTTP_SEC_FETCH_SITE": "same-origin"}, 302),
        ({"HTTP_ORIGIN": "http://testserver"}, 302),
        ({}, 403),  # no browser evidence: Django's CSRF check, and there is no CSRF cookie here
    ],
)
def test_a_consent_from_another_site_is_refused(make_study, headers, status) -> None:
    study = make_study(screening=False)
    response = cookieless().post(f"/s/{study.slug}/consent", {"consent": "yes"}, **headers)
    assert response.status_code == status
    assert Participant.objects.filter(study=study).count() == (1 if status == 302 else 0)


def test_a_client_with_the_csrf_cookie_still_works_without_fetch_metadata(make_study) -> None:
    study = make_study(screening=False)
    client = Client(enforce_csrf_checks=True)
    html = client.get(f"/s/{study.slug}/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(f"/s/{study.slug}/consent", {"consent": "yes", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and "pt=" not in response["Location"]  # not MTurk: the session
