"""Writes. Views, API endpoints, admin actions and management commands call these, never the ORM
directly; every one runs in a transaction."""

from studyapp.services.participants import (
    Answer,
    ParticipationError,
    participant_finish,
    participant_record_screening,
    participant_register,
    participant_screen,
    participant_set_exclusion,
    response_record,
    study_assign_trials,
    trial_mark_delivered,
)
from studyapp.services.stimuli import ImportReport, stimuli_import
from studyapp.services.studies import (
    StudyConfigurationError,
    study_close,
    study_create,
    study_open,
    study_sandbox,
)

__all__ = [
    "Answer",
    "ImportReport",
    "ParticipationError",
    "StudyConfigurationError",
    "participant_finish",
    "participant_record_screening",
    "participant_register",
    "participant_screen",
    "participant_set_exclusion",
    "response_record",
    "stimuli_import",
    "study_assign_trials",
    "study_close",
    "study_create",
    "study_open",
    "study_sandbox",
    "trial_mark_delivered",
]
