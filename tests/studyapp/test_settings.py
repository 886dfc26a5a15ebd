"""Settings come from the environment with safe embedded defaults; each variable is honoured."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from studyapp.env import env_bool, secret_key_from_file

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in a fresh interpreter with exactly ``env`` (plus PATH), as a user's shell would."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


SHOW_SETTINGS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studyapp.settings")
import django; django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"),
                  "port": db.get("PORT"), "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
                  "media": str(settings.MEDIA_ROOT),
                  "key": settings.SECRET_KEY}))
"""


def test_embedded_defaults(tmp_path: Path) -> None:
    shown = json.loads(run_python(SHOW_SETTINGS, {"VIS2SOUND_DATA_DIR": str(tmp_path)}))
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["name"] == str(tmp_path / "db.sqlite3")
    assert shown["debug"] is False
    assert shown["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert shown["media"] == str(tmp_path / "media")
    assert shown["key"] == (tmp_path / "secret_key").read_text()


def test_environment_variables_are_honoured(tmp_path: Path) -> None:
    shown = json.loads(
        run_python(
            SHOW_SETTINGS,
            {
                "VIS2SOUND_DATA_DIR": str(tmp_path),
                "DATABASE_URL": "postgres://study:pw@db.internal:6543/vis2sound",
                "SECRET_KEY": "k" * 60,
                "DEBUG": "true",
                "ALLOWED_HOSTS": "study.example.org, localhost",
                "MEDIA_ROOT": str(tmp_path / "elsewhere"),
            },
        )
    )
    assert shown["engine"] == "django.db.backends.postgresql"
    assert (shown["name"], shown["host"], shown["port"]) == ("vis2sound", "db.internal", 6543)
    assert shown["key"] == "k" * 60
    assert shown["debug"] is True
    assert shown["hosts"] == ["study.example.org", "localhost"]
    assert shown["media"] == str(tmp_path / "elsewhere")
    assert not (tmp_path / "secret_key").exists()


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_variables(tmp_path: Path) -> None:
    result = check_deploy(
        {
            "VIS2SOUND_DATA_DIR": str(tmp_path),
            "DEBUG": "0",
            "SECRET_KEY": "x7#Lq9!vR2@pZ4%mW8^tY1&kN6*hB3(cF5)jD0-gS_=aE+uI" * 2,
            "ALLOWED_HOSTS": "study.example.org",
            "HTTPS_ONLY": "1",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_without_https(tmp_path: Path) -> None:
    """The default is for a local demo; it must not pass for a public deployment by accident."""
    result = check_deploy({"SECRET_KEY": "x" * 60, "VIS2SOUND_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


def test_secret_key_is_generated_once(tmp_path: Path) -> None:
    key = secret_key_from_file(tmp_path / "state")
    assert len(key) == 50
    assert (tmp_path / "state" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key_from_file(tmp_path / "state") == key


def test_empty_secret_key_file_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ImproperlyConfigured, match="secret_key is empty"):
        secret_key_from_file(tmp_path)


def test_bad_boolean_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", default=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_app_starts_with_no_environment_variables() -> None:
    """The embedded default: nothing set but PATH. The server answers and its database is SQLite."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"]},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    health = json.load(response)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {server.stderr.read().decode()}") from None
                time.sleep(0.3)
        assert health == {"status": "ok", "database": "sqlite"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.django_db
def test_database_is_the_one_database_url_names() -> None:
    """On the PostgreSQL pass this talks to the real server; on the default pass, to SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    with connection.cursor() as cursor:
        if url.startswith(("postgres://", "postgresql://")):
            assert connection.vendor == "postgresql"
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL")
        else:
            assert connection.vendor == "sqlite"
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0]
