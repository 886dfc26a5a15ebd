"""A study described in a YAML file, for `manage.py create_study`. DRF serializers check the shape and
the values and name the field of every problem (`tasks[1].trials_per_participant: …`); whether the
systems, clips and stimuli exist and the design can be balanced is checked by the service.

    title: Drum and fireworks, ours vs. real
    slug: drum-fireworks-2026
    consent: |
      You are invited to take part in …
    instructions: |
      You will watch short videos …
    systems: [real, ours-frame, ours-flow]      # system names, or "all"
    clips:                                      # optional; default: every clip with those systems' stimuli
      categories: [drum, fireworks]
      split: test
    platform: prolific                          # none | prolific | mturk
    completion_url: https://app.prolific.com/submissions/complete?cc=ABC123
    completion_code: ABC123                     # optional; generated when absent
    screenout_code: SCR123                      # optional: failed headphone check (and/or screenout_url)
    full_code: FULL123                          # optional: arrived when every cell was full (and/or full_url)
    screening: true
    seed: 0
    plan_hold_minutes: 60                       # how long a participant who leaves holds their cells
    tasks:
      - type: turing_2afc     # a registered task type (studyapp.tasks)
        trials_per_participant: 8
        practice_trials: 1
        catch_rate: 0.125
        max_failed_catch: 0
        target_per_cell: 20                     # optional quota
        question: Which video has the real sound?   # optional; a default per type
        scale_labels: [...]                     # rating tasks, optional; five labels
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from rest_framework import serializers

from studyapp.tasks import registry
from studyapp.validation import (
    Names,
    StrictBoolean,
    StrictFraction,
    StrictInteger,
    StrictSerializer,
    Text,
    error_lines,
)

PLATFORMS = ("none", "prolific", "mturk")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


class SpecError(ValueError):
    """Every problem of a study file, one per line, each naming its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class TaskSpec:
    type: str
    question: str
    scale_labels: list[str]
    trials_per_participant: int = 8
    practice_trials: int = 1
    catch_rate: float = 0.1
    max_failed_catch: int = 0
    target_per_cell: int | None = None


@dataclass(frozen=True)
class StudySpec:
    title: str
    slug: str
    consent: str
    instructions: str
    systems: list[str] | str  # names or "all"
    tasks: list[TaskSpec]
    categories: list[str] | None = None
    split: str = "test"
    clip_ids: list[str] | None = None
    platform: str = "none"
    completion_url: str = ""
    completion_code: str | None = None
    screenout_code: str = ""
    screenout_url: str = ""
    full_code: str = ""
    full_url: str = ""
    screening: bool = True
    seed: int = 0
    plan_hold_minutes: int = 60


class TaskType(serializers.Field):
    def to_internal_value(self, data: object) -> str:
        if data not in registry.names():
            raise serializers.ValidationError(f"{data!r} is not one of {', '.join(registry.names())}")
        return data

    def to_representation(self, value: str) -> str:
        return value


class TaskSerializer(StrictSerializer):
    mapping_expected = "expected a mapping with at least `type`"

    type = TaskType(error_messages={"required": "required, missing"})
    question = Text(required=False)
    scale_labels = Names(required=False)
    trials_per_participant = StrictInteger(minimum=1, default=8)
    practice_trials = StrictInteger(default=1)
    catch_rate = StrictFraction(default=0.1)
    max_failed_catch = StrictInteger(default=0)
    target_per_cell = StrictInteger(minimum=1, required=False, allow_null=True, default=None)

    def problems_across_fields(self, data: dict) -> dict[str, str]:
        if data.get("type") not in registry.names():
            return {}
        task_type = registry.get(data["type"])
        if "scale_labels" in data and not task_type.scale:
            return {"scale_labels": f"only rating tasks have a scale ({task_type.name} has none)"}
        labels = data.get("scale_labels")
        size = len(task_type.scale)
        if task_type.scale and isinstance(labels, list) and len(labels) != size:
            return {"scale_labels": f"expected {size} labels (1 to {size}), got {len(labels)}"}
        return {}

    def validate(self, data: dict) -> dict:
        task_type = registry.get(data["type"])
        labels = data.get("scale_labels") or list(task_type.scale)
        return data | {"scale_labels": labels, "question": data.get("question") or task_type.question}


