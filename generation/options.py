"""Command-line options derived from the config dataclasses, so a field is declared once — its name,
type, default and help (`option(default, "help")`) — and the CLI cannot drift from the config."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A config field with its command-line help (and optionally `choices`)."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def _base_type(hint: Any) -> type:
    """int for `int` and `int | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(t for t in typing.get_args(hint) if t is not type(None))
    return hint


def add_config_options(
    parser: argparse.ArgumentParser,
    config: type,
    *,
    exclude: tuple[str, ...] = (),
    flags: dict[str, str] | None = None,
    dest_prefix: str = "",
    defaults: dict[str, Any] | None = None,
) -> None:
    """One option per field of ``config`` (--field-name, or the flag given in ``flags``)."""
    hints = typing.get_type_hints(config)
    for field in dataclasses.fields(config):
        if field.name in exclude:
            continue
        flag = (flags or {}).get(field.name, "--" + field.name.replace("_", "-"))
        default = (defaults or {}).get(field.name, field.default)
        kind = _base_type(hints[field.name])
        help_text = field.metadata.get("help", "")
        keywords: dict[str, Any] = {"dest": dest_prefix + field.name}
        if default is dataclasses.MISSING:
            keywords["required"] = True
        else:
            keywords["default"] = default
            if default is not None:
                help_text = f"{help_text} (default {default})".strip()
        if kind is bool:
            keywords["action"] = argparse.BooleanOptionalAction
        else:
            keywords["type"] = kind
            if "choices" in field.metadata:
                keywords["choices"] = field.metadata["choices"]
        parser.add_argument(flag, help=help_text, **keywords)


def config_from_args(config: type, args: argparse.Namespace, *, dest_prefix: str = "", **fixed: Any) -> Any:
    """The config built from the parsed options (those ``add_config_options`` added), plus ``fixed``."""
    values = {
        field.name: getattr(args, dest_prefix + field.name)
        for field in dataclasses.fields(config)
        if hasattr(args, dest_prefix + field.name)
    }
    return config(**(values | fixed))
