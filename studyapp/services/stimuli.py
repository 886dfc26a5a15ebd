"""Importing soundtracks as stimuli: clips, systems, and every participant-facing mp4 rendered by
`studyapp.stimuli.render` (identical encodings, loudness-normalised), including the catch-trial anchors.

Sources: the output folders of `python -m generation sample` (their `samples.json`), folders of audio
from any other system laid out `<system>/<clip_id>.wav` or `<system>/<category>/<clip_id>.wav`, and
folders or CSVs of source videos (as `generation prepare` reads them). Every clip gets its real
stimulus and the anchors. A re-import of the same inputs changes nothing (each stimulus records a
fingerprint of what it was rendered from); a file that cannot be used is reported and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.text import slugify
from tqdm import tqdm

from generation import SAMPLE_RATE
from generation.listing import LISTING, ListingError, SampleListing
from generation.media import MediaError, decode_audio
from generation.sources import discover, sidecar_onsets
from studyapp.models import Clip, Stimulus, System, TrialStimulus, opaque_id
from studyapp.stimuli.anchors import VARIANTS, anchor
from studyapp.stimuli.render import StimulusSpec, render_stimulus, video_duration

logger = logging.getLogger(__name__)

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac"}


@dataclass
class ImportReport:
    clips_created: int = 0
    systems_created: list[str] = field(default_factory=list)
    rendered: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # "<file>: <what was wrong and what to do>"

    def summary(self) -> str:
        return (
            f"{self.clips_created} clips and {len(self.systems_created)} systems created, "
            f"{self.rendered} stimuli rendered, {self.unchanged} unchanged, {len(self.problems)} problems"
        )


@dataclass(frozen=True)
class _Job:
    clip: Clip
    system: System
    variant: str
    soundtrack: Path | None  # None: the clip's own sound (real and anchors)
    fingerprint: str


def stimuli_import(
    *,
    samples: Iterable[Path] = (),
    external: Path | None = None,
    videos: Path | None = None,
    system_name: str | None = None,
    practice_per_category: int = 0,
    catch_per_category: int = 0,
    spec: StimulusSpec | None = None,
    jobs: int = 2,
    progress: bool = True,
) -> ImportReport:
    """Import clips, systems and stimuli; see the module docstring. ``system_name`` names the system of
    ``samples`` folders (default: ``ours-<model>`` from their samples.json)."""
    spec = spec or StimulusSpec()
    report = ImportReport()
    real = _system(System.REAL_NAME, System.Kind.REAL, report)
    clips: dict[int, Clip] = {}
    soundtracks: list[tuple[Clip, System, Path]] = []
    new_clips: list[Clip] = []

    if videos is not None:
        for clip in _clips_from_videos(videos, report, new_clips):
            clips[clip.pk] = clip
    for folder in samples:
        for clip, system, wav in _from_samples(Path(folder), system_name, report, new_clips):
            clips[clip.pk] = clip
            soundtracks.append((clip, system, wav))
    if external is not None:
        for clip, system, wav in _from_external(Path(external), report):
            clips[clip.pk] = clip
            soundtracks.append((clip, system, wav))
    _reserve(new_clips, practice=practice_per_category, catch=catch_per_category)

    todo: list[_Job] = []
    for clip in clips.values():
        own = _source_fingerprint(clip, spec)
        for variant in ("", *VARIANTS):
            todo.append(_Job(clip, real, variant, None, _digest(own, variant)))
    for clip, system, wav in soundtracks:
        todo.append(_Job(clip, system, "", wav, _digest(_source_fingerprint(clip, spec), _file_digest(wav))))
    _render_all(todo, spec, report, jobs=jobs, progress=progress)
    return report


def _system(name: str, kind: str, report: ImportReport) -> System:
    system, created = System.objects.get_or_create(name=name, defaults={"kind": kind})
    if created:
        report.systems_created.append(name)
    return system


def _clip(
    *,
    clip_id: str,
    category: str,
    source: str,
    start: float,
    duration: float,
    split: str,
    origin: str,
    report: ImportReport,
    new_clips: list[Clip],
    ground_truth: dict | None = None,
) -> Clip | None:
    existing = Clip.objects.filter(category=category, clip_id=clip_id).first()
    if existing is not None:
        if (existing.source, round(existing.start, 3), round(existing.duration, 3)) != (
            source,
            round(start, 3),
            round(duration, 3),
        ):
            report.problems.append(
                f"{origin}: clip {category}/{clip_id} is already imported from {existing.source} "
                f"[{existing.start:g} s, {existing.duration:g} s]; skipped (give it another clip id)"
            )
            return None
        return existing
    clip = Clip.objects.create(
        clip_id=clip_id,
        category=category,
        source=source,
        start=start,
        duration=duration,
        split=split,
        ground_truth=ground_truth or {},
    )
    report.clips_created += 1
    new_clips.append(clip)
    return clip


def _sidecar_truth(video: Path, start: float, duration: float) -> dict:
    onsets = sidecar_onsets(video, start, duration)
    return {} if onsets is None else {"onsets": onsets}


def _clips_from_videos(videos: Path, report: ImportReport, new_clips: list[Clip]) -> list[Clip]:
    try:
        sources, rejected = discover(videos)
    except ValueError as error:
        report.problems.append(str(error))
        return []
    report.problems.extend(f"{r.source}: {r.reason}" for r in rejected)
    clips = []
    for source in sources:
        try:
            length = float(video_duration(source.path))
        except MediaError as error:
            report.problems.append(f"{source.label}: {error}")
            continue
        end = min(source.end, length) if source.end is not None else length
        if end <= source.start:
            report.problems.append(f"{source.label}: starts after the video ends ({length:g} s)")
            continue
        clip = _clip(
            clip_id=source.clip_id,
            category=source.category,
            source=str(source.path.resolve()),
            start=source.start,
            duration=end - source.start,
            split="test",
            origin=source.label,
            report=report,
            new_clips=new_clips,
            ground_truth=_sidecar_truth(source.path, source.start, end - source.start),
        )
        if clip is not None:
            clips.append(clip)
    return clips


def _from_samples(
    folder: Path, system_name: str | None, report: ImportReport, new_clips: list[Clip]
) -> list[tuple[Clip, System, Path]]:
    try:
        listing = SampleListing.read(folder)
    except ListingError as error:
        report.problems.append(f"{error}; for another system's audio use --external")
        return []
    origin = folder / LISTING
    name = slugify(system_name or f"ours-{listing.model}")
    if name == System.REAL_NAME:
        report.problems.append(f"{origin}: the system name 'real' is reserved for real soundtracks")
        return []
    system = _system(name, System.Kind.OURS, report)
    found = []
    for entry in listing.clips:
        wav = folder / entry.wav
        if not wav.is_file():
            report.problems.append(f"{wav}: listed in {origin} but missing; rerun `generation sample`")
            continue
        source = Path(entry.source)
        clip = _clip(
            clip_id=entry.clip_id,
            category=entry.category,
            source=str(source.resolve()),
            start=entry.start,
            duration=entry.duration,
            split=listing.split,
            origin=str(origin),
            report=report,
            new_clips=new_clips,
            ground_truth=_sidecar_truth(source, entry.start, entry.duration),
        )
        if clip is not None:
            found.append((clip, system, wav))
    return found


def _from_external(root: Path, report: ImportReport) -> list[tuple[Clip, System, Path]]:
    if not root.is_dir():
        report.problems.append(f"--external {root}: not a folder of <system>/<clip_id>.wav")
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = slugify(folder.name)
        if name == System.REAL_NAME:
            report.problems.append(
                f"{folder}: 'real' is reserved for the real soundtracks; rename the folder"
            )
            continue
        system = None
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in AUDIO_EXTENSIONS or path.name.startswith("."):
                continue
            relative = path.relative_to(folder)
            matches = Clip.objects.filter(clip_id=path.stem)
            if len(relative.parts) == 2:
                matches = matches.filter(category=relative.parts[0])
            elif len(relative.parts) > 2:
                report.problems.append(f"{path}: expected <system>/<clip_id>.wav or <system>/<category>/...")
                continue
            clips = list(matches[:2])
            if not clips:
                report.problems.append(
                    f"{path}: no imported clip {path.stem!r}; import its video first (--videos or --samples)"
                )
                continue
            if len(clips) > 1:
                report.problems.append(
                    f"{path}: clip id {path.stem!r} exists in several categories; "
                    f"put the file under {folder.name}/<category>/"
                )
                continue
            if system is None:
                system = _system(name, System.Kind.EXTERNAL, report)
            found.append((clips[0], system, path))
    return found


def _reserve(new_clips: list[Clip], *, practice: int, catch: int) -> None:
    """Per category, the first ``practice`` new clips (by id) for practice trials, the next ``catch``
    for catch trials; the rest are test clips."""
    by_category: dict[str, list[Clip]] = {}
    for clip in new_clips:
        by_category.setdefault(clip.category, []).append(clip)
    for clips in by_category.values():
        ordered = sorted(clips, key=lambda c: c.clip_id)
        for clip in ordered[:practice]:
            clip.practice = True
            clip.save(update_fields=["practice"])
        for clip in ordered[practice : practice + catch]:
            clip.catch = True
            clip.save(update_fields=["catch"])


def _source_fingerprint(clip: Clip, spec: StimulusSpec) -> str:
    """The video file as it is now (path, size, mtime), the span and the renderer's settings."""
    try:
        stat = os.stat(clip.source)
        file_state = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        file_state = "missing"
    return f"{clip.source}|{file_state}|{clip.start!r}|{clip.duration!r}|{spec!r}"


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _render_all(
    todo: list[_Job], spec: StimulusSpec, report: ImportReport, *, jobs: int, progress: bool
) -> None:
    existing = {
        (s.clip_id, s.system_id, s.variant): s
        for s in Stimulus.objects.filter(clip__in={j.clip.pk for j in todo}).annotate(
            presented=Exists(TrialStimulus.objects.filter(stimulus=OuterRef("pk")))
        )
    }
    pending = []
    for job in todo:
        current = existing.get((job.clip.pk, job.system.pk, job.variant))
        if (
            current is not None
            and current.fingerprint == job.fingerprint
            and current.media
            and default_storage.exists(current.media.name)
        ):
            report.unchanged += 1
            continue
        if current is not None and current.fingerprint != job.fingerprint and current.presented:
            report.problems.append(
                f"{job.soundtrack or job.clip.source}: changed since {current} was imported, but it has "
                "already been shown to participants; not replaced (import it under a new system name)"
            )
            continue
        pending.append((job, current))
    if not pending:
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_render, job, spec): (job, current) for job, current in pending}
        bar = tqdm(total=len(futures), unit="stimulus", desc="rendering stimuli", disable=not progress)
        for future in as_completed(futures):
            job, current = futures[future]
            bar.update()
            try:
                public_id, name = future.result()
            except (MediaError, OSError, ValueError) as error:
                report.problems.append(f"{job.soundtrack or job.clip.source}: {error}")
                continue
            _save_stimulus(job, current, public_id, name)
            report.rendered += 1
        bar.close()


