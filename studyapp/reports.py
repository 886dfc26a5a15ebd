"""A study's statistics and report, computed by `evaluation` (which knows nothing of Django) from the
same rows `export_results` writes, so the report in the admin, `manage.py study_report` and
`python -m evaluation report` on an exported CSV agree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.analysis import Analysis, AnalysisConfig, analyse
from evaluation.report import render_html, write_report
from evaluation.results import COLUMNS, PARTICIPANT_COLUMNS, normalise
from studyapp import selectors
from studyapp.models import Study


def study_analysis(study: Study, config: AnalysisConfig | None = None) -> Analysis:
    rows = selectors.study_result_rows(study, include_excluded=True)
    table = pd.DataFrame(rows, columns=COLUMNS)
    participants = pd.DataFrame(
        selectors.study_participant_rows(study, include_excluded=True), columns=PARTICIPANT_COLUMNS
    )
    return analyse(normalise(table), participants, config)


def study_report_html(study: Study, *, metrics: pd.DataFrame | None = None) -> str:
    return render_html(study_analysis(study), title=study.title, metrics=metrics)


def study_report_files(study: Study, out: Path, *, metrics: pd.DataFrame | None = None) -> Path:
    return write_report(study_analysis(study), out, title=study.title, metrics=metrics)
