"""Shared fixtures. Tests that touch the database are marked `database` automatically, so that
`make test` can run exactly those again against PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generation.config import PrepareConfig, SplitConfig
from generation.prepare import prepare
from generation.synth.dataset import SynthConfig, build_dataset

# VGG19 on 32x32 frames: the same network and code path, a fraction of the CPU time.
TINY_PREPARE = PrepareConfig(frame_size=32, flow_compute_size=32, flow_size=8)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if item.get_closest_marker("embedded_only"):
            continue  # runs on the embedded default (SQLite) only; see the marker's description
        if item.get_closest_marker("django_db") or "django_db_setup" in fixtures:
            item.add_marker(pytest.mark.database)


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[object]:
    """Debian's chromium driven by Playwright; skips (saying why) where either is missing.

    Requests the test database first: it must be created before Playwright's event loop starts.
    """
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("browser test skipped: /usr/bin/chromium is absent (apt-get install chromium)")
    playwright_sync = pytest.importorskip(
        "playwright.sync_api", reason="browser test skipped: playwright missing"
    )
    # Playwright's sync API keeps an event loop running in this thread, which makes Django refuse ORM
    # calls from test bodies ("cannot call this from an async context"); those calls really are sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=CHROMIUM_FLAGS,
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo_videos(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_videos")
    report = build_dataset(SynthConfig(clips_per_category=3, duration=2.0), out, jobs=2, progress=False)
    assert not report.failed
    return out


@pytest.fixture(scope="session")
def prepared(tmp_path_factory, demo_videos: Path) -> Path:
    out = tmp_path_factory.mktemp("prepared")
    report = prepare(demo_videos, out, TINY_PREPARE, split=SplitConfig(), jobs=2, progress=False)
    assert not report.skipped
    return out
