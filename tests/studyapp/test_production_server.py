"""The production way to serve (`make serve-prod`): gunicorn with gunicorn.conf.py, and stimulus files
handed to nginx by X-Accel-Redirect. (`check --deploy` in production settings: test_settings.py.)"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.studyapp.test_participant_views import consent

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    return {**env, "VIS2SOUND_DATA_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50), **extra}


def test_gunicorn_serves_pages_and_static_files(tmp_path: Path) -> None:
    env = _env(tmp_path, WEB_CONCURRENCY="2", WEB_THREADS="2")
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and health is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                    health = reply.read().decode()
            except OSError:
                time.sleep(0.3)
        assert health is not None, "gunicorn did not answer within 60 s"
        assert '"status": "ok"' in health or '"status":"ok"' in health
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/trials.js", timeout=5) as reply:
            assert reply.status == 200 and b"function" in reply.read()
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors.decode()[-2000:]
    assert b"Booting worker" in errors and b"gthread" in errors


@pytest.mark.django_db
@override_settings(MEDIA_ACCEL_REDIRECT="/protected-media/")
def test_behind_nginx_the_app_authorises_and_nginx_sends_the_file(make_study) -> None:
    study = make_study()
    alice, stranger = Client(), Client()
    consent(alice, study)
    src = alice.get(f"/s/{study.slug}/trial").json()["trial"]["stimuli"][0]["src"]
    reply = alice.get(src)
    assert reply.status_code == 200 and reply.content == b""
    assert reply["X-Accel-Redirect"].startswith("/protected-media/stimuli/")
    assert reply["Content-Type"] == "video/mp4"
    assert stranger.get(src).status_code == 404  # the token check still comes first
