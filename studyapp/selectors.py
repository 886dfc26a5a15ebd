"""Reads. Views, API endpoints, admin actions and management commands call these, never the ORM directly."""

from __future__ import annotations

from django.db import connection


def health_status() -> dict[str, str]:
    """What a load balancer or `make demo` polls: the process serves and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "database": connection.vendor}
