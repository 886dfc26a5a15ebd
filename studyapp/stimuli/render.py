"""The participant-facing stimulus: a video with a soundtrack, encoded identically whatever the source.

Real, generated-here and imported soundtracks all go through the same steps, so nothing in the file
tells them apart: the audio is decoded, band-limited to `audio_rate` (the generators' 16 kHz: real audio
must not give itself away by its bandwidth), fitted to exactly the video's duration, normalised to
`target_lufs` (EBU R128) with peaks kept under `peak_ceiling`, and encoded as strictly
constant-bitrate MP3, so every soundtrack of a clip gives the same audio packet sizes and the same
file size; the video is re-encoded with fixed, bit-exact settings (the same bytes for every stimulus of
a clip), and every metadata tag (titles, encoder, creation times) is dropped.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np
from scipy.signal import resample_poly

from generation.atomic import atomic_path
from generation.media import MediaError, decode_audio, ffmpeg_executable, run_ffmpeg
from studyapp.stimuli.loudness import integrated_loudness


@dataclass(frozen=True)
class StimulusSpec:
    audio_rate: int = 16_000  # the content's bandwidth: every soundtrack is resampled to this first
    output_rate: int = 48_000  # what the file carries: the rate every browser plays natively
    channels: int = 2
    # Strictly constant-bitrate MP3 (in MP4, which Chrome, Firefox and Safari on macOS and iOS play):
    # every frame is 144 · bitrate / rate = 768 bytes, so every soundtrack of a clip gives the same
    # packet sizes and the same file size. AAC's packets follow how compressible the sound is, and
    # "pick the smaller file" found the real soundtrack in 81 % of the demo's pairs. 256 kb/s, not
    # 128: at 128 kb/s LAME's quantisation lowers the level by about 0.45 dB (measured on a sine and a
    # demo drum clip), at 256 kb/s by 0.1, as AAC did.
    audio_codec: str = "libmp3lame"
    audio_bitrate_kbps: int = 256
    target_lufs: float = -23.0  # EBU R128
    peak_ceiling: float = 0.89  # about -1 dBFS, under the limit the codec's overshoot needs
    video_crf: int = 20
    video_preset: str = "veryfast"

    def __post_init__(self) -> None:
        # MPEG-1 Layer III frames are 144 · bitrate / rate bytes, plus a padding byte on some frames
        # when that is not whole: padding would again depend on nothing but the frame index, but keep
        # every frame the same by choosing rates where it is whole.
        if (144 * self.audio_bitrate_kbps * 1000) % self.output_rate:
            raise ValueError(
                f"{self.audio_bitrate_kbps} kb/s at {self.output_rate} Hz gives MP3 frames of a fractional "
                "size; choose a bitrate where 144 · bitrate / rate is whole (e.g. 256 kb/s at 48 kHz)"
            )

    @property
    def audio_frame_bytes(self) -> int:
        return 144 * self.audio_bitrate_kbps * 1000 // self.output_rate


def video_duration(path: Path | str) -> Fraction:
    """The video stream's exact duration, from its packets' timestamps (no decoding)."""
    path = Path(path)
    result = subprocess.run(
        [
            ffmpeg_executable(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-f",
            "framemd5",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["ffmpeg gave no reason"])[-1]
        raise MediaError(f"{path}: {reason}")
    base = re.search(r"^#tb 0: (\d+)/(\d+)", result.stdout, re.MULTILINE)
    packets = [line.split(",") for line in result.stdout.splitlines() if line and not line.startswith("#")]
    if base is None or not packets:
        raise MediaError(f"{path}: no video stream")
    timebase = Fraction(int(base.group(1)), int(base.group(2)))
    end = max(int(p[2]) + int(p[3]) for p in packets)  # pts + duration
    start = min(int(p[2]) for p in packets)
    return (end - start) * timebase


def fit_and_normalise(audio: np.ndarray, *, samples: int, spec: StimulusSpec) -> np.ndarray:
    """Exactly ``samples`` long (cut, or padded with silence) at ``spec.target_lufs``."""
    audio = np.asarray(audio, dtype=np.float64)[:samples]
    audio = np.pad(audio, (0, samples - audio.size))
    loudness = integrated_loudness(audio, spec.audio_rate)
    if not math.isfinite(loudness):
        return audio.astype(np.float32)  # silence stays silence
    audio = audio * 10 ** ((spec.target_lufs - loudness) / 20)
    peak = np.abs(audio).max()
    if peak > spec.peak_ceiling:
        # A soft limiter on the few loud peaks, then one more gain step to land on the target again.
        audio = spec.peak_ceiling * np.tanh(audio / spec.peak_ceiling)
        audio = audio * 10 ** ((spec.target_lufs - integrated_loudness(audio, spec.audio_rate)) / 20)
        audio = np.clip(audio, -1.0, 1.0)
    return audio.astype(np.float32)


def render_stimulus(
    video: Path | str,
    soundtrack: Path | str | np.ndarray | None,
    out: Path | str,
    *,
    spec: StimulusSpec | None = None,
    soundtrack_rate: int | None = None,
    start: float = 0.0,
    duration: float | None = None,
) -> Path:
    """Write ``out`` (mp4): ``video``'s pictures from ``start`` for ``duration`` seconds (default: to
    its end) with ``soundtrack`` — a media file, an array at ``soundtrack_rate``, or None for the
    video's own sound over the same span. Returns ``out``."""
    spec = spec or StimulusSpec()
    video, out = Path(video), Path(out)
    span = video_duration(video) - Fraction(start)
    if duration is not None:
        span = min(span, Fraction(duration))
    if span <= 0:
        raise MediaError(f"{video}: nothing to show from {start:g} s")
    samples = round(span * spec.audio_rate)
    if soundtrack is None:
        audio = decode_audio(video, sample_rate=spec.audio_rate, start=start, duration=float(span))
    elif isinstance(soundtrack, np.ndarray):
        if soundtrack_rate is None:
            raise ValueError("an array soundtrack needs its soundtrack_rate")
        audio = _resample(soundtrack, soundtrack_rate, spec.audio_rate)
    else:
        audio = decode_audio(soundtrack, sample_rate=spec.audio_rate)
    audio = fit_and_normalise(audio, samples=samples, spec=spec)

    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_name(f".{out.name}.f32")
    raw.write_bytes(audio.tobytes())
    try:
        with atomic_path(out, suffix=".mp4") as temporary:
            pictures = ffmpeg.input(str(video), ss=start, t=float(span)).video
            sound = ffmpeg.input(str(raw), format="f32le", ar=spec.audio_rate, ac=1).audio
            sound = sound.filter("aresample", spec.output_rate, resampler="soxr")
            stream = ffmpeg.output(
                pictures,
                sound,
                str(temporary),
                format="mp4",
                vcodec="libx264",
                pix_fmt="yuv420p",
                crf=spec.video_crf,
                preset=spec.video_preset,
                acodec=spec.audio_codec,
                audio_bitrate=f"{spec.audio_bitrate_kbps}k",
                ar=spec.output_rate,
                ac=spec.channels,
                t=float(span),
                movflags="+faststart",
                map_metadata=-1,
                map_chapters=-1,
                fflags="+bitexact",
                # The mp4 boxes' fixed handler names and language stay: every stimulus carries the same ones.
                **{"flags:v": "+bitexact", "flags:a": "+bitexact", "metadata:s:v:0": "encoder="},
            ).overwrite_output()
            run_ffmpeg(stream, out)
    finally:
        raw.unlink(missing_ok=True)
    return out


def _resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    if source_rate == target_rate:
        return np.asarray(audio, dtype=np.float32)
    ratio = Fraction(target_rate, source_rate)
    return resample_poly(np.asarray(audio, dtype=np.float64), ratio.numerator, ratio.denominator).astype(
        np.float32
    )
