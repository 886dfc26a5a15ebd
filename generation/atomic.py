"""The one way files are written here: into a temporary file beside the target, renamed onto it only
when the writing finished, so a kill or an error never leaves a half-written artefact where a reader
(or a resumed run, which skips what exists) would take it for a whole one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path | str, *, suffix: str = "") -> Iterator[Path]:
    """A temporary path to write to; renamed onto ``path`` when the block ends without an error,
    removed when it raises. ``suffix`` keeps an extension that a writer reads the format from
    (ffmpeg, soundfile)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp{suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text)
