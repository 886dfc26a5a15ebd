"""What a study is made of. Invariants that matter for the results live in the database (unique and
check constraints); the logic that writes these rows lives in `services`, the reads in `selectors`.

The answer key — which soundtrack of a trial is real, which system made it — is stored here and only
here: participant-facing code gets opaque ids (`Stimulus.public_id`, `Participant.public_id`).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from studyapp.tasks import TaskType, registry


def opaque_id() -> str:
    """128 random bits, hex: unguessable, and carries no order, time or system."""
    return secrets.token_hex(16)


def completion_code() -> str:
    return secrets.token_hex(4).upper()


class System(models.Model):
    """Where a soundtrack comes from: the real one, one of our models, or an imported external system."""

    class Kind(models.TextChoices):
        REAL = "real", "real soundtrack"
        OURS = "ours", "vis2sound model"
        EXTERNAL = "external", "external system"

    REAL_NAME = "real"

    name = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="real", name="real") | (~Q(kind="real") & ~Q(name="real")),
                name="only_the_real_system_is_real",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_real(self) -> bool:
        return self.kind == self.Kind.REAL


class Clip(models.Model):
    """A span of a source video that every system gives a soundtrack to."""

    clip_id = models.CharField(max_length=200)
    category = models.SlugField(max_length=80)
    split = models.CharField(max_length=20, default="test")
    source = models.CharField(max_length=1000, help_text="path of the source video on the server")
    start = models.FloatField(default=0.0)
    duration = models.FloatField()
    practice = models.BooleanField(
        default=False, help_text="used for practice trials (with feedback), never as a test trial"
    )
    catch = models.BooleanField(
        default=False,
        help_text="reserved for catch trials: a participant never judges it in a test trial, so a catch "
        "trial never replays the real soundtrack of a clip under test",
    )
    ground_truth = models.JSONField(
        default=dict, blank=True, help_text="e.g. event onset times, when the source knows them"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["category", "clip_id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "clip_id"], name="unique_clip_per_category"),
            models.CheckConstraint(condition=Q(duration__gt=0), name="clip_duration_positive"),
            models.CheckConstraint(condition=~Q(practice=True, catch=True), name="clip_practice_or_catch"),
        ]

    def __str__(self) -> str:
        return f"{self.category}/{self.clip_id}"


class Stimulus(models.Model):
    """A rendered participant-facing mp4: a clip with one system's soundtrack.

    The file lives at `stimuli/<public_id>.mp4`: nothing in its URL or name says which system made it.
    Anchors are the real soundtrack altered on purpose, for catch trials.
    """

    class Variant(models.TextChoices):
        AS_IS = "", "as is"
        SHIFT_EARLY = "shift_early", "sound 0.5 s early (sync anchor)"
        SHIFT_LATE = "shift_late", "sound 0.5 s late (sync anchor)"
        DEGRADED = "degraded", "low-passed + noise (fidelity anchor)"

    public_id = models.CharField(max_length=32, unique=True, default=opaque_id, editable=False)
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="stimuli")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="stimuli")
    variant = models.CharField(max_length=20, choices=Variant.choices, default="", blank=True)
    media = models.FileField(upload_to="stimuli/", max_length=200)
    fingerprint = models.CharField(
        max_length=64,
        help_text="sha256 of what it was rendered from; a re-import with the same inputs skips it",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clip", "system", "variant"]
        verbose_name_plural = "stimuli"
        constraints = [
            models.UniqueConstraint(
                fields=["clip", "system", "variant"], name="one_stimulus_per_clip_system"
            ),
            models.CheckConstraint(
                condition=Q(variant__in=["", "shift_early", "shift_late", "degraded"]), name="known_variant"
            ),
        ]

    def __str__(self) -> str:
        variant = f" [{self.variant}]" if self.variant else ""
        return f"{self.clip} · {self.system}{variant}"

    @property
    def role(self) -> str:
        """test, anchor (what only catch trials play) or practice."""
        if self.variant or self.clip.catch:
            return "anchor"
        return "practice" if self.clip.practice else "test"


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    class Platform(models.TextChoices):
        NONE = "none", "none (link only)"
        PROLIFIC = "prolific", "Prolific"
        MTURK = "mturk", "Amazon Mechanical Turk"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="in the participant link: /s/<slug>/")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    consent_text = models.TextField()
    instructions = models.TextField()
    systems = models.ManyToManyField(System, related_name="studies")
    clips = models.ManyToManyField(Clip, related_name="studies")
    seed = models.PositiveIntegerField(
        default=0,
        help_text="varies the participants' plans (with the server's secret, which keeps them unguessable)",
    )
    platform = models.CharField(max_length=10, choices=Platform.choices, default=Platform.NONE)
    completion_code = models.CharField(max_length=40, default=completion_code)
    completion_url = models.URLField(
        blank=True, help_text="where a finished participant is sent (Prolific: the completion URL)"
    )
    screenout_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="shown to a participant who fails the headphone check (Prolific: "
        "a screen-out completion code)",
    )
    screenout_url = models.URLField(blank=True, help_text="where a screened-out participant is sent")
    full_code = models.CharField(
        max_length=40, blank=True, help_text="shown to a participant who arrives when every cell is full"
    )
    full_url = models.URLField(blank=True, help_text="where a participant who arrives too late is sent")
    screening = models.BooleanField(default=True, help_text="headphone screening (Woods et al. 2017)")
    plan_hold_minutes = models.PositiveIntegerField(
        default=60,
        help_text="how long an unfinished participant's unanswered trials hold their places in the balanced "
        "design (and quotas) after their last activity; then they are released to newcomers",
    )
    sandbox = models.BooleanField(
        default=False,
        editable=False,
        help_text="a simulation copy made by simulate_participants: never served to people",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    """One part of a study: trials of one task type (studyapp.tasks), with its settings."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField(default=0)
    type = models.CharField(max_length=20, choices=registry.choices)
    question = models.CharField(max_length=300)
    scale_labels = models.JSONField(default=list, blank=True, help_text="rating tasks: 5 labels, 1 to 5")
    trials_per_participant = models.PositiveSmallIntegerField(default=8)
    practice_trials = models.PositiveSmallIntegerField(default=1)
    catch_rate = models.FloatField(default=0.1, help_text="catch trials per test trial (0 to 1)")
    max_failed_catch = models.PositiveSmallIntegerField(
        default=0, help_text="exclusion rule: a participant failing more catch trials than this is excluded"
    )
    target_per_cell = models.PositiveIntegerField(
        null=True, blank=True, help_text="quota: trials per system × category cell; empty = no limit"
    )

    class Meta:
        ordering = ["study", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "order"], name="unique_task_order"),
            models.CheckConstraint(condition=Q(catch_rate__gte=0, catch_rate__lte=1), name="catch_rate_0_1"),
            models.CheckConstraint(condition=Q(trials_per_participant__gt=0), name="some_trials"),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug} #{self.order} {self.type}"

    @property
    def task_type(self) -> TaskType:
        return registry.get(self.type)

    @property
    def is_rating(self) -> bool:
        return self.task_type.is_rating


