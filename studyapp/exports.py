"""The results of a study as files: tidy CSV (responses, and participants beside them) or one JSON
document. Used by `manage.py export_results`, the admin download and the researcher API."""

from __future__ import annotations

import json

from evaluation import results
from studyapp import selectors
from studyapp.models import Study

FORMATS = ("csv", "json")


def responses_csv(study: Study, *, include_excluded: bool = False) -> str:
    return results.write_csv(
        results.COLUMNS, selectors.study_result_rows(study, include_excluded=include_excluded)
    )


def participants_csv(study: Study, *, include_excluded: bool = False) -> str:
    return results.write_csv(
        results.PARTICIPANT_COLUMNS,
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
