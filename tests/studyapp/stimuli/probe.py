"""ffprobe, as the tests of stimulus files use it; a test skips when ffprobe is absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest


def ffprobe_json(path: Path | str, *options: str) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is absent (Debian package ffmpeg; .ci/run installs it)")
    result = subprocess.run(
        ["ffprobe", "-v", "error", *options, "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def ffprobe(path: Path | str) -> dict:
    return ffprobe_json(path, "-show_format", "-show_streams")


def audio_packet_sizes(path: Path | str) -> list[int]:
    packets = ffprobe_json(path, "-select_streams", "a", "-show_entries", "packet=size")["packets"]
    return [int(p["size"]) for p in packets]
