"""DRF building blocks for the inputs people write by hand (study files) or browsers send (answers):
strict fields that take only the JSON/YAML type asked for (no "3" for 3, no true for 1) and say what
they got, serializers that name unknown fields instead of ignoring them, and one flattening of DRF's
nested errors into lines that name their field: `tasks[1].catch_rate: expected …`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

REQUIRED = "required, missing"


class StrictInteger(serializers.Field):
    def __init__(self, *, minimum: int = 0, maximum: int | None = None, **kwargs: Any) -> None:
        self.minimum, self.maximum = minimum, maximum
        kwargs.setdefault("error_messages", {"required": REQUIRED})
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        too_big = self.maximum is not None and isinstance(data, int) and data > self.maximum
        if isinstance(data, bool) or not isinstance(data, int) or data < self.minimum or too_big:
            upper = f" and ≤ {self.maximum}" if self.maximum is not None else ""
            raise serializers.ValidationError(
                f"expected a whole number ≥ {self.minimum}{upper}, got {data!r}"
            )
        return data

    def to_representation(self, value: int) -> int:
        return value


class StrictFraction(serializers.Field):
    """A number from 0 to 1."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or not 0 <= data <= 1:
            raise serializers.ValidationError(f"expected a number from 0 to 1, got {data!r}")
        return float(data)

    def to_representation(self, value: float) -> float:
        return value


class StrictBoolean(serializers.Field):
    def __init__(self, *, message: str = "expected true or false", **kwargs: Any) -> None:
        self.message = message
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise serializers.ValidationError(f"{self.message}, got {data!r}")
        return data

    def to_representation(self, value: bool) -> bool:
        return value


class Text(serializers.Field):
    """Non-empty text, stripped."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": REQUIRED})
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(f"expected non-empty text, got {data!r}")
        return data.strip()

    def to_representation(self, value: str) -> str:
        return value


class Names(serializers.Field):
    """A non-empty list of non-empty strings."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": REQUIRED})
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list) or not data or not all(isinstance(v, str) and v for v in data):
            raise serializers.ValidationError(f"expected a non-empty list of names, got {data!r}")
        return data

    def to_representation(self, value: list[str]) -> list[str]:
        return value


class StrictSerializer(serializers.Serializer):
    """Names every field it does not know, and refuses a body that is not a mapping."""

    mapping_expected = "expected a mapping"

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {serializers.api_settings.NON_FIELD_ERRORS_KEY: [self.mapping_expected]}
            )
        unknown = sorted(set(data) - set(self.fields))
        errors: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            errors = dict(error.detail)
            value = None
        for key, message in self.problems_across_fields(data).items():
            errors.setdefault(key, [message])
        for key in unknown:
            errors[key] = [f"unknown field; expected one of {', '.join(sorted(self.fields))}"]
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def problems_across_fields(self, data: dict) -> dict[str, str]:
        """Checks that need several fields, run on the raw mapping so that they are reported beside
        the fields' own problems rather than only once those are fixed."""
        return {}


def error_lines(detail: Any, prefix: str = "") -> list[str]:
    """DRF's nested error detail as `field.sub[2].name: message` lines, in field order."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            if key == serializers.api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix.rstrip(".")
            elif isinstance(key, int):  # a list's item (DRF reports them by index)
                name = f"{prefix.rstrip('.')}[{key}]"
            else:
                name = f"{prefix}{key}"
            lines.extend(
                error_lines(value, f"{name}." if isinstance(value, dict | list) and _nested(value) else name)
            )
        return lines
    if isinstance(detail, list):
        if _nested(detail):
            lines = []
            for index, item in enumerate(detail):
                if item:
                    lines.extend(error_lines(item, f"{prefix.rstrip('.')}[{index}]."))
            return lines
        name = prefix.rstrip(".")
        return [f"{name}: {message}" if name else str(message) for message in detail]
    name = prefix.rstrip(".")
    return [f"{name}: {detail}" if name else str(detail)]


def _nested(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


class StrictIntegerSchema(OpenApiSerializerFieldExtension):
    """How the OpenAPI schema (drf-spectacular) shows a StrictInteger: an integer with its range."""

    target_class = StrictInteger

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        schema: dict = {"type": "integer", "minimum": self.target.minimum}
        if self.target.maximum is not None:
            schema["maximum"] = self.target.maximum
        return schema


class StrictBooleanSchema(OpenApiSerializerFieldExtension):
    target_class = StrictBoolean

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        return {"type": "boolean"}


class StrictFractionSchema(OpenApiSerializerFieldExtension):
    target_class = StrictFraction

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        return {"type": "number", "minimum": 0, "maximum": 1}
