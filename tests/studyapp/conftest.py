"""Studies built on real media: a small synthetic video set, two "external systems" whose audio files
are written here, imported once per session with the real renderer into the test database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from generation.media import decode_audio
from generation.synth.dataset import SynthConfig, build_dataset

CATEGORIES = ("drum", "fireworks")
CLIPS_PER_CATEGORY = 6  # the first of each becomes a practice clip, the second a catch clip
EXTERNAL_SYSTEMS = ("sys-noise", "sys-delay")


def write_external_systems(videos: Path, out: Path, systems=EXTERNAL_SYSTEMS) -> Path:
    """Other V2A systems' outputs, `<system>/<clip_id>.wav`: white noise, and the real sound late."""
    rng = np.random.default_rng(0)
    for video in sorted(videos.glob("*/*.mp4")):
        real = decode_audio(video, sample_rate=16_000)
        for system in systems:
            audio = 0.1 * rng.standard_normal(real.size) if system == "sys-noise" else np.roll(real, 4000)
            (out / system).mkdir(parents=True, exist_ok=True)
            soundfile.write(out / system / f"{video.stem}.wav", audio.astype(np.float32), 16_000)
    return out


@pytest.fixture(scope="session")
def study_videos(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("study_videos")
    config = SynthConfig(
        clips_per_category=CLIPS_PER_CATEGORY, duration=1.0, width=64, height=64, categories=CATEGORIES
    )
    assert not build_dataset(config, out, jobs=2, progress=False).failed
    return out


@pytest.fixture(scope="session")
def external_audio(tmp_path_factory, study_videos: Path) -> Path:
    return write_external_systems(study_videos, tmp_path_factory.mktemp("external"))


def _import(study_videos: Path, external_audio: Path):
    from studyapp import services

    report = services.stimuli_import(
        videos=study_videos,
        external=external_audio,
        practice_per_category=1,
        catch_per_category=1,
        progress=False,
    )
    assert not report.problems, report.problems
    return report


@pytest.fixture(scope="session")
def imported_once(django_db_setup, django_db_blocker, study_videos: Path, external_audio: Path):
    """Clips, systems and stimuli, committed once for the whole session (tests roll back their own)."""
    with django_db_blocker.unblock():
        return _import(study_videos, external_audio)


@pytest.fixture
def imported(imported_once, django_db_blocker, study_videos: Path, external_audio: Path):
    """The session's import, restored if a transactional test (browser tests: pytest-django runs them
    last) has flushed the database since."""
    from studyapp.models import Stimulus

    with django_db_blocker.unblock():
        if not Stimulus.objects.exists():
            return _import(study_videos, external_audio)
    return imported_once


ALL_TASKS = [
    {"type": "turing_2afc", "trials_per_participant": 4, "catch_rate": 0.25},
    {"type": "turing_single", "trials_per_participant": 6, "catch_rate": 0.2},
    {"type": "sync_rating", "trials_per_participant": 4, "catch_rate": 0.25},
    {"type": "fidelity_rating", "trials_per_participant": 4, "catch_rate": 0.25},
    {"type": "ranking", "trials_per_participant": 2, "catch_rate": 0.5},
]


def study_spec(**overrides) -> dict:
    spec = {
        "title": "Test study",
        "slug": "test-study",
        "consent": "I agree to take part.",
        "instructions": "Watch each video and answer.",
        "systems": ["real", *EXTERNAL_SYSTEMS],
        "screening": False,
        "tasks": ALL_TASKS,
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def make_study(imported, db):
    """A study from a spec dict (see study_spec), opened unless open=False."""
    from studyapp import services
    from studyapp.study_spec import parse_study

    def make(open: bool = True, **overrides):
        study = services.study_create(spec=parse_study(study_spec(**overrides)))
        return services.study_open(study=study) if open else study

    return make
