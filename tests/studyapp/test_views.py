import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_home_page(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"use the exact link you were given" in response.content


def test_health_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_admin_requires_login(client, admin_client) -> None:
    assert client.get("/admin/").status_code == 302
    assert admin_client.get("/admin/").status_code == 200
