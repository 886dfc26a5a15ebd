"""What an attentive participant answers, computed from the server's truth: the oracle of the tests."""

from __future__ import annotations

from studyapp import services
from studyapp.models import Participant, Trial
from studyapp.services import Answer


def right_answer(trial: Trial) -> Answer:
    """What an attentive participant who can always tell real from generated would answer."""
    presented = list(trial.presented.select_related("stimulus__system"))
    real = [p.position for p in presented if p.stimulus.system.is_real and not p.stimulus.variant]
    anchors = [p.position for p in presented if p.stimulus.variant]
    kind = trial.task.type
    plays = [1] * len(presented)
    if kind == "turing_2afc":
        return Answer(choice=real[0], play_counts=plays, response_time_ms=900)
    if kind == "turing_single":
        return Answer(judged_real=bool(real), play_counts=plays, response_time_ms=700)
    if kind == "ranking":
        order = [p.position for p in presented if p.position not in anchors] + anchors
        return Answer(ranking=order, play_counts=plays, response_time_ms=2000)
    return Answer(rating=1 if anchors else 4, play_counts=plays, response_time_ms=1200)


def answer_all(participant: Participant, answer=right_answer) -> None:
    for trial in participant.trials.select_related("task").order_by("index"):
        services.response_record(
            participant=participant, index=trial.index, idempotency_key=f"{trial.pk}-k", answer=answer(trial)
        )
