"""The load test itself, small, the way a user runs it: a real server process on its own SQLite
database, participants over HTTP, the server killed (kill -9) and restarted mid-run, and every
acknowledged answer found in the database exactly once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from studyapp import loadtest

REPO = Path(__file__).resolve().parents[2]
STUDY = """
title: Load
slug: load
consent: I agree.
instructions: Listen.
systems: all
screening: false
tasks:
  - {type: turing_2afc, trials_per_participant: 4, practice_trials: 1, catch_rate: 0.25}
  - {type: fidelity_rating, trials_per_participant: 4, practice_trials: 0, catch_rate: 0.25}
  - {type: ranking, trials_per_participant: 2, practice_trials: 0, catch_rate: 0.5}
"""


def test_a_small_load_test_with_a_kill_loses_and_duplicates_nothing(
    tmp_path: Path, study_videos: Path, external_audio: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env |= {"VIS2SOUND_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": secrets.token_urlsafe(50)}
    (tmp_path / "study.yaml").write_text(STUDY)

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True
        )

    manage("migrate", "--noinput")
    manage("import_stimuli", "--videos", str(study_videos), "--external", str(external_audio),
           "--practice", "1", "--catch", "1")  # fmt: skip
    manage("create_study", str(tmp_path / "study.yaml"), "--open")
    out = tmp_path / "platform.json"
    done = subprocess.run(
        [sys.executable, "-m", "studyapp.loadtest", "--study", "load", "--serve", "runserver",
         "--participants", "6", "--arrival-seconds", "1", "--kill-after", "4", "--setup", "tiny",
         "--think-seconds", "0.02", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())["tiny"]
    server_log = (tmp_path / "data" / "loadtest-runserver.log").read_text(errors="replace")[-3000:]
    assert result["finished"] == 6 and result["failed"] == {}, (result["failed"], server_log)
    assert result["server_errors"] == 0
    assert result["kill"]["at_s"] >= 4 and result["kill"]["restart_s"] > 0
    check = result["database_check"]
    assert check["missing"] == 0 and check["duplicated"] == 0
    assert check["acknowledged"] >= 6 * (4 + 4 + 2)  # test trials, plus catch and practice ones
    assert {"entry", "consent", "trial", "answer", "questionnaire"} <= set(result["latency_ms"])
    assert result["answers_per_second"] > 0 and result["machine"]["cores"] >= 1
    assert result["think_seconds"] == 0.02


def test_traffic_only_goes_to_this_machine() -> None:
    with pytest.raises(SystemExit, match="loopback"):
        loadtest.main(["--study", "x", "--url", "http://example.org", "--out", "/dev/null"])
