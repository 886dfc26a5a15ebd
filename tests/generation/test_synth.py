"""The demo dataset: real mp4s whose sounds happen exactly when their visible causes do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation.onsets import detect_onsets, match_onsets
from generation.media import decode_audio, decode_frames
from generation.synth.__main__ import main as synth_main
from generation.synth.dataset import CATEGORIES, SynthConfig, build_dataset

SR = 16_000
FPS = 15.625
FRAME = 1 / FPS
CLIPS = 3
# Onsets are found at this strength and above; fireworks also crackle, so only bangs count there.
ONSET_THRESHOLD = {"drum": 0.12, "helicopter": 0.12, "fireworks": 0.35}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    report = build_dataset(SynthConfig(clips_per_category=CLIPS), out, jobs=2, progress=False)
    assert not report.failed
    return out


def clips(dataset: Path, category: str | None = None) -> list[tuple[Path, dict]]:
    pattern = f"{category}/*.json" if category else "*/*.json"
    return [(p.with_suffix(".mp4"), json.loads(p.read_text())) for p in sorted(dataset.glob(pattern))]


def test_layout_and_sidecars(dataset: Path) -> None:
    assert sorted(p.name for p in dataset.iterdir() if p.is_dir()) == sorted(CATEGORIES)
    everything = clips(dataset)
    assert len(everything) == CLIPS * len(CATEGORIES)
    for video, meta in everything:
        assert video.exists() and video.parent.name == meta["category"]
        assert meta["clip_id"] == video.stem
        assert meta["events"], f"{video.name} has no events"
        assert all(0 < e["time"] < meta["duration"] for e in meta["events"])
        if meta["category"] == "chainsaw":
            assert len(meta["intensity"]) == meta["num_frames"]
        else:
            assert meta["intensity"] is None
    assert not list(dataset.rglob(".*tmp*")), "temporary files left behind"


def test_clips_decode_to_requested_duration_fps_and_rate(dataset: Path) -> None:
    for video, meta in clips(dataset):
        audio = decode_audio(video, sample_rate=SR)
        assert audio.shape == (64_000,) == (round(meta["duration"] * SR),), video.name
        assert np.abs(audio).max() <= 1.0
        frames = decode_frames(video, fps=FPS, size=224)
        assert frames.shape == (63, 224, 224, 3), video.name  # ceil(4 s × 15.625 fps)
        assert meta["num_frames"] == 63


def test_other_sizes_and_rates(tmp_path: Path) -> None:
    config = SynthConfig(
        clips_per_category=1,
        duration=2.5,
        width=160,
        height=128,
        fps=10.0,
        sample_rate=22_050,
        categories=("drum", "chainsaw"),
    )
    assert not build_dataset(config, tmp_path, jobs=1, progress=False).failed
    for video in tmp_path.glob("*/*.mp4"):
        assert decode_audio(video, sample_rate=22_050).shape == (55_125,)
        assert decode_frames(video, fps=10.0, size=128).shape == (25, 128, 128, 3)
        capture = cv2.VideoCapture(str(video))
        size = capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        capture.release()
        assert size == (160, 128)


@pytest.mark.parametrize("category", ["drum", "fireworks", "helicopter"])
def test_events_coincide_with_audio_onsets(dataset: Path, category: str) -> None:
    for video, meta in clips(dataset, category):
        audio = decode_audio(video, sample_rate=SR)
        detected = detect_onsets(audio, SR, threshold=ONSET_THRESHOLD[category])
        truth = np.array([e["time"] for e in meta["events"]])
        match = match_onsets(detected, truth, tolerance=FRAME)
        assert match.recall == 1.0, (video.name, detected, truth)
        assert match.precision >= 0.9, (video.name, detected, truth)


def visual_onsets(signal: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    """Times of the frames where ``signal`` jumps up by at least ``fraction`` of its largest jump."""
    rise = np.diff(signal, prepend=signal[0])
    return np.nonzero(rise > fraction * rise.max())[0] / FPS


def region_brightness(frames: np.ndarray, centre: tuple[int, int], half: tuple[int, int]) -> np.ndarray:
    (x, y), (hx, hy) = centre, half
    return frames[:, y - hy : y + hy, x - hx : x + hx].astype(float).mean(axis=(1, 2, 3))


def test_drum_strikes_are_seen_when_heard(dataset: Path) -> None:
    for video, meta in clips(dataset, "drum"):
        frames = decode_frames(video, fps=FPS, size=224)
        radius = meta["scene"]["drum_radius"]
        head = region_brightness(frames, meta["scene"]["drum_centre"], (int(0.6 * radius), 4))
        truth = np.array([e["time"] for e in meta["events"]])
        # A strike lights the head in the first frame at or after it: up to one frame later.
        match = match_onsets(visual_onsets(head) - FRAME / 2, truth, tolerance=FRAME / 2 + 1e-6)
        assert match.recall >= 0.8 and match.precision >= 0.8, (video.name, visual_onsets(head), truth)


def test_fireworks_bursts_are_seen_when_heard(dataset: Path) -> None:
    for video, meta in clips(dataset, "fireworks"):
        sky = decode_frames(video, fps=FPS, size=224).astype(float).mean(axis=(1, 2, 3))
        truth = np.array([e["time"] for e in meta["events"]])
        match = match_onsets(visual_onsets(sky) - FRAME / 2, truth, tolerance=FRAME / 2 + 1e-6)
        assert match.recall == 1.0 and match.precision == 1.0, (video.name, visual_onsets(sky), truth)


def rotor_pass_phase(frames: np.ndarray, scene: dict) -> np.ndarray:
    """Per frame, the rotor's phase in blade passes, read off the pixels: the darkest direction on a
    ring around the hub, folded by the blade symmetry and unwrapped over time."""
    (hx, hy), radius, tilt, blades = (
        scene["rotor_hub"],
        scene["rotor_radius"],
        scene["rotor_tilt"],
        scene["blades"],
    )
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    ring = 0.75 * radius
    xs = np.round(hx + ring * np.cos(angles)).astype(int)
    ys = np.round(hy + tilt * ring * np.sin(angles)).astype(int)
    gray = frames.astype(float).mean(axis=3)
    darkness = -gray[:, ys, xs]  # (frames, angles)
    darkness -= darkness.mean(axis=0)  # what does not move (mast, body, sky) is not the rotor
    # The rotor is 2π/blades-periodic: its angle is the phase of that circular harmonic of the ring.
    harmonic = darkness @ np.exp(1j * blades * angles)
    phase = np.unwrap(np.angle(harmonic) - blades * scene["reference_angle"]) / (2 * np.pi)
    return phase


def test_helicopter_thumps_follow_the_visible_rotor(dataset: Path) -> None:
    for video, meta in clips(dataset, "helicopter"):
        frames = decode_frames(video, fps=FPS, size=224)
        phase = rotor_pass_phase(frames, meta["scene"])
        times = np.arange(phase.size) / FPS
        # A blade lies along the tail boom whenever the visible phase crosses an integer.
        crossings = []
        for k in range(int(np.ceil(phase.min())), int(np.floor(phase.max())) + 1):
            index = np.searchsorted(phase, k)
            if 0 < index < phase.size:
                fraction = (k - phase[index - 1]) / (phase[index] - phase[index - 1])
                crossings.append(times[index - 1] + fraction * FRAME)
        truth = np.array([e["time"] for e in meta["events"]])
        inside = truth[(truth > times[1]) & (truth < times[-2])]
        match = match_onsets(np.array(crossings), inside, tolerance=FRAME)
        assert match.recall >= 0.95 and match.precision >= 0.9, (video.name, crossings, inside)


def test_chainsaw_sound_and_motion_follow_the_intensity_curve(dataset: Path) -> None:
    for video, meta in clips(dataset, "chainsaw"):
        intensity = np.array(meta["intensity"])
        audio = decode_audio(video, sample_rate=SR)
        frame_len = int(SR / FPS)
        starts = (np.arange(intensity.size) * frame_len).clip(max=audio.size - frame_len)
        loudness = np.array([np.sqrt(np.mean(audio[s : s + frame_len] ** 2)) for s in starts])
        assert np.corrcoef(loudness, intensity)[0, 1] > 0.9, video.name
        frames = decode_frames(video, fps=FPS, size=224).astype(float)
        motion = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
        assert np.corrcoef(motion, intensity[1:])[0, 1] > 0.6, video.name


def test_no_two_clips_alike(dataset: Path) -> None:
    audio_hashes = {
        hashlib.sha256(decode_audio(v, sample_rate=SR).tobytes()).hexdigest() for v, _ in clips(dataset)
    }
    assert len(audio_hashes) == CLIPS * len(CATEGORIES)
    event_times = {tuple(e["time"] for e in meta["events"]) for _, meta in clips(dataset)}
    assert len(event_times) == CLIPS * len(CATEGORIES)


def test_same_seed_same_bytes_other_seed_other_clips(tmp_path: Path) -> None:
    one = SynthConfig(clips_per_category=1, duration=2.0)
    build_dataset(one, tmp_path / "a", jobs=1, progress=False)
    build_dataset(one, tmp_path / "b", jobs=2, progress=False)
    build_dataset(
        SynthConfig(clips_per_category=1, duration=2.0, seed=1), tmp_path / "c", jobs=1, progress=False
    )
    for video in (tmp_path / "a").glob("*/*.mp4"):
        twin = tmp_path / "b" / video.relative_to(tmp_path / "a")
        assert video.read_bytes() == twin.read_bytes(), video.name
        assert decode_audio(video, sample_rate=SR).tobytes() == decode_audio(twin, sample_rate=SR).tobytes()
        assert np.array_equal(decode_frames(video, fps=FPS, size=224), decode_frames(twin, fps=FPS, size=224))
        other = tmp_path / "c" / video.relative_to(tmp_path / "a")
        assert video.read_bytes() != other.read_bytes()


def test_resume_builds_only_what_is_missing(tmp_path: Path) -> None:
    config = SynthConfig(clips_per_category=2, duration=1.5, categories=("drum", "fireworks"))
    first = build_dataset(config, tmp_path, jobs=1, progress=False)
    assert len(first.built) == 4
    (tmp_path / "drum" / "drum_0001.json").unlink()  # as if killed between the mp4 and its sidecar
    before = (tmp_path / "fireworks" / "fireworks_0000.mp4").stat().st_mtime_ns
    second = build_dataset(config, tmp_path, jobs=1, progress=False)
    assert second.built == ["drum_0001"]
    assert sorted(second.reused) == ["drum_0000", "fireworks_0000", "fireworks_0001"]
    assert (tmp_path / "fireworks" / "fireworks_0000.mp4").stat().st_mtime_ns == before


def test_a_subset_of_clips_is_the_full_builds_clips(tmp_path: Path) -> None:
    # What `make demo` builds when it uses the shipped soundtracks: their clips, nothing more.
    config = SynthConfig(clips_per_category=3, duration=1.0, width=64, height=64, categories=("drum",))
    subset = build_dataset(config, tmp_path / "subset", only={"drum_0002"}, jobs=1, progress=False)
    assert subset.built == ["drum_0002"] and not (tmp_path / "subset" / "drum" / "drum_0000.mp4").exists()
    full = build_dataset(config, tmp_path / "subset", jobs=1, progress=False)
    assert sorted(full.built) == ["drum_0000", "drum_0001"] and full.reused == ["drum_0002"]
    elsewhere = build_dataset(config, tmp_path / "full", only={"drum_0002"}, jobs=1, progress=False)
    assert not elsewhere.failed
    sidecar = (tmp_path / "full" / "drum" / "drum_0002.json").read_text()
    assert (tmp_path / "subset" / "drum" / "drum_0002.json").read_text() == sidecar
    with pytest.raises(ValueError, match="no clips"):
        build_dataset(config, tmp_path / "full", only={"drum_0003"}, progress=False)


def test_resume_refuses_a_folder_built_with_other_options(tmp_path: Path) -> None:
    build_dataset(
        SynthConfig(clips_per_category=1, duration=1.5, categories=("drum",)), tmp_path, progress=False
    )
    with pytest.raises(ValueError, match="built with other options"):
        build_dataset(
            SynthConfig(clips_per_category=1, duration=2.0, categories=("drum",)), tmp_path, progress=False
        )


def test_cli_builds_and_reports(tmp_path: Path, capsys) -> None:
    out = tmp_path / "videos"
    assert (
        synth_main(
            [
                "--out",
                str(out),
                "--clips",
                "1",
                "--duration",
                "1.5",
                "--categories",
                "helicopter",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    assert "1 clips built" in capsys.readouterr().out
    assert (out / "helicopter" / "helicopter_0000.mp4").exists()
    assert (
        synth_main(["--out", str(out), "--clips", "1", "--duration", "1.5", "--categories", "helicopter"])
        == 0
    )
    assert "0 clips built, 1 already there" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--categories", "dog"], "unknown categories ['dog']"),
        (["--size", "big"], "--size 'big': expected WIDTHxHEIGHT"),
        (["--size", "223x224"], "frame size must be even"),
        (["--duration", "0.5"], "duration must be at least 1 second"),
    ],
)
def test_cli_rejects_bad_options(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit):
        synth_main(["--out", str(tmp_path), *args])
    assert message in capsys.readouterr().err
