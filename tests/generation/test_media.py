import subprocess

import numpy as np
import pytest

from generation.media import MediaError, decode_audio, decode_frames, encode_mp4, ffmpeg_executable

SR = 16_000
FPS = 15.625


@pytest.fixture
def clip(tmp_path):
    frames = np.zeros((16, 64, 96, 3), np.uint8)
    frames[:, :, :48] = 200  # left half bright: a centre crop must keep half of each
    audio = 0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32)
    path = tmp_path / "clip.mp4"
    encode_mp4(path, frames=frames, fps=FPS, audio=audio, sample_rate=SR)
    return path


def test_round_trip_keeps_length_rate_and_content(clip) -> None:
    audio = decode_audio(clip, sample_rate=SR)
    assert audio.shape == (SR,)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 Hz per bin for one second
    frames = decode_frames(clip, fps=FPS, size=32)
    assert frames.shape == (16, 32, 32, 3)
    # The 96x64 frame becomes 48x32, then the centre 32x32: left half bright, right half dark.
    assert frames[:, :, :12].mean() > 150 and frames[:, :, 20:].mean() < 50


def test_trimmed_decoding(clip) -> None:
    assert decode_audio(clip, sample_rate=SR, start=0.25, duration=0.5).shape == (SR // 2,)
    assert decode_frames(clip, fps=FPS, size=32, start=0.256, duration=0.512).shape[0] == 8


def test_missing_file_is_named(tmp_path) -> None:
    missing = tmp_path / "nowhere.mp4"
    with pytest.raises(MediaError, match=r"nowhere\.mp4: no such file"):
        decode_audio(missing, sample_rate=SR)


def test_corrupt_file_is_named(tmp_path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00not a video at all" * 100)
    with pytest.raises(MediaError, match=r"corrupt\.mp4"):
        decode_frames(corrupt, fps=FPS, size=32)


def test_video_without_audio_stream_is_named(tmp_path) -> None:
    silent = tmp_path / "silent.mp4"
    subprocess.run(
        [
            ffmpeg_executable(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(silent),
        ],
        check=True,
    )
    assert decode_frames(silent, fps=10, size=32).shape == (10, 32, 32, 3)
    with pytest.raises(MediaError, match=r"silent\.mp4"):
        decode_audio(silent, sample_rate=SR)


def test_encoding_rejects_odd_frame_sizes(tmp_path) -> None:
    with pytest.raises(ValueError, match="even"):
        encode_mp4(
            tmp_path / "x.mp4",
            frames=np.zeros((2, 63, 64, 3), np.uint8),
            fps=FPS,
            audio=np.zeros(SR, np.float32),
            sample_rate=SR,
        )
