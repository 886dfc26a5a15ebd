"""The spectrogram figure: real vs. each system, one clip per category, events marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

from evaluation.__main__ import main as evaluation_main
from evaluation.spectrograms import spectrogram_figure
from generation.media import decode_audio

RATE = 16_000


def test_one_row_per_category_one_column_per_system(demo_videos: Path, tmp_path: Path) -> None:
    silent = tmp_path / "silent"
    for video in sorted(demo_videos.glob("*/*.mp4")):
        (silent / video.parent.name).mkdir(parents=True, exist_ok=True)
        length = len(decode_audio(video, sample_rate=RATE))
        soundfile.write(silent / video.parent.name / f"{video.stem}.wav", np.zeros(length, np.float32), RATE)
    (silent / "drum" / "drum_0000.wav").unlink()  # a missing soundtrack is a labelled empty panel
    out = tmp_path / "figure.png"
    shown = spectrogram_figure(demo_videos, {"silent": silent}, out)
    assert shown == [
        "chainsaw/chainsaw_0000",
        "drum/drum_0000",
        "fireworks/fireworks_0000",
        "helicopter/helicopter_0000",
    ]
    with Image.open(out) as image:
        width, height = image.size
    assert height > width  # 4 rows of 2 panels


def test_the_command_names_a_clip_that_is_not_there(demo_videos: Path, tmp_path: Path, capsys) -> None:
    code = evaluation_main(
        ["spectrograms", "--real", str(demo_videos), "--clip", "drum_0042", "--out", str(tmp_path / "f.png")]
    )
    assert code == 2
    assert "drum_0042: not among the real clips" in capsys.readouterr().err


def test_the_command_writes_the_figure(demo_videos: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "f.png"
    assert (
        evaluation_main(
            ["spectrograms", "--real", str(demo_videos), "--clip", "drum_0001", "--out", str(out)]
        )
        == 0
    )
    assert out.stat().st_size > 1000
    assert "drum/drum_0001" in capsys.readouterr().out
