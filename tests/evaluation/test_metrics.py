"""Objective metrics: each part on constructed inputs with known answers, then the whole command on
the demo dataset's videos against a soundtrack known to be late."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from evaluation.__main__ import main as evaluation_main
from evaluation.metrics import spectral, sync
from evaluation.metrics.classifier import Classifier, ClassifierConfig, train_classifier
from evaluation.metrics.nll import nll_of_test_audio
from evaluation.metrics.run import SAMPLE_RATE, load_real
from generation.media import decode_audio

RATE = 16_000


def test_mel_filters_peak_at_their_centre_frequencies() -> None:
    bank = spectral.mel_filterbank(RATE, 1024, 40)
    assert bank.shape == (40, 513) and bank.max() == pytest.approx(1.0, abs=0.05)
    tone = np.sin(2 * np.pi * 1000 * np.arange(RATE) / RATE)
    mel = spectral.log_mel(tone, RATE, n_mels=40)
    centre_hz = 700 * (10 ** (np.linspace(0, 2595 * np.log10(1 + 8000 / 700), 42)[1:-1] / 2595) - 1)
    assert abs(centre_hz[mel.mean(axis=1).argmax()] - 1000) < 120
    assert spectral.log_mel_distance(tone, tone, RATE) == 0.0
    noise = np.random.default_rng(0).standard_normal(RATE)  # energy in every band, far above the floor
    assert spectral.log_mel_distance(noise, 0.5 * noise, RATE) == pytest.approx(2 * np.log(2), abs=0.01)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal([0, 0, 0], [1, 2, 3], size=(200_000, 3))
    b = rng.normal([1, 0, -1], [2, 2, 1], size=(200_000, 3))
    # Diagonal covariances: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2 = 2 + (1 + 0 + 4) = 7.
    assert spectral.frechet_distance(a, b) == pytest.approx(7.0, rel=0.02)
    assert spectral.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_average_precision_hand_worked() -> None:
    # Detections by strength: 0.9 hit, 0.8 miss, 0.7 hit; 3 references -> AP = (1/1 + 2/3) / 3.
    clips = [(np.array([1.0, 2.0, 3.0]), np.array([0.9, 0.8, 0.7]), np.array([1.01, 3.04, 5.0]))]
    assert sync.average_precision(clips) == pytest.approx((1 + 2 / 3) / 3)
    scores = sync.onset_scores([np.array([1.0, 2.0, 3.0])], [np.array([1.01, 3.04, 5.0])])
    assert scores["onset_f1"] == pytest.approx(2 / 3) and scores["onset_acc"] == 1.0


def test_av_align_counts_peaks_with_a_partner_within_a_frame() -> None:
    audio, video = np.array([0.5, 1.0, 2.0]), np.array([0.52, 1.5])
    # One pair (0.5, 0.52) within a frame (1/15 s); 1.0, 2.0 and 1.5 have none -> 2 × 1 / 5.
    assert sync.av_align(audio, video, 15.0) == pytest.approx(2 / 5)


def test_av_align_pairs_peaks_one_to_one_so_dense_onsets_do_not_pay() -> None:
    video = np.array([1.0, 2.0, 3.0])
    noise_like = np.arange(0.05, 4.0, 0.1)  # an onset every 100 ms: some onset is near every peak
    assert sync.av_align(video + 0.01, video, 15.0) == pytest.approx(1.0)
    assert sync.av_align(noise_like, video, 15.0) == pytest.approx(2 * 3 / (len(noise_like) + 3))
    assert sync.av_align(noise_like, video, 15.0) < sync.av_align(video[:1], video, 15.0)  # 1 right of 3
    assert np.isnan(sync.av_align(np.zeros(0), np.zeros(0), 15.0))


def test_motion_peaks_find_when_something_moves() -> None:
    frames = np.zeros((30, 64, 64, 3), dtype=np.uint8)
    x = 10
    for i in range(30):
        if i in (10, 20):
            x += 12  # the square jumps at frames 10 and 20
        frames[i, 20:36, x : x + 16] = 255
    peaks = sync.motion_peaks(frames, fps=15.0)
    assert np.round(peaks * 15).astype(int).tolist() == [10, 20]


def test_classifier_learns_categories_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(2 * RATE) / RATE
    clips = [(np.sin(2 * np.pi * rng.uniform(300, 600) * t) * 0.3, "tone") for _ in range(8)]
    clips += [(0.3 * rng.standard_normal(t.size), "noise") for _ in range(8)]
    payload = train_classifier(clips, ClassifierConfig(steps=60, batch_size=8), progress=False)
    Classifier.save(tmp_path / "classifier.pt", payload)
    model = Classifier.load(tmp_path / "classifier.pt")
    embedding, category = model(np.sin(2 * np.pi * 450 * t) * 0.3)
    assert category == "tone" and embedding.shape == (64,)
    assert model(0.3 * rng.standard_normal(t.size))[1] == "noise"
    with pytest.raises(ValueError, match="two categories"):
        train_classifier(clips[:3], progress=False)


def test_metrics_command_ranks_a_late_soundtrack_below_the_real_one(
    demo_videos: Path, tmp_path: Path
) -> None:
    late = tmp_path / "late"
    for video in sorted(demo_videos.glob("*/*.mp4")):
        audio = decode_audio(video, sample_rate=RATE)
        (late / video.parent.name).mkdir(parents=True, exist_ok=True)
        suffix = ".flac" if video.parent.name == "fireworks" else ".wav"  # both are found
        soundfile.write(late / video.parent.name / f"{video.stem}{suffix}", np.roll(audio, RATE // 4), RATE)
    (late / "drum" / "drum_0000.wav").write_bytes(b"not audio")  # reported and skipped
    out = tmp_path / "metrics.csv"
    code = evaluation_main(
        ["metrics", "--real", str(demo_videos), "--generated", f"late={late}", "--train", str(demo_videos),
         "--classifier", str(tmp_path / "classifier.pt"), "--classifier-steps", "40", "--out", str(out)]
    )  # fmt: skip
    assert code == 0 and (tmp_path / "classifier.pt").is_file()
    import pandas as pd

    table = pd.read_csv(out).set_index(["system", "category"])
    real, shifted = table.loc[("real", "all")], table.loc[("late", "all")]
    assert shifted["clips"] == real["clips"] - 1
    assert real["onset_f1"] > shifted["onset_f1"] + 0.3, (real, shifted)
    assert real["onset_ap"] > shifted["onset_ap"] + 0.3
    assert real["log_mel_distance"] == 0.0 < shifted["log_mel_distance"]
    assert {"onset_acc", "onset_ap", "av_align", "frechet_distance", "category_accuracy"} <= set(
        table.columns
    )


def test_nll_of_the_test_audio_under_each_trained_model(prepared: Path, tmp_path: Path) -> None:
    from generation.config import UNCONDITIONAL, preset
    from generation.prepared import PreparedData
    from generation.train import TrainConfig, model_config_for, train

    data = PreparedData(prepared)
    config = TrainConfig(category="drum", steps=3, batch_size=2, val_every=3)
    train(prepared, tmp_path, model_config_for(data, preset("tiny"), UNCONDITIONAL), config, progress=False)
    rows = nll_of_test_audio(tmp_path, prepared)
    assert [(r["category"], r["model"]) for r in rows] == [("drum", "unconditional")]
    assert 0 < rows[0]["nll_bits_per_sample"] < 9 and rows[0]["clips"] == len(
        data.clips(split="test", category="drum")
    )
    # The exported checkpoints (<category>/<model>.pt, as demo/checkpoints ships them) score the same.
    from generation.export import export_runs

    export_runs(tmp_path, prepared, tmp_path / "exported", progress=False)
    (exported,) = nll_of_test_audio(tmp_path / "exported", prepared)
    assert (exported["category"], exported["model"]) == ("drum", "unconditional")
    assert exported["checkpoint_step"] == 3
    assert exported["nll_bits_per_sample"] == pytest.approx(rows[0]["nll_bits_per_sample"], abs=0.01)


@pytest.mark.parametrize("category", ["drum", "fireworks"])
def test_av_align_ranks_the_real_soundtrack_first_on_demo_clips(demo_videos: Path, category: str) -> None:
    """On the demo clips of a category with visible events the real soundtrack scores above the same
    soundtrack 0.5 s late, above another clip's soundtrack, and above noise (which once outscored the
    recording: unpaired peak matching let an onset every few frames match every motion peak)."""
    real = [c for c in load_real(demo_videos, progress=False)[0] if c.source.category == category]
    assert len(real) >= 3
    rng = np.random.default_rng(0)

    def score(audio: np.ndarray, clip) -> float:
        onsets = sync.onsets_with_strength(audio[: len(clip.audio)], SAMPLE_RATE)[0]
        return sync.av_align(onsets, clip.motion_peaks, clip.fps)

    late = int(0.5 * SAMPLE_RATE)
    means = {
        "real": np.mean([score(c.audio, c) for c in real]),
        "late": np.mean([score(np.concatenate([np.zeros(late), c.audio]), c) for c in real]),
        "other clip": np.mean([score(real[(i + 1) % len(real)].audio, c) for i, c in enumerate(real)]),
        "noise": np.mean([score(rng.normal(0, 0.1, len(c.audio)), c) for c in real]),
    }
    assert means["real"] > max(means["late"], means["other clip"]) > means["noise"], means
    assert means["real"] >= 1.5 * max(means["late"], means["other clip"]), means
