"""The design's boundaries: `generation` and `evaluation` never import Django (a GPU box trains
with `generation` alone)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_generation_and_evaluation_import_without_django() -> None:
    modules = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for package in ("generation", "evaluation")
        for path in (REPO / package).rglob("*.py")
        if path.name != "__main__.py"
    )
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
