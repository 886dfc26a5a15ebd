"""Stimuli: real and generated soundtracks of a video must be indistinguishable as files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from generation.media import decode_audio
from studyapp.stimuli.loudness import integrated_loudness
from studyapp.stimuli.render import StimulusSpec, fit_and_normalise, render_stimulus, video_duration
from tests.studyapp.stimuli.probe import audio_packet_sizes, ffprobe

# Constant-bitrate audio: nothing but the file's name may differ between the soundtracks of a clip.
CONTENT_DEPENDENT = {"filename"}
LEAKY_TAGS = {"encoder", "title", "creation_time", "comment", "artist", "album", "date", "description"}


def comparable(info: dict) -> dict:
    strip = lambda d: {k: v for k, v in d.items() if k not in CONTENT_DEPENDENT}  # noqa: E731
    return {"format": strip(info["format"]), "streams": [strip(s) for s in info["streams"]]}


@pytest.fixture(scope="module")
def stimuli(demo_videos: Path, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("stimuli")
    video = demo_videos / "drum" / "drum_0000.mp4"
    rng = np.random.default_rng(0)
    # Another system's output: 44.1 kHz stereo, too short, loud, with tags of its own.
    imported = out / "other_system.wav"
    soundfile.write(imported, 0.6 * rng.standard_normal((int(44_100 * 1.3), 2)), 44_100)
    return {
        "real": render_stimulus(video, None, out / "a.mp4"),
        "generated": render_stimulus(
            video,
            (0.05 * rng.standard_normal(40_000)).astype(np.float32),
            out / "b.mp4",
            soundtrack_rate=16_000,
        ),
        "imported": render_stimulus(video, imported, out / "c.mp4"),
        "video": video,
    }


def test_every_soundtrack_gives_identical_container_and_stream_properties(stimuli: dict[str, Path]) -> None:
    real = comparable(ffprobe(stimuli["real"]))
    assert [s["codec_name"] for s in real["streams"]] == ["h264", "mp3"]
    assert real["streams"][1]["sample_rate"] == "48000"
    assert real["streams"][1]["channels"] == 2
    for other in ("generated", "imported"):
        assert comparable(ffprobe(stimuli[other])) == real, other


def test_duration_is_exactly_the_videos(stimuli: dict[str, Path]) -> None:
    expected = float(video_duration(stimuli["video"]))
    for name in ("real", "generated", "imported"):
        info = ffprobe(stimuli[name])
        video_stream = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert float(video_stream["duration"]) == pytest.approx(expected, abs=1e-3), name
        assert float(info["format"]["duration"]) == pytest.approx(expected, abs=0.025), name  # one MP3 frame


def test_file_and_audio_packet_sizes_do_not_depend_on_the_soundtrack(stimuli: dict[str, Path]) -> None:
    """File size and per-packet sizes gave the real soundtrack away when they followed how compressible
    the sound was: every soundtrack of a clip must give the same bytes count, packet for packet."""
    names = ("real", "generated", "imported")
    assert len({stimuli[n].stat().st_size for n in names}) == 1
    packets = {n: audio_packet_sizes(stimuli[n]) for n in names}
    assert set(packets["real"]) == {StimulusSpec().audio_frame_bytes}
    assert packets["generated"] == packets["real"] == packets["imported"]


def test_a_bitrate_with_padded_frames_is_refused() -> None:
    with pytest.raises(ValueError, match="fractional size"):
        StimulusSpec(output_rate=44_100)


def test_no_metadata_tags_remain(stimuli: dict[str, Path]) -> None:
    for name in ("real", "generated", "imported"):
        info = ffprobe(stimuli[name])
        for section in [info["format"], *info["streams"]]:
            assert not LEAKY_TAGS & set(section.get("tags", {})), (name, section.get("tags"))


def test_loudness_is_normalised(stimuli: dict[str, Path]) -> None:
    levels = {}
    for name in ("real", "generated", "imported"):
        levels[name] = integrated_loudness(decode_audio(stimuli[name], sample_rate=48_000), 48_000)
        assert levels[name] == pytest.approx(-23.0, abs=0.5), name
    assert max(levels.values()) - min(levels.values()) < 0.5


def test_fit_cuts_or_pads_to_the_exact_length() -> None:
    spec = StimulusSpec()
    rng = np.random.default_rng(1)
    short = fit_and_normalise(0.1 * rng.standard_normal(10_000), samples=16_000, spec=spec)
    assert short.shape == (16_000,)
    assert not short[10_000:].any()
    assert fit_and_normalise(0.1 * rng.standard_normal(30_000), samples=16_000, spec=spec).shape == (16_000,)
    silent = fit_and_normalise(np.zeros(100), samples=16_000, spec=spec)
    assert not silent.any()


def test_a_missing_video_is_named(tmp_path: Path) -> None:
    from generation.media import MediaError

    with pytest.raises(MediaError, match=r"nowhere\.mp4"):
        render_stimulus(tmp_path / "nowhere.mp4", None, tmp_path / "out.mp4")
