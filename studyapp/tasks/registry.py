"""Task types by name. The built-in ones register when `studyapp.tasks` is imported; a new type is
registered the same way (README: "Adding a task type")."""

from __future__ import annotations

from studyapp.tasks.base import TaskType

_TYPES: dict[str, TaskType] = {}
MAX_NAME = 20  # Task.type's column
MAX_SCALE = 5  # Response.rating holds 1 to 5


def register(task_type: TaskType) -> TaskType:
    name = getattr(task_type, "name", "")
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"{type(task_type).__name__}.name must be 1 to {MAX_NAME} characters, got {name!r}")
    if len(task_type.scale) > MAX_SCALE:
        raise ValueError(f"{name}: a scale of at most {MAX_SCALE} points (a response's rating is 1 to 5)")
    _TYPES[name] = task_type
    return task_type


def unregister(name: str) -> None:
    _TYPES.pop(name, None)


def get(name: str) -> TaskType:
    try:
        return _TYPES[name]
    except KeyError:
        raise KeyError(f"unknown task type {name!r}; known: {', '.join(_TYPES)}") from None


def names() -> tuple[str, ...]:
    return tuple(_TYPES)


def choices() -> list[tuple[str, str]]:
    """For Task.type (a callable, so a type registered later is a valid choice too)."""
    return [(t.name, t.label) for t in _TYPES.values()]
