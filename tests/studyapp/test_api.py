"""The researcher API and the admin: staff only; studies, progress, results, schema; admin pages,
actions, preview and downloads."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from studyapp import services
from studyapp.models import Study
from tests.studyapp.test_services import answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("researcher", password="pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def someone(client):
    client.force_login(get_user_model().objects.create_user("participant", password="pw"))
    return client


API = [
    ("api-studies", False),
    ("api-study", True),
    ("api-study-progress", True),
    ("api-study-results", True),
]


@pytest.mark.parametrize(("name", "per_study"), API)
def test_non_staff_get_403_from_the_api(make_study, client, someone, name, per_study) -> None:
    make_study()
    url = reverse(name, args=["test-study"] if per_study else [])
    assert someone.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 403
    assert client.get(reverse("api-schema")).status_code == 403


def test_non_staff_cannot_use_the_admin(make_study, someone) -> None:
    study = make_study()
    for url in (
        reverse("admin:studyapp_study_changelist"),
        reverse("admin:studyapp_study_export", args=[study.pk]),
    ):
        response = someone.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_see_studies_progress_and_results(make_study, staff) -> None:
    study = make_study()
    participant = services.participant_register(study=study)
    answer_all(participant)
    services.participant_finish(participant=participant)
    studies = staff.get(reverse("api-studies")).json()
    assert [s["slug"] for s in studies] == ["test-study"]
    assert studies[0]["tasks"][0]["type"] == "turing_2afc"
    progress = staff.get(reverse("api-study-progress", args=[study.slug])).json()
    assert progress["participants"]["finished"] == 1
    answered = sum(c["answered"] for t in progress["tasks"] for c in t["cells"])
    assert answered == participant.trials.filter(kind="test").count()
    results = staff.get(reverse("api-study-results", args=[study.slug])).json()
    assert results["rows"] and results["rows"][0]["participant"] == participant.public_id
    csv_text = staff.get(reverse("api-study-results", args=[study.slug]) + "?as=csv").content.decode()
    assert csv_text.startswith("study,participant,")


def test_staff_open_and_close_through_the_api(make_study, staff) -> None:
    study = make_study(open=False)
    url = reverse("api-study-status", args=[study.slug])
    assert staff.post(url, {"status": "open"}, content_type="application/json").json()["status"] == "open"
    assert staff.post(url, {"status": "closed"}, content_type="application/json").json()["status"] == "closed"
    assert staff.post(url, {"status": "gone"}, content_type="application/json").status_code == 400


def test_the_openapi_schema_is_served(staff) -> None:
    response = staff.get(reverse("api-schema") + "?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/research/studies/{slug}/progress/" in schema["paths"]


def test_admin_study_pages_preview_actions_and_download(make_study, staff) -> None:
    study = make_study(open=False)
    page = staff.get(reverse("admin:studyapp_study_change", args=[study.pk])).content.decode()
    assert "ready: the design can be balanced" in page and "answered" in page
    preview = staff.get(reverse("admin:studyapp_study_preview", args=[study.pk])).content.decode()
    assert preview.count("<video") >= study.tasks.count() and "Which video has the real sound?" in preview
    assert not study.participants.exists()  # a preview saves nothing
    staff.post(
        reverse("admin:studyapp_study_changelist"),
        {"action": "open_studies", "_selected_action": [study.pk]},
    )
    assert Study.objects.get(pk=study.pk).status == "open"
    participant = services.participant_register(study=study)
    answer_all(participant)
    download = staff.get(reverse("admin:studyapp_study_export", args=[study.pk]) + "?format=csv")
    assert download["Content-Disposition"] == 'attachment; filename="test-study-responses.csv"'
    assert participant.public_id in download.content.decode()
    staff.post(
        reverse("admin:studyapp_participant_changelist"),
        {"action": "exclude_participants", "_selected_action": [participant.pk]},
    )
    participant.refresh_from_db()
    assert participant.excluded and participant.exclusion_reason == "excluded by researcher"


def test_stimulus_media_supports_range_requests(make_study, admin_client, client) -> None:
    """Staff (the admin's preview) fetch a stimulus by its opaque id; anyone else gets nothing."""
    from studyapp.models import Stimulus

    stimulus = Stimulus.objects.first()
    url = reverse("stimulus-media", args=[stimulus.public_id])
    assert client.get(url).status_code == 404  # no session: a stimulus id is not a participant's URL
    client = admin_client
    with open(stimulus.media.path, "rb") as handle:
        data = handle.read()
    whole = client.get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data
    assert whole["Accept-Ranges"] == "bytes"
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == data[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data)}-").status_code == 416
    assert client.get(reverse("stimulus-media", args=["0" * 32])).status_code == 404
