"""What a category renderer is given (the clip's timing and frame size) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from generation.synth.scene import Canvas


@dataclass(frozen=True)
class ClipTiming:
    sample_rate: int
    fps: float
    num_samples: int
    num_frames: int
    canvas: Canvas

    @property
    def duration(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    def frame_times(self) -> np.ndarray:
        """(num_frames,) the instant each frame shows, in seconds: frame i is the scene at i / fps."""
        return np.arange(self.num_frames) / self.fps

    def sample_at(self, time: float) -> int:
        return round(time * self.sample_rate)


@dataclass(frozen=True)
class Event:
    """A visible cause of a sound (a stick strike, a burst, a blade pass, a throttle rise)."""

    time: float  # seconds; the sound's onset
    kind: str
    strength: float  # 0..1, how hard: velocity, burst size, throttle step


@dataclass
class SynthClip:
    frames: np.ndarray  # (num_frames, H, W, 3) uint8 RGB
    audio: np.ndarray  # (num_samples,) float32 in [-1, 1]
    events: list[Event]
    scene: dict  # geometry and synthesis parameters, JSON-serialisable
    intensity: np.ndarray | None = field(default=None)  # (num_frames,) 0..1 for continuous sources
