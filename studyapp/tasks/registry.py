"""Task types by name. The built-in ones register when `studyapp.tasks` is imported; a new type is
registered the same way (README: "Adding a task type")."""

from __future__ import annotations

from studyapp.tasks.base import TaskType

_TYPES: dict[str, TaskType] = {}


def register(task_type: TaskType) -> TaskType:
    if not getattr(task_type, "name", ""):
        raise ValueError(f"{type(task_type).__name__} has no name")
    _TYPES[task_type.name] = task_type
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


def all_types() -> tuple[TaskType, ...]:
    return tuple(_TYPES.values())


def choices() -> list[tuple[str, str]]:
    """For Task.type (a callable, so a type registered later is a valid choice too)."""
    return [(t.name, t.label) for t in _TYPES.values()]
