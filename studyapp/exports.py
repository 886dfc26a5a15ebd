"""The results of a study as files: tidy CSV (responses, and participants beside them) or one JSON
document. Used by `manage.py export_results`, the admin download and the researcher API."""

from __future__ import annotations

import csv
import io
import json

from studyapp import selectors
from studyapp.models import Study

FORMATS = ("csv", "json")


def responses_csv(study: Study, *, include_excluded: bool = False) -> str:
    return _csv(
        selectors.RESULT_COLUMNS, selectors.study_result_rows(study, include_excluded=include_excluded)
    )


def participants_csv(study: Study, *, include_excluded: bool = False) -> str:
    return _csv(
        selectors.PARTICIPANT_COLUMNS,
        selectors.study_participant_rows(study, include_excluded=include_excluded),
    )


def results_json(study: Study, *, include_excluded: bool = False) -> str:
    return json.dumps(
        {
            "study": study.slug,
            "title": study.title,
            "include_excluded": include_excluded,
            "simulated_participants": study.participants.filter(simulated=True).count(),
            "responses": selectors.study_result_rows(study, include_excluded=include_excluded),
            "participants": selectors.study_participant_rows(study, include_excluded=include_excluded),
        },
        indent=1,
    )


def _csv(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
