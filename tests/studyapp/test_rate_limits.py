"""Rate limits (studyapp.rate_limits): consent per address, answers per participant, admin login and
API Basic-auth failures per address; an exceeded limit is a 429, and the right user is never slowed."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from tests.studyapp.test_participant_views import consent

pytestmark = pytest.mark.django_db
LIMITS = {"consent": "3/m", "answer": "5/m", "media": "600/m", "login": "3/m", "api_auth": "3/m"}


@pytest.fixture(autouse=True)
def limits_on():
    cache.clear()
    with override_settings(RATELIMIT_ENABLE=True, RATE_LIMITS=LIMITS):
        yield
    cache.clear()


def test_consent_is_limited_per_address(make_study) -> None:
    study = make_study()
    for _ in range(3):
        consent(Client(), study)
    reply = Client().post(f"/s/{study.slug}/consent", {"consent": "yes"})
    assert reply.status_code == 429 and reply["Retry-After"] == "60"
    assert "Please wait" in reply.content.decode()
    assert study.participants.count() == 3  # the refused one left nothing behind
    other = Client(REMOTE_ADDR="10.0.0.2").post(f"/s/{study.slug}/consent", {"consent": "yes"})
    assert other.status_code == 302  # another address is not affected


def test_answers_are_limited_per_participant(make_study) -> None:
    study = make_study()
    alice, bob = Client(), Client()
    consent(alice, study)
    consent(bob, study)
    codes = [alice.get(f"/s/{study.slug}/trial").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert alice.get(f"/s/{study.slug}/trial").json()["error"].startswith("Too many requests")
    assert bob.get(f"/s/{study.slug}/trial").status_code == 200  # same address, own session


def test_admin_login_attempts_are_limited(client) -> None:
    get_user_model().objects.create_superuser("boss", password="right-password-123")
    for _ in range(3):
        assert client.post("/admin/login/", {"username": "boss", "password": "wrong"}).status_code == 200
    assert client.post("/admin/login/", {"username": "boss", "password": "wrong"}).status_code == 429


def test_api_basic_auth_failures_are_limited_but_not_the_right_password(client) -> None:
    get_user_model().objects.create_superuser("boss", password="right-password-123")

    def auth(password: str) -> dict:
        token = base64.b64encode(f"boss:{password}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {token}"}

    for _ in range(5):  # a script with the right password is never slowed down
        assert client.get("/api/research/studies/", **auth("right-password-123")).status_code == 200
    assert [client.get("/api/research/studies/", **auth("guess")).status_code for _ in range(3)] == [403] * 3
    blocked = client.get("/api/research/studies/", **auth("guess"))
    assert blocked.status_code == 429 and "Too many requests" in blocked.json()["detail"]
