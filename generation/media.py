"""Decoding and encoding audio-visual media through ffmpeg.

Every path in and out of the project goes through here — demo clips, users' videos, rendered stimuli —
so that they are all decoded identically. The ffmpeg binary is the one the pinned imageio-ffmpeg wheel
ships, so every machine decodes and encodes alike (ffmpeg versions differ, e.g. in how they trim AAC
padding); VIS2SOUND_FFMPEG names another binary, and one on PATH is used if the wheel has none.
"""

from __future__ import annotations

import functools
import os
import shutil
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np


class MediaError(RuntimeError):
    """A media file could not be read or written; the message names the file and the reason."""


@functools.cache
def ffmpeg_executable() -> str:
    chosen = os.environ.get("VIS2SOUND_FFMPEG")
    if chosen:
        return chosen
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        on_path = shutil.which("ffmpeg")
        if on_path is None:
            raise MediaError(
                "no ffmpeg: install requirements.txt (imageio-ffmpeg) or set VIS2SOUND_FFMPEG"
            ) from None
        return on_path


def rate_fraction(rate: float) -> Fraction:
    """An exact rational for a frame rate such as 15.625 (= 125/8), as ffmpeg wants it."""
    return Fraction(rate).limit_denominator(1001)


def _last_error_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg gave no reason"


def run_ffmpeg(stream: ffmpeg.nodes.OutputStream, path: Path, *, input_bytes: bytes | None = None) -> bytes:
    try:
        out, _ = stream.global_args("-hide_banner", "-nostdin", "-loglevel", "error").run(
            cmd=ffmpeg_executable(), input=input_bytes, capture_stdout=True, capture_stderr=True
        )
    except ffmpeg.Error as error:
        raise MediaError(f"{path}: {_last_error_line(error.stderr)}") from error
    return out


def _trim_args(start: float, duration: float | None) -> dict[str, float]:
    args: dict[str, float] = {}
    if start > 0:
        args["ss"] = start
    if duration is not None:
        args["t"] = duration
    return args


def decode_audio(
    path: Path | str, *, sample_rate: int, start: float = 0.0, duration: float | None = None
) -> np.ndarray:
    """Mono float32 waveform in [-1, 1] at ``sample_rate``: shape (samples,).

    Raises MediaError naming the file when it cannot be read or has no audio stream.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    stream = ffmpeg.input(str(path), **_trim_args(start, duration))["a:0"].output(
        "pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate
    )
    out = run_ffmpeg(stream, path)
    audio = np.frombuffer(out, dtype=np.float32)
    if audio.size == 0:
        raise MediaError(f"{path}: no audio decoded (empty or silent stream of length 0)")
    return audio.copy()


def decode_frames(
    path: Path | str, *, fps: float, size: int, start: float = 0.0, duration: float | None = None
) -> np.ndarray:
    """RGB frames resampled to ``fps``, short side scaled to ``size`` and centre-cropped to a square.

    Shape (frames, size, size, 3), uint8. Raises MediaError naming the file when it has no video stream.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    video = ffmpeg.input(str(path), **_trim_args(start, duration)).video
    video = video.filter("fps", fps=str(rate_fraction(fps)))
    # Scale the short side to `size` (keeping the aspect ratio), then crop the centre square.
    video = video.filter(
        "scale",
        w=f"if(gt(iw,ih),-2,{size})",
        h=f"if(gt(iw,ih),{size},-2)",
        flags="bicubic",
    ).filter("crop", size, size)
    out = run_ffmpeg(video.output("pipe:", format="rawvideo", pix_fmt="rgb24"), path)
    frames = np.frombuffer(out, dtype=np.uint8)
    if frames.size == 0:
        raise MediaError(f"{path}: no video frames decoded")
    return frames.reshape(-1, size, size, 3).copy()


def encode_mp4(
    path: Path | str,
    *,
    frames: np.ndarray,
    fps: float,
    audio: np.ndarray,
    sample_rate: int,
    audio_bitrate: str = "128k",
    crf: int = 18,
) -> None:
    """Write H.264 video + AAC audio to ``path``, reproducibly: the same input gives the same bytes.

    frames: (T, H, W, 3) uint8 RGB with even H and W; audio: (samples,) float in [-1, 1], mono.
    Metadata (encoder tags, creation time) is left out so the file depends on the content alone.
    """
    path = Path(path)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    _, height, width, _ = frames.shape
    if height % 2 or width % 2:
        raise ValueError(f"H.264 with yuv420p needs even frame sizes, got {width}x{height}")
    audio_path = path.with_name(path.name + ".audio.f32")
    audio_path.write_bytes(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
    try:
        video_in = ffmpeg.input(
            "pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", r=str(rate_fraction(fps))
        )
        audio_in = ffmpeg.input(str(audio_path), format="f32le", ar=sample_rate, ac=1)
        stream = ffmpeg.output(
            video_in,
            audio_in,
            str(path),
            vcodec="libx264",
            pix_fmt="yuv420p",
            preset="veryfast",
            crf=crf,
            acodec="aac",
            audio_bitrate=audio_bitrate,
            ar=sample_rate,
            ac=1,
            format="mp4",
            movflags="+faststart",
            map_metadata=-1,
            fflags="+bitexact",
            **{"flags:v": "+bitexact", "flags:a": "+bitexact"},
        ).overwrite_output()
        run_ffmpeg(stream, path, input_bytes=np.ascontiguousarray(frames).tobytes())
    finally:
        audio_path.unlink(missing_ok=True)
