"""Drawing building blocks: backgrounds, colours, camera shake. Frames are float32 RGB in [0, 255].

Geometry is written for a 224-pixel reference frame and scaled by `Canvas.scale`, so any frame size
shows the same scene.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

REFERENCE_SIZE = 224


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int

    @property
    def scale(self) -> float:
        return min(self.width, self.height) / REFERENCE_SIZE

    def px(self, value: float) -> int:
        """A length in reference pixels, in this canvas's pixels (at least 1)."""
        return max(1, round(value * self.scale))

    def point(self, x: float, y: float) -> tuple[int, int]:
        """A position given as fractions of the width and height, in pixels (for cv2 drawing)."""
        return round(x * self.width), round(y * self.height)


def hsv_colour(hue: float, saturation: float, value: float) -> tuple[float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return 255.0 * r, 255.0 * g, 255.0 * b


def random_colour(
    rng: np.random.Generator,
    *,
    saturation: tuple[float, float],
    value: tuple[float, float],
    hue: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float, float]:
    return hsv_colour(rng.uniform(*hue), rng.uniform(*saturation), rng.uniform(*value))


def vertical_gradient(canvas: Canvas, top: tuple[float, ...], bottom: tuple[float, ...]) -> np.ndarray:
    """(H, W, 3) float32 image fading from ``top`` to ``bottom``."""
    weight = np.linspace(0.0, 1.0, canvas.height, dtype=np.float32)[:, None, None]
    top_arr = np.asarray(top, dtype=np.float32)
    bottom_arr = np.asarray(bottom, dtype=np.float32)
    column = (1 - weight) * top_arr + weight * bottom_arr
    return np.repeat(column, canvas.width, axis=1)


def soft_blobs(
    rng: np.random.Generator,
    image: np.ndarray,
    canvas: Canvas,
    *,
    count: int,
    radius: tuple[float, float],
    colour_jitter: float,
) -> np.ndarray:
    """Large blurred blobs of nearby colours: background texture that differs from clip to clip."""
    layer = image.copy()
    for _ in range(count):
        centre = canvas.point(rng.uniform(0, 1), rng.uniform(0, 1))
        r = canvas.px(rng.uniform(*radius))
        base = layer[min(centre[1], canvas.height - 1), min(centre[0], canvas.width - 1)]
        colour = np.clip(base + rng.uniform(-colour_jitter, colour_jitter, 3), 0, 255)
        cv2.circle(layer, centre, r, tuple(float(c) for c in colour), -1, cv2.LINE_AA)
    sigma = 6 * canvas.scale
    return cv2.GaussianBlur(layer, (0, 0), sigma)


def shake_offsets(
    rng: np.random.Generator, frames: int, amplitude: float, smoothness: float = 3.0
) -> np.ndarray:
    """(frames, 2) camera offsets in pixels: smoothed random motion, as from a hand-held camera."""
    raw = rng.standard_normal((frames + 12, 2))
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / smoothness) ** 2)
    kernel /= np.sqrt((kernel**2).sum())
    smooth = np.stack([np.convolve(raw[:, axis], kernel, mode="same") for axis in range(2)], axis=1)[6:-6]
    return amplitude * smooth


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The frame as seen by a camera displaced by (dx, dy) pixels, edges mirrored."""
    if dx == 0 and dy == 0:
        return image
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)
