"""Which clips to prepare: a folder laid out `<category>/<clip>.mp4`, or a CSV manifest.

CSV columns (header required): `path`, `category`, optional `start` and `end` (seconds) and
`clip_id`. Relative paths are taken from the CSV's folder. A VEGAS-style list of segments of
downloaded videos is such a CSV. Rows that cannot be used are reported, not fatal.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v"}
REQUIRED_COLUMNS = ("path", "category")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ClipSource:
    clip_id: str
    category: str
    path: Path
    start: float = 0.0
    end: float | None = None

    @property
    def label(self) -> str:
        span = f" [{self.start:g}-{self.end:g} s]" if self.end is not None else ""
        return f"{self.path}{span}"


@dataclass(frozen=True)
class Rejected:
    source: str
    reason: str


def safe_id(text: str) -> str:
    """A clip id usable as a file name (shards are named after it)."""
    return _SAFE_ID.sub("_", text).strip("._") or "clip"


def from_folder(root: Path) -> tuple[list[ClipSource], list[Rejected]]:
    sources, rejected = [], []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in VIDEO_EXTENSIONS or path.name.startswith("."):
            continue
        relative = path.relative_to(root)
        if len(relative.parts) != 2:
            rejected.append(
                Rejected(
                    str(path),
                    "not in a <category>/<clip> folder layout: move it into a "
                    "folder named after its category",
                )
            )
            continue
        sources.append(ClipSource(safe_id(path.stem), relative.parts[0], path))
    return sources, rejected


def _seconds(row: dict, column: str, line: int) -> float | None:
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"line {line}: column {column!r} is {raw!r}, not a number of seconds") from None
    if value < 0:
        raise ValueError(f"line {line}: column {column!r} is negative ({raw})")
    return value


def from_csv(manifest: Path) -> tuple[list[ClipSource], list[Rejected]]:
    with manifest.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ValueError(
                f"{manifest}: missing column(s) {missing}; the header must name "
                f"path, category and optionally start, end, clip_id (found {columns})"
            )
        rows = [{k.strip(): v for k, v in row.items() if k} for row in reader]
    sources, rejected = [], []
    for line, row in enumerate(rows, start=2):
        label = f"{manifest}:{line}"
        path_text, category = (row.get("path") or "").strip(), (row.get("category") or "").strip()
        if not path_text or not category:
            rejected.append(Rejected(label, "empty path or category"))
            continue
        try:
            start, end = _seconds(row, "start", line), _seconds(row, "end", line)
        except ValueError as error:
            rejected.append(Rejected(label, str(error)))
            continue
        if start is not None and end is not None and end <= start:
            rejected.append(Rejected(label, f"end ({end:g}) is not after start ({start:g})"))
            continue
        path = Path(path_text)
        if not path.is_absolute():
            path = manifest.parent / path
        clip_id = (row.get("clip_id") or "").strip()
        if not clip_id:
            clip_id = path.stem if start is None else f"{path.stem}_{start:g}"
        sources.append(ClipSource(safe_id(clip_id), safe_id(category), path, start or 0.0, end))
    return sources, rejected


def discover(videos: Path) -> tuple[list[ClipSource], list[Rejected]]:
    """Clips from a folder or a CSV; duplicate ids within a category are rejected after the first."""
    if videos.is_file() and videos.suffix.lower() == ".csv":
        sources, rejected = from_csv(videos)
    elif videos.is_dir():
        sources, rejected = from_folder(videos)
    else:
        raise ValueError(f"--videos {videos}: expected a folder of <category>/<clip>.mp4 or a .csv manifest")
    unique, seen = [], set()
    for source in sources:
        key = (source.category, source.clip_id)
        if key in seen:
            rejected.append(
                Rejected(
                    source.label,
                    f"duplicate clip id {source.clip_id!r} in {source.category}; "
                    "give it a clip_id column value",
                )
            )
            continue
        seen.add(key)
        unique.append(source)
    return unique, rejected


def sidecar_onsets(video: Path, start: float, duration: float) -> list[float] | None:
    """Event onsets (s, from the clip's start) when the video has a JSON sidecar that knows them, as the
    demo dataset's do (`"events": [{"time": …}, …]`); None for sources without one."""
    try:
        events = json.loads(Path(video).with_suffix(".json").read_text()).get("events")
        times = [float(e["time"]) - start for e in events or []]
    except (OSError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None
    return [round(t, 4) for t in times if 0 <= t < duration]