def _render(job: _Job, spec: StimulusSpec) -> tuple[str, str]:
    """Render to `stimuli/<new random id>.mp4`; returns (public id, storage name)."""
    public_id = opaque_id()
    name = f"stimuli/{public_id}.mp4"
    out = Path(default_storage.path(name))
    clip = job.clip
    if job.variant:
        real = decode_audio(clip.source, sample_rate=SAMPLE_RATE, start=clip.start, duration=clip.duration)
        audio = anchor(real, SAMPLE_RATE, job.variant, key=f"{clip.category}/{clip.clip_id}")
        render_stimulus(
            clip.source,
            audio,
            out,
            spec=spec,
            soundtrack_rate=SAMPLE_RATE,
            start=clip.start,
            duration=clip.duration,
        )
    else:
        render_stimulus(clip.source, job.soundtrack, out, spec=spec, start=clip.start, duration=clip.duration)
    return public_id, name


@transaction.atomic
def _save_stimulus(job: _Job, current: Stimulus | None, public_id: str, name: str) -> None:
    if current is None:
        Stimulus.objects.create(
            public_id=public_id,
            clip=job.clip,
            system=job.system,
            variant=job.variant,
            media=name,
            fingerprint=job.fingerprint,
        )
        return
    old = current.media.name
    # A new random id for new content: a participant's cached copy of the old file is never reused.
    current.public_id, current.media, current.fingerprint = public_id, name, job.fingerprint
    current.save(update_fields=["public_id", "media", "fingerprint"])
    if old and old != name:
        transaction.on_commit(lambda: default_storage.delete(old))
