"""File responses with HTTP Range support (RFC 9110 §14): browsers seek in video with it, and Safari
will not play a video served without it. One range per request, as media players ask."""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class _Slice:
    """A file object limited to ``length`` bytes from ``start``, streamed by FileResponse."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self.handle = path.open("rb")
        self.handle.seek(start)
        self.left = length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def ranged_file_response(request: HttpRequest, path: Path, content_type: str) -> HttpResponse:
    size = os.path.getsize(path)
    header = request.headers.get("Range", "").strip()
    match = _RANGE.match(header) if header else None
    if header and match is None:
        return _unsatisfiable(size)  # multiple or malformed ranges: say what is available
    if match is None:
        response = FileResponse(path.open("rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        first, last = match.groups()
        if first == "":  # the last N bytes
            length = min(int(last or 0), size)
            start, end = size - length, size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or end < start:
            return _unsatisfiable(size)
        response = FileResponse(_Slice(path, start, end - start + 1), content_type=content_type, status=206)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    response["Accept-Ranges"] = "bytes"
    return response
