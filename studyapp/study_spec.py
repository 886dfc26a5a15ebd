"""A study described in a YAML file, for `manage.py create_study`. Parsing checks the shape and the
values and names the field of every problem (`tasks[1].trials_per_participant: …`); whether the
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
    screening: true
    seed: 0
    tasks:
      - type: turing_2afc     # turing_2afc | turing_single | sync_rating | fidelity_rating | ranking
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
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

TASK_TYPES = ("turing_2afc", "turing_single", "sync_rating", "fidelity_rating", "ranking")
PLATFORMS = ("none", "prolific", "mturk")

DEFAULT_QUESTIONS = {
    "turing_2afc": "Which video has the real sound?",
    "turing_single": "Is the sound of this video real or generated?",
    "sync_rating": "How well does the sound match the timing of what you see?",
    "fidelity_rating": "How realistic and natural does the sound seem?",
    "ranking": "Order the soundtracks from most to least realistic.",
}
DEFAULT_SCALES = {
    "sync_rating": [
        "Not at all in sync",
        "Poorly in sync",
        "Somewhat in sync",
        "Mostly in sync",
        "Perfectly in sync",
    ],
    "fidelity_rating": [
        "Very unnatural",
        "Unnatural",
        "Somewhat natural",
        "Natural",
        "Completely natural",
    ],
}
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
    screening: bool = True
    seed: int = 0


class _Fields:
    """Reads typed fields from a mapping, collecting problems instead of stopping at the first."""

    def __init__(self, data: dict, prefix: str, problems: list[str]) -> None:
        self.data, self.prefix, self.problems = data, prefix, problems

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self._name(key)}: required, missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.problems.append(f"{self._name(key)}: expected non-empty text, got {value!r}")
            return default
        return value.strip()

    def integer(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problems.append(f"{self._name(key)}: expected a whole number ≥ {minimum}, got {value!r}")
            return default
        return value

    def fraction(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.problems.append(f"{self._name(key)}: expected a number from 0 to 1, got {value!r}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{self._name(key)}: expected true or false, got {value!r}")
            return default
        return value

    def names(self, key: str, *, required: bool = False) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self._name(key)}: required, missing")
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{self._name(key)}: expected a non-empty list of names, got {value!r}")
            return None
        return value

    def unknown(self, allowed: set[str]) -> None:
        for key in sorted(set(self.data) - allowed):
            self.problems.append(
                f"{self._name(key)}: unknown field; expected one of {', '.join(sorted(allowed))}"
            )


def _task(raw: object, index: int, problems: list[str]) -> TaskSpec | None:
    prefix = f"tasks[{index}]."
    if not isinstance(raw, dict):
        problems.append(f"tasks[{index}]: expected a mapping with at least `type`, got {raw!r}")
        return None
    f = _Fields(raw, prefix, problems)
    f.unknown({spec_field.name for spec_field in fields(TaskSpec)})  # a task file's fields are TaskSpec's
    kind = raw.get("type")
    if kind not in TASK_TYPES:
        problems.append(f"{prefix}type: {kind!r} is not one of {', '.join(TASK_TYPES)}")
        return None
    labels = f.names("scale_labels") or DEFAULT_SCALES.get(kind, [])
    if "scale_labels" in raw and kind not in DEFAULT_SCALES:
        problems.append(f"{prefix}scale_labels: only rating tasks have a scale ({kind} has none)")
    elif kind in DEFAULT_SCALES and len(labels) != 5:
        problems.append(f"{prefix}scale_labels: expected 5 labels (1 to 5), got {len(labels)}")
    return TaskSpec(
        type=kind,
        question=f.text("question", required=False) or DEFAULT_QUESTIONS[kind],
        scale_labels=list(labels),
        trials_per_participant=f.integer("trials_per_participant", 8, minimum=1),
        practice_trials=f.integer("practice_trials", 1),
        catch_rate=f.fraction("catch_rate", 0.1),
        max_failed_catch=f.integer("max_failed_catch", 0),
        target_per_cell=f.integer("target_per_cell", None, minimum=1),
    )


def parse_study(data: object, source: str = "study") -> StudySpec:
    """A validated StudySpec from parsed YAML/JSON; raises SpecError listing every problem."""
    if not isinstance(data, dict):
        raise SpecError(source, ["the file must be a mapping of study fields (title, slug, tasks, …)"])
    problems: list[str] = []
    f = _Fields(data, "", problems)
    f.unknown(
        {
            "title",
            "slug",
            "consent",
            "instructions",
            "systems",
            "clips",
            "platform",
            "completion_url",
            "completion_code",
            "screening",
            "seed",
            "tasks",
        }
    )
    slug = f.text("slug")
    if slug and not _SLUG.match(slug):
        problems.append(f"slug: {slug!r} may hold only letters, digits, - and _ (it is part of the link)")
    systems: list[str] | str | None = data.get("systems")
    if systems != "all":
        systems = f.names("systems", required=True)
    clips = data.get("clips") or {}
    categories = clip_ids = None
    split = "test"
    if not isinstance(clips, dict):
        problems.append(f"clips: expected a mapping (categories, split, ids), got {clips!r}")
    else:
        c = _Fields(clips, "clips.", problems)
        c.unknown({"categories", "split", "ids"})
        categories, clip_ids = c.names("categories"), c.names("ids")
        split = c.text("split", required=False, default="test") or "test"
    platform = data.get("platform", "none")
    if platform not in PLATFORMS:
        problems.append(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    completion_url = f.text("completion_url", required=False)
    if completion_url and not completion_url.startswith(("https://", "http://")):
        problems.append(f"completion_url: {completion_url!r} is not an http(s) URL")
    if platform == "prolific" and not completion_url:
        problems.append("completion_url: required for Prolific (the study's completion URL)")
    raw_tasks = data.get("tasks")
    tasks = []
    if not isinstance(raw_tasks, list) or not raw_tasks:
        problems.append("tasks: expected a non-empty list of tasks")
    else:
        tasks = [t for i, raw in enumerate(raw_tasks) if (t := _task(raw, i, problems)) is not None]
    spec = StudySpec(
        title=f.text("title"),
        slug=slug,
        consent=f.text("consent"),
        instructions=f.text("instructions"),
        systems=systems or [],
        tasks=tasks,
        categories=categories,
        split=split,
        clip_ids=clip_ids,
        platform=platform if platform in PLATFORMS else "none",
        completion_url=completion_url,
        completion_code=f.text("completion_code", required=False) or None,
        screening=f.boolean("screening", True),
        seed=f.integer("seed", 0) or 0,
    )
    if problems:
        raise SpecError(source, problems)
    return spec


def load_study_file(path: Path) -> StudySpec:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise SpecError(str(path), [f"cannot read the file: {error}"]) from None
    except yaml.YAMLError as error:
        raise SpecError(str(path), [f"not valid YAML: {error}"]) from None
    return parse_study(data, str(path))
