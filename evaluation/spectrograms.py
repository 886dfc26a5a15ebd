"""`python -m evaluation spectrograms`: a figure of log-mel spectrograms, one row per category (its
first clip, or those named), the real soundtrack then each system's, with the ground-truth event times
(where a sidecar knows them) marked on every panel — how a reader sees at a glance whether a model's
sound follows the video."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt
import numpy as np
import soundfile

from evaluation.metrics.run import SAMPLE_RATE, find_generated
from evaluation.metrics.spectral import log_mel
from generation.media import decode_audio
from generation.sources import ClipSource, discover, sidecar_onsets


def _pick(sources: list[ClipSource], clip_ids: list[str] | None) -> list[ClipSource]:
    if clip_ids:
        chosen = [s for s in sources if s.clip_id in clip_ids]
        missing = sorted(set(clip_ids) - {s.clip_id for s in chosen})
        if missing:
            raise ValueError(f"--clip {', '.join(missing)}: not among the real clips")
        return chosen
    first: dict[str, ClipSource] = {}
    for source in sorted(sources, key=lambda s: (s.category, s.clip_id)):
        first.setdefault(source.category, source)
    return list(first.values())


def spectrogram_figure(
    real: Path, generated: dict[str, Path], out: Path, *, clip_ids: list[str] | None = None
) -> list[str]:
    """Writes the figure to ``out``; returns the clips shown, as category/clip_id."""
    sources, _ = discover(real)
    clips = _pick(sources, clip_ids)
    if not clips:
        raise ValueError(f"{real}: no clips to show")
    columns = ["real", *generated]
    figure, axes = plt.subplots(
        len(clips), len(columns), figsize=(2.6 * len(columns), 2.0 * len(clips)), squeeze=False
    )
    for row, clip in enumerate(clips):
        duration = None if clip.end is None else clip.end - clip.start
        audio = decode_audio(clip.path, sample_rate=SAMPLE_RATE, start=clip.start, duration=duration)
        onsets = sidecar_onsets(clip.path, clip.start, len(audio) / SAMPLE_RATE) or []
        for column, name in enumerate(columns):
            axis = axes[row][column]
            if name != "real":
                path = find_generated(generated[name], clip)
                if path is None:
                    axis.set_axis_off()
                    axis.set_title(f"{name}: missing", fontsize=8)
                    continue
                audio, rate = soundfile.read(path, dtype="float32")
                if rate != SAMPLE_RATE:
                    raise ValueError(f"{path}: {rate} Hz, expected {SAMPLE_RATE}")
            mel = log_mel(np.asarray(audio, dtype=np.float32), SAMPLE_RATE)
            seconds = len(audio) / SAMPLE_RATE
            axis.imshow(
                mel, origin="lower", aspect="auto", extent=(0, seconds, 0, mel.shape[0]), cmap="magma"
            )
            for onset in onsets:
                axis.axvline(onset, color="cyan", linewidth=0.6, alpha=0.8)
            axis.set_yticks([])
            axis.tick_params(labelsize=6)
            axis.set_title(f"{clip.category}/{clip.clip_id}: {name}" if column == 0 else name, fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return [f"{c.category}/{c.clip_id}" for c in clips]
