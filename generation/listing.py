"""The sample listing, `samples.json`, read and written only here: what `python -m generation sample`
put in an output folder — one model's soundtracks, `<category>/<clip_id>.wav`, with the clip each
belongs to (source video, start, duration) — for `manage.py import_stimuli` to turn into stimuli.

One listing per folder, for every category sampled into it: sampling a category again replaces that
category's entries and keeps the others'.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from generation.atomic import write_text_atomic

LISTING = "samples.json"
FORMAT = 1


class ListingError(ValueError):
    """A listing that cannot be read or extended; the message names the file and what to do."""


@dataclass(frozen=True)
class ListedClip:
    clip_id: str
    category: str
    wav: str  # relative to the folder
    source: str  # the video the clip was cut from
    start: float  # seconds into the source
    duration: float  # seconds


@dataclass
class SampleListing:
    model: str  # the conditioning of the model that made the soundtracks
    split: str
    temperature: float
    seed: int
    sample_rate: int
    clips: list[ListedClip] = field(default_factory=list)
    # category -> sha256 of the checkpoint file that made its soundtracks (listings before it: none)
    checkpoints: dict[str, str] = field(default_factory=dict)
    onset_guidance: float = 1.0  # the sampler's (generation.sample); listings before it: none (1)

    @property
    def categories(self) -> list[str]:
        return sorted({c.category for c in self.clips})

    @classmethod
    def read(cls, folder: Path) -> SampleListing:
        path = folder / LISTING
        try:
            raw = json.loads(path.read_text())
            # Listings written before the format number hold one category at the top level.
            entries = [
                ListedClip(
                    clip_id=entry["clip_id"],
                    category=entry.get("category") or raw["category"],
                    wav=entry["wav"],
                    source=entry["source"],
                    start=float(entry.get("start", 0.0)),
                    duration=float(entry["duration"]),
                )
                for entry in raw["clips"]
            ]
            listing = cls(
                model=raw["model"],
                split=raw.get("split", "test"),
                temperature=raw.get("temperature", 1.0),
                seed=raw.get("seed", 0),
                sample_rate=raw.get("sample_rate", 0),
                clips=entries,
                checkpoints=dict(raw.get("checkpoints", {})),
                onset_guidance=float(raw.get("onset_guidance", 1.0)),
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ListingError(f"{path}: not the output of `python -m generation sample` ({error})") from None
        if raw.get("format", FORMAT) != FORMAT:
            raise ListingError(f"{path}: listing format {raw['format']}, this version reads {FORMAT}")
        return listing

    def merge_into(self, folder: Path) -> SampleListing:
        """Write this listing to ``folder``, keeping the entries of other categories already listed
        there; returns what was written. A folder holds one model's soundtracks."""
        merged = self
        if (folder / LISTING).exists():
            earlier = SampleListing.read(folder)
            if earlier.model != self.model:
                raise ListingError(
                    f"{folder / LISTING} lists {earlier.model!r} soundtracks, not {self.model!r}: "
                    "give each model its own --out folder"
                )
            mine = set(self.categories)
            kept = [c for c in earlier.clips if c.category not in mine]
            checkpoints = {c: h for c, h in earlier.checkpoints.items() if c not in mine} | self.checkpoints
            merged = SampleListing(
                **{f.name: getattr(self, f.name) for f in fields(self)}
                | {"clips": kept + self.clips, "checkpoints": checkpoints}
            )
        document = {"format": FORMAT} | asdict(merged) | {"categories": merged.categories}
        write_text_atomic(folder / LISTING, json.dumps(document, indent=1))
        return merged
