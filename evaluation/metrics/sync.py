"""Synchronisation: audio onsets against ground-truth event times (onset accuracy, AP and F1 within
±50 ms, as in CondFoleyGen, Du et al. 2023), or against visual motion peaks from optical flow where no
ground truth exists (AV-Align, Yariv et al. 2024)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
from scipy import signal

from evaluation.onsets import detect_onsets, match_onsets, onset_strength

TOLERANCE_S = 0.05


def onsets_with_strength(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    times = detect_onsets(audio, sample_rate)
    grid, strength = onset_strength(audio, sample_rate)
    return times, np.interp(times, grid, strength)


def average_precision(
    clips: list[tuple[np.ndarray, np.ndarray, np.ndarray]], tolerance: float = TOLERANCE_S
) -> float:
    """AP of onset detection pooled over clips: each clip is (detected times, their strengths,
    reference times). Detections are ranked by strength; a detection is a true positive when it is
    within ±tolerance of a reference onset of its clip not already taken by a stronger detection."""
    scored, total = [], 0
    for detected, strength, reference in clips:
        total += len(reference)
        free = list(np.sort(reference))
        for i in np.argsort(-strength, kind="stable"):
            hit = next((r for r in free if abs(r - detected[i]) <= tolerance), None)
            if hit is not None:
                free.remove(hit)
            scored.append((float(strength[i]), hit is not None))
    if total == 0:
        return float("nan")
    scored.sort(key=lambda s: -s[0])
    hits = np.cumsum([h for _, h in scored])
    precision = hits / np.arange(1, len(scored) + 1)
    is_hit = np.array([h for _, h in scored], dtype=bool)
    return float(precision[is_hit].sum() / total)


def onset_scores(
    detected: list[np.ndarray], references: list[np.ndarray], tolerance: float = TOLERANCE_S
) -> dict:
    """Onset accuracy (share of clips with as many detected onsets as reference ones) and pooled F1."""
    matches = [match_onsets(d, r, tolerance=tolerance) for d, r in zip(detected, references, strict=True)]
    matched = sum(m.matched for m in matches)
    n_detected, n_reference = sum(m.detected for m in matches), sum(m.reference for m in matches)
    precision = matched / n_detected if n_detected else float(n_reference == 0)
    recall = matched / n_reference if n_reference else float(n_detected == 0)
    return {
        "onset_acc": float(np.mean([m.detected == m.reference for m in matches]))
        if matches
        else float("nan"),
        "onset_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "onset_precision": precision,
        "onset_recall": recall,
    }


def native_fps(path: Path, *, default: float) -> float:
    """The video's own frame rate. Motion is measured at it: resampled to another rate, duplicated or
    dropped frames put dips and peaks in the motion curve that no movement made."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return float(fps) if 1.0 <= fps <= 240.0 else default


def motion_curve(frames: np.ndarray) -> np.ndarray:
    """Mean optical-flow magnitude between consecutive frames (Farnebäck), one value per frame."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    curve = [0.0]
    for previous, current in itertools.pairwise(grey):
        flow = cv2.calcOpticalFlowFarneback(previous, current, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        curve.append(float(np.linalg.norm(flow, axis=2).mean()))
    return np.asarray(curve)


def motion_peaks(frames: np.ndarray, fps: float) -> np.ndarray:
    """Times (s) of local maxima of the motion curve that stand out from its spread."""
    curve = motion_curve(frames)
    if curve.max() <= 0:
        return np.zeros(0)
    curve = curve / curve.max()
    peaks, _ = signal.find_peaks(curve, prominence=0.1)
    return peaks / fps


def av_align(audio_onsets: np.ndarray, video_peaks: np.ndarray, fps: float) -> float:
    """AV-Align (Yariv et al. 2024) with one-to-one matching: audio onsets and video motion peaks are
    paired within ±1 frame, each peak used once, and the score is 2·pairs / (audio + video peaks) — the
    F1 of the audio onsets against the motion peaks (1 = every peak has its own partner).

    The published form counts an audio peak as matched when *any* video peak is near it and vice
    versa, so a soundtrack with an onset every few frames (noise) matches every motion peak and
    outscores the recording; paired one to one, every extra onset counts against it."""
    total = len(audio_onsets) + len(video_peaks)
    if total == 0:
        return float("nan")
    pairs = match_onsets(audio_onsets, video_peaks, tolerance=1.0 / fps).matched
    return float(2 * pairs / total)