class Participant(models.Model):
    class Status(models.TextChoices):
        CONSENTED = "consented"
        SCREENING_FAILED = "screening_failed"
        IN_PROGRESS = "in_progress"
        FINISHED = "finished"

    public_id = models.CharField(max_length=32, unique=True, default=opaque_id, editable=False)
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    number = models.PositiveIntegerField(help_text="order of arrival in the study; drives the rotation")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONSENTED)
    prolific_pid = models.CharField(max_length=64, blank=True)
    prolific_study_id = models.CharField(max_length=64, blank=True)
    prolific_session_id = models.CharField(max_length=64, blank=True)
    mturk_worker_id = models.CharField(max_length=64, blank=True)
    mturk_assignment_id = models.CharField(max_length=64, blank=True)
    mturk_hit_id = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    screening_score = models.PositiveSmallIntegerField(null=True, blank=True)
    screening_passed = models.BooleanField(null=True, blank=True)
    questionnaire = models.JSONField(default=dict, blank=True)
    excluded = models.BooleanField(default=False)
    exclusion_reason = models.TextField(blank=True)  # names every failed task rule: no length to outgrow
    simulated = models.BooleanField(default=False, help_text="made by simulate_participants, not a person")
    started_at = models.DateTimeField(auto_now_add=True)
    last_active_at = models.DateTimeField(
        null=True, blank=True, help_text="last consent, screening or answer: how long their plan is held"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="unique_participant_number"),
            models.UniqueConstraint(
                fields=["study", "prolific_pid"],
                condition=~Q(prolific_pid=""),
                name="one_session_per_prolific_participant",
            ),
            models.UniqueConstraint(
                fields=["study", "mturk_worker_id"],
                condition=~Q(mturk_worker_id=""),
                name="one_session_per_mturk_worker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug} P{self.number:03d}"


class Trial(models.Model):
    """One planned trial of a participant, created when they start. `answer_key` is server-only."""

    class Kind(models.TextChoices):
        PRACTICE = "practice"
        TEST = "test"
        CATCH = "catch"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="trials")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="trials")
    index = models.PositiveIntegerField(help_text="position in the participant's whole sequence")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="trials")
    system = models.ForeignKey(
        System,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trials",
        help_text="the system under test (2AFC: the generated one); empty for ranking",
    )
    stimuli = models.ManyToManyField(Stimulus, through="TrialStimulus", related_name="trials")
    answer_key = models.JSONField(default=dict, help_text="never sent to a participant")
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="the server's clock when it first sent this trial to the participant"
    )

    class Meta:
        ordering = ["participant", "index"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "index"], name="unique_trial_index"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} trial {self.index}"


class TrialStimulus(models.Model):
    """The stimuli of a trial in the order they are shown (A, B, … )."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="presented")
    position = models.PositiveSmallIntegerField()
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="presentations")

    class Meta:
        ordering = ["trial", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "position"], name="unique_trial_position"),
        ]

    def __str__(self) -> str:
        return f"{self.trial} position {self.position}"


class Response(models.Model):
    """A participant's answer to one trial: at most one per trial, enforced by the database."""

    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="response")
    idempotency_key = models.CharField(max_length=64, unique=True)
    choice = models.PositiveSmallIntegerField(null=True, blank=True, help_text="2AFC: position chosen")
    judged_real = models.BooleanField(null=True, blank=True, help_text="single stimulus: 'real'?")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    ranking = models.JSONField(null=True, blank=True, help_text="positions, best first")
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    play_counts = models.JSONField(default=list, blank=True, help_text="plays per position")
    client_time = models.DateTimeField(null=True, blank=True)
    server_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trial"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"response to {self.trial}"