class ClipsSerializer(StrictSerializer):
    mapping_expected = "expected a mapping (categories, split, ids)"

    categories = Names(required=False)
    split = Text(required=False, default="test")
    ids = Names(required=False)


class Systems(Names):
    def to_internal_value(self, data: object) -> list[str] | str:
        return data if data == "all" else super().to_internal_value(data)


class Platform(serializers.Field):
    def to_internal_value(self, data: object) -> str:
        if data not in PLATFORMS:
            raise serializers.ValidationError(f"{data!r} is not one of {', '.join(PLATFORMS)}")
        return data

    def to_representation(self, value: str) -> str:
        return value


class StudySerializer(StrictSerializer):
    mapping_expected = "the file must be a mapping of study fields (title, slug, tasks, …)"

    title = Text()
    slug = Text()
    consent = Text()
    instructions = Text()
    systems = Systems()
    clips = ClipsSerializer(required=False)
    platform = Platform(default="none")
    completion_url = Text(required=False, default="")
    completion_code = Text(required=False, default=None)
    screenout_code = Text(required=False, default="")
    screenout_url = Text(required=False, default="")
    full_code = Text(required=False, default="")
    full_url = Text(required=False, default="")
    screening = StrictBoolean(default=True)
    seed = StrictInteger(default=0)
    plan_hold_minutes = StrictInteger(minimum=1, maximum=7 * 24 * 60, default=60)
    tasks = TaskSerializer(
        many=True,
        allow_empty=False,
        error_messages={
            "required": "expected a non-empty list of tasks",
            "empty": "expected a non-empty list of tasks",
            "not_a_list": "expected a non-empty list of tasks",
        },
    )

    def validate_slug(self, slug: str) -> str:
        if not _SLUG.match(slug):
            raise serializers.ValidationError(
                f"{slug!r} may hold only letters, digits, - and _ (it is part of the link)"
            )
        return slug

    def validate_completion_url(self, url: str) -> str:
        if url and not url.startswith(("https://", "http://")):
            raise serializers.ValidationError(f"{url!r} is not an http(s) URL")
        return url

    validate_screenout_url = validate_completion_url
    validate_full_url = validate_completion_url

    def _code(self, code: str) -> str:
        if len(code) > 40:
            raise serializers.ValidationError(f"at most 40 characters, got {len(code)}")
        return code

    validate_screenout_code = _code
    validate_full_code = _code

    def problems_across_fields(self, data: dict) -> dict[str, str]:
        if data.get("platform") == "prolific" and not data.get("completion_url"):
            return {"completion_url": "required for Prolific (the study's completion URL)"}
        return {}


def parse_study(data: object, source: str = "study") -> StudySpec:
    """A validated StudySpec from parsed YAML/JSON; raises SpecError listing every problem."""
    serializer = StudySerializer(data=data)
    if not serializer.is_valid():
        raise SpecError(source, error_lines(serializer.errors))
    valid = serializer.validated_data
    clips = valid.get("clips") or {}
    return StudySpec(
        title=valid["title"],
        slug=valid["slug"],
        consent=valid["consent"],
        instructions=valid["instructions"],
        systems=valid["systems"],
        tasks=[TaskSpec(**task) for task in valid["tasks"]],
        categories=clips.get("categories"),
        split=clips.get("split") or "test",
        clip_ids=clips.get("ids"),
        platform=valid["platform"],
        completion_url=valid["completion_url"],
        completion_code=valid["completion_code"],
        screenout_code=valid["screenout_code"],
        screenout_url=valid["screenout_url"],
        full_code=valid["full_code"],
        full_url=valid["full_url"],
        screening=valid["screening"],
        seed=valid["seed"],
        plan_hold_minutes=valid["plan_hold_minutes"],
    )


def load_study_file(path: Path) -> StudySpec:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise SpecError(str(path), [f"cannot read the file: {error}"]) from None
    except yaml.YAMLError as error:
        raise SpecError(str(path), [f"not valid YAML: {error}"]) from None
    return parse_study(data, str(path))
