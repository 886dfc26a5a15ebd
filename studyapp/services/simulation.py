"""Simulated participants, so that a study's report can be seen before anyone is recruited. They go
through the same services as people (registration, headphone check, every trial, finishing with the
exclusion rule) and are flagged `simulated` everywhere: database, exports, reports.

The rater model: every soundtrack has a latent quality q in [0, 1] (its system's, by default 1 for
real and 0.5 for any other; anchors 0). A rater has a discrimination k, a rating bias b and a
response criterion c; a share of raters is careless and answers at random, quickly.
each task type answers from these (`TaskType.simulated_answer`):
- 2AFC: P(choose the real one) = σ(k·(q_real − q_other));
- single stimulus: P("real") = σ(k·(q − 0.5) + c);
- ratings: round(1 + 4q + b + noise), clipped to 1–5;
- ranking: by q plus noise.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field

from tqdm import tqdm

from studyapp import selectors
from studyapp.models import Participant, Study, System, Trial
from studyapp.services.participants import (
    SCREENING_TRIALS,
    ParticipationError,
    participant_finish,
    participant_record_screening,
    participant_register,
    response_record,
)
from studyapp.tasks.base import Answer, Rater

ANCHOR_QUALITY = 0.0


@dataclass(frozen=True)
class RaterModel:
    quality: dict[str, float] = field(default_factory=dict)  # system name -> q; default real 1, others .5
    discrimination: float = 6.0  # mean k
    discrimination_sd: float = 1.5
    bias_sd: float = 0.5  # rating offset between raters
    noise: float = 0.7  # rating noise within a rater
    criterion_sd: float = 0.5
    careless: float = 0.1  # share of raters answering at random (they fail catch trials)
    screening_failure: float = 0.05  # share failing the headphone check

    def quality_of(self, system: System, variant: str) -> float:
        if variant:
            return ANCHOR_QUALITY
        return self.quality.get(system.name, 1.0 if system.is_real else 0.5)


@dataclass
class SimulationReport:
    participants: int = 0
    finished: int = 0
    excluded: int = 0
    screening_failed: int = 0
    turned_away: int = 0


def _answer(trial: Trial, model: RaterModel, rater: Rater, rng: random.Random) -> Answer:
    presented = list(trial.presented.select_related("stimulus__system", "stimulus__clip"))
    quality = [model.quality_of(p.stimulus.system, p.stimulus.variant) for p in presented]
    shown = selectors.trial_shown(trial)
    plays = [1 + (rng.random() < 0.15) for _ in presented]
    rt = int(rng.uniform(150, 400)) if rater.careless else int(rng.lognormvariate(math.log(1500), 0.4))
    answer = trial.task.task_type.simulated_answer(quality, shown, rater, rng)
    return dataclasses.replace(answer, play_counts=plays, response_time_ms=rt)


def study_simulate(
    study: Study, *, n: int, model: RaterModel | None = None, seed: int = 0, progress: bool = True
) -> SimulationReport:
    """Add `n` simulated participants to an open study (each a transaction of its own)."""
    model = model or RaterModel()
    unknown = sorted(set(model.quality) - set(study.systems.values_list("name", flat=True)))
    if unknown:
        raise ValueError(f"quality given for systems not in the study: {', '.join(unknown)}")
    rng = random.Random(f"{study.slug}:{seed}")
    report = SimulationReport()
    for _ in tqdm(range(n), desc=f"simulating {study.slug}", disable=not progress):
        rater = Rater(
            k=max(0.5, rng.gauss(model.discrimination, model.discrimination_sd)),
            b=rng.gauss(0, model.bias_sd),
            c=rng.gauss(0, model.criterion_sd),
            careless=rng.random() < model.careless,
            noise=model.noise,
        )
        try:
            participant = participant_register(study=study, simulated=True, user_agent="vis2sound simulator")
        except ParticipationError:
            report.turned_away += 1  # every cell has its quota
            continue
        report.participants += 1
        if study.screening:
            fails = rng.random() < model.screening_failure
            correct = SCREENING_TRIALS - (rng.randint(2, 4) if fails else rng.choice([0, 0, 0, 1]))
            try:
                participant = participant_record_screening(participant=participant, correct=correct)
            except ParticipationError:
                report.turned_away += 1
                continue
            if participant.status == Participant.Status.SCREENING_FAILED:
                report.screening_failed += 1
                continue
        for trial in participant.trials.select_related("task").order_by("index"):
            response_record(
                participant=participant,
                index=trial.index,
                idempotency_key=f"sim-{participant.public_id}-{trial.index}",
                answer=_answer(trial, model, rater, rng),
            )
        participant = participant_finish(participant=participant, questionnaire={"simulated": True})
        report.finished += 1
        report.excluded += int(participant.excluded)
    return report
