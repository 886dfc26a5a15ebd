"""Writes on studies: create (from a spec file or the admin), open, close, and the simulation sandbox."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from studyapp import selectors
from studyapp.models import Clip, Participant, Response, Study, System, Task, Trial, TrialStimulus
from studyapp.study_spec import StudySpec


class StudyConfigurationError(ValueError):
    """The study cannot run as configured; `problems` name the field of each."""

    def __init__(self, study: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"study {study!r} cannot run as configured:\n" + "\n".join(f"  {p}" for p in problems)
        )


@transaction.atomic
def study_create(*, spec: StudySpec, replace_draft: bool = False) -> Study:
    """A draft study from a validated spec. Refuses (changing nothing) when the systems or clips it
    names do not exist or its design cannot be balanced. ``replace_draft`` rewrites a draft with the
    same slug; an open or closed study is never replaced."""
    existing = Study.objects.filter(slug=spec.slug).first()
    if existing is not None:
        if not replace_draft or existing.status != Study.Status.DRAFT or existing.participants.exists():
            raise StudyConfigurationError(
                spec.slug,
                [
                    f"slug: a study {spec.slug!r} exists already ({existing.status}); choose another slug"
                    + (
                        ""
                        if existing.status != Study.Status.DRAFT
                        else " or pass --replace to rewrite the draft"
                    )
                ],
            )
        existing.delete()
    problems = []
    if spec.systems == "all":
        systems = list(System.objects.filter(stimuli__isnull=False).distinct())
    else:
        systems = list(System.objects.filter(name__in=spec.systems))
        unknown = sorted(set(spec.systems) - {s.name for s in systems})
        if unknown:
            known = ", ".join(System.objects.values_list("name", flat=True)) or "none yet; run import_stimuli"
            problems.append(f"systems: unknown {', '.join(unknown)} (known: {known})")
    clips = Clip.objects.filter(stimuli__system__in=systems).distinct()
    if spec.clip_ids:
        clips = clips.filter(clip_id__in=spec.clip_ids)
        unknown = sorted(set(spec.clip_ids) - set(clips.values_list("clip_id", flat=True)))
        if unknown:
            problems.append(f"clips.ids: no stimuli for {', '.join(unknown)}")
    else:
        clips = clips.filter(split=spec.split) | clips.filter(practice=True) | clips.filter(catch=True)
    if spec.categories:
        clips = clips.filter(category__in=spec.categories)
        unknown = sorted(set(spec.categories) - set(clips.values_list("category", flat=True)))
        if unknown:
            problems.append(f"clips.categories: no clips of {', '.join(unknown)}")
    if problems:
        raise StudyConfigurationError(spec.slug, problems)
    study = Study.objects.create(
        title=spec.title,
        slug=spec.slug,
        consent_text=spec.consent,
        instructions=spec.instructions,
        platform=spec.platform,
        completion_url=spec.completion_url,
        screenout_code=spec.screenout_code,
        screenout_url=spec.screenout_url,
        full_code=spec.full_code,
        full_url=spec.full_url,
        screening=spec.screening,
        seed=spec.seed,
        plan_hold_minutes=spec.plan_hold_minutes,
        **({"completion_code": spec.completion_code} if spec.completion_code else {}),
    )
    study.systems.set(systems)
    study.clips.set(clips.distinct())
    for order, task in enumerate(spec.tasks):
        Task.objects.create(
            study=study,
            order=order,
            type=task.type,
            question=task.question,
            scale_labels=task.scale_labels,
            trials_per_participant=task.trials_per_participant,
            practice_trials=task.practice_trials,
            catch_rate=task.catch_rate,
            max_failed_catch=task.max_failed_catch,
            target_per_cell=task.target_per_cell,
        )
    problems = selectors.study_configuration_problems(study)
    if problems:
        raise StudyConfigurationError(spec.slug, problems)  # rolls the whole creation back
    return study


@transaction.atomic
def study_open(*, study: Study) -> Study:
    """Open for participants, after checking the configuration once more."""
    problems = selectors.study_configuration_problems(study)
    if problems:
        raise StudyConfigurationError(study.slug, problems)
    study.status = Study.Status.OPEN
    study.opened_at = study.opened_at or timezone.now()
    study.closed_at = None
    study.full_clean()
    study.save(update_fields=["status", "opened_at", "closed_at"])
    return study


@transaction.atomic
def study_close(*, study: Study) -> Study:
    """No new participants; those already in can finish."""
    study.status = Study.Status.CLOSED
    study.closed_at = timezone.now()
    study.save(update_fields=["status", "closed_at"])
    return study


SANDBOX_SUFFIX = "-sim"
SANDBOX_TITLE = "[SIMULATION — not served to people] "


def sandbox_slug(study: Study) -> str:
    return study.slug[: Study._meta.get_field("slug").max_length - len(SANDBOX_SUFFIX)] + SANDBOX_SUFFIX


@transaction.atomic
def study_sandbox(*, study: Study, reset: bool = False) -> Study:
    """The study's simulation copy ``<slug>-sim``: the same systems, clips, tasks and seed, open for
    simulated participants only (the participant pages answer 404 for it, and only simulated
    participants can register), so simulations never take a real study's places, quotas or arrival
    numbers. Made on first use; ``reset`` empties it and copies the study's settings again."""
    if study.sandbox:
        raise StudyConfigurationError(study.slug, ["this is a simulation sandbox already"])
    slug = sandbox_slug(study)
    existing = Study.objects.filter(slug=slug).first()
    if existing is not None and not existing.sandbox:
        raise StudyConfigurationError(
            study.slug, [f"slug: {slug!r} is a real study, so it cannot be this study's sandbox"]
        )
    if existing is not None and not reset:
        return existing
    if existing is not None:
        participants = Participant.objects.filter(study=existing)
        Response.objects.filter(trial__participant__in=participants).delete()
        TrialStimulus.objects.filter(trial__participant__in=participants).delete()
        Trial.objects.filter(participant__in=participants).delete()
        participants.delete()
        existing.delete()
    copy = Study.objects.create(
        title=(SANDBOX_TITLE + study.title)[: Study._meta.get_field("title").max_length],
        slug=slug,
        status=Study.Status.OPEN,
        opened_at=timezone.now(),
        consent_text=study.consent_text,
        instructions=study.instructions,
        seed=study.seed,
        platform=Study.Platform.NONE,
        screening=study.screening,
        plan_hold_minutes=study.plan_hold_minutes,
        sandbox=True,
    )
    copy.systems.set(study.systems.all())
    copy.clips.set(study.clips.all())
    for task in study.tasks.all():
        task.pk = None
        task.study = copy
        task.save()
    problems = selectors.study_configuration_problems(copy)
    if problems:
        raise StudyConfigurationError(study.slug, problems)
    return copy
