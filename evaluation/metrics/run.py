"""`python -m evaluation metrics`: every objective metric, per system and category, from the real
clips (videos, with ground-truth event times where a sidecar knows them) and one folder of generated
soundtracks per system. A clip that cannot be read is reported and skipped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from evaluation.metrics import spectral, sync
from evaluation.metrics.classifier import Classifier, ClassifierConfig, train_classifier
from generation.media import MediaError, decode_audio, decode_frames
from generation.sources import ClipSource, discover, sidecar_onsets

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
MOTION_FPS = 15.0  # where a video does not say its frame rate
MOTION_SIZE = 112


@dataclass
class RealClip:
    source: ClipSource
    audio: np.ndarray
    onsets: list[float] | None  # ground-truth event times, when known
    motion_peaks: np.ndarray
    fps: float  # the video's own frame rate, at which its motion was measured


@dataclass
class MetricsResult:
    table: pd.DataFrame
    problems: list[str] = field(default_factory=list)


def _duration(source: ClipSource) -> float | None:
    return None if source.end is None else source.end - source.start


def load_real(folder: Path, *, progress: bool = True) -> tuple[list[RealClip], list[str]]:
    sources, rejected = discover(folder)
    problems = [f"{r.source}: {r.reason}" for r in rejected]
    clips = []
    for source in tqdm(sources, desc="real clips", disable=not progress):
        try:
            audio = decode_audio(
                source.path, sample_rate=SAMPLE_RATE, start=source.start, duration=_duration(source)
            )
            fps = sync.native_fps(source.path, default=MOTION_FPS)
            frames = decode_frames(
                source.path, fps=fps, size=MOTION_SIZE, start=source.start, duration=_duration(source)
            )
        except MediaError as error:
            problems.append(f"{source.label}: {error}; skipped")
            continue
        onsets = sidecar_onsets(source.path, source.start, len(audio) / SAMPLE_RATE)
        clips.append(RealClip(source, audio, onsets, sync.motion_peaks(frames, fps), fps))
    return clips, problems


def find_generated(folder: Path, clip: ClipSource) -> Path | None:
    """`<dir>/<category>/<clip_id>.wav` (generation sample's layout) or `<dir>/<clip_id>.wav`; or .flac
    (`generation sample --audio-format flac`, the demo's shipped soundtracks)."""
    for suffix in (".wav", ".flac"):
        for candidate in (
            folder / clip.category / f"{clip.clip_id}{suffix}",
            folder / f"{clip.clip_id}{suffix}",
        ):
            if candidate.is_file():
                return candidate
    return None


def classifier_for(
    path: Path | None, train: Path | None, *, config: ClassifierConfig | None = None, progress: bool = True
) -> tuple[Classifier | None, list[str]]:
    """The classifier at `path`; trained on the real clips of `train` (and saved to `path`) when absent."""
    if path is not None and path.is_file():
        return Classifier.load(path), []
    if train is None:
        return None, ["no --classifier and no --train clips: Fréchet distance and category accuracy skipped"]
    clips, problems = load_real(train, progress=progress)
    payload = train_classifier([(c.audio, c.source.category) for c in clips], config, progress=progress)
    if path is not None:
        Classifier.save(path, payload)
        log.info("audio classifier trained on %d clips, saved to %s", len(clips), path)
    return Classifier(payload), problems


def _clip_scores(real: RealClip, audio: np.ndarray, classifier: Classifier | None) -> dict:
    audio = audio[: len(real.audio)]
    onsets, strength = sync.onsets_with_strength(audio, SAMPLE_RATE)
    row = {
        "category": real.source.category,
        "clip": real.source.clip_id,
        "onsets": onsets,
        "strength": strength,
        "reference": None if real.onsets is None else np.asarray(real.onsets),
        "av_align": sync.av_align(onsets, real.motion_peaks, real.fps),
        "log_mel_distance": spectral.log_mel_distance(audio, real.audio, SAMPLE_RATE),
    }
    if classifier is not None:
        row["embedding"], predicted = classifier(audio)
        row["correct_category"] = predicted == real.source.category
    return row


def _summarise(system: str, category: str, rows: list[dict], real_embeddings: np.ndarray | None) -> dict:
    known = [r for r in rows if r["reference"] is not None]
    summary = {"system": system, "category": category, "clips": len(rows)}
    if known:
        scores = sync.onset_scores([r["onsets"] for r in known], [r["reference"] for r in known])
        summary["onset_acc"] = scores["onset_acc"]
        summary["onset_ap"] = sync.average_precision(
            [(r["onsets"], r["strength"], r["reference"]) for r in known]
        )
        summary["onset_f1"] = scores["onset_f1"]
        # Both halves of F1: a noise generator with an onset every 0.2 s matches most events by chance
        # (high recall) and shows itself only in its precision.
        summary["onset_precision"] = scores["onset_precision"]
        summary["onset_recall"] = scores["onset_recall"]
    summary["av_align"] = float(np.nanmean([r["av_align"] for r in rows]))
    summary["log_mel_distance"] = float(np.mean([r["log_mel_distance"] for r in rows]))
    if rows and "embedding" in rows[0]:
        embeddings = np.stack([r["embedding"] for r in rows])
        summary["frechet_distance"] = (
            spectral.frechet_distance(embeddings, real_embeddings)
            if real_embeddings is not None
            else float("nan")
        )
        summary["category_accuracy"] = float(np.mean([r["correct_category"] for r in rows]))
    return summary


def compute_metrics(
    real: Path,
    generated: dict[str, Path],
    *,
    classifier: Path | None = None,
    train: Path | None = None,
    classifier_config: ClassifierConfig | None = None,
    progress: bool = True,
) -> MetricsResult:
    clips, problems = load_real(real, progress=progress)
    if not clips:
        raise ValueError(
            f"--real {real}: no readable clips (expected <category>/<clip>.mp4 or a CSV manifest)"
        )
    model, more = classifier_for(classifier, train, config=classifier_config, progress=progress)
    problems += more
    per_system: dict[str, list[dict]] = {"real": [_clip_scores(c, c.audio, model) for c in clips]}
    for system, folder in generated.items():
        rows = []
        for clip in tqdm(clips, desc=system, disable=not progress):
            path = find_generated(folder, clip.source)
            if path is None:
                problems.append(
                    f"{system}: no soundtrack for {clip.source.category}/{clip.source.clip_id} in {folder}"
                )
                continue
            try:
                audio = decode_audio(path, sample_rate=SAMPLE_RATE)
            except MediaError as error:
                problems.append(f"{system}: {error}; skipped")
                continue
            rows.append(_clip_scores(clip, audio, model))
        per_system[system] = rows
    table = []
    for category in ["all", *sorted({c.source.category for c in clips})]:

        def pick(rows: list[dict], category: str = category) -> list[dict]:
            return [r for r in rows if category in ("all", r["category"])]

        real_rows = pick(per_system["real"])
        real_embeddings = np.stack([r["embedding"] for r in real_rows]) if model is not None else None
        for system, rows in per_system.items():
            if pick(rows):
                table.append(_summarise(system, category, pick(rows), real_embeddings))
    return MetricsResult(pd.DataFrame(table), problems)
