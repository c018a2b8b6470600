"""Turning validation library errors into field problems that name the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from promoforge.domain.errors import FieldProblem

_TITLES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "oneof",
    "enum": "oneof",
    "json_invalid": "invalid_json",
    "format": "format",
}


def _is_validator_tag(part: Any) -> bool:
    """Tell whether a location part is a tag a union or validator added (e.g. 'list[str]'), not a field."""
    if not isinstance(part, str):
        return False
    if part.startswith(("function-", "lax-", "union[")):
        return True
    return "[" in part and part.endswith("]") and not part.startswith("page[")


def dotted_path(location: Sequence[Any], prefix: str = "") -> str:
    """Join a location such as ('codes', 0, 'code') into 'prefix.codes.0.code'."""
    parts = [prefix] if prefix else []
    parts += [str(part) for part in location if not _is_validator_tag(part)]
    return ".".join(parts)


def _title(error_type: str) -> str:
    if error_type in _TITLES:
        return _TITLES[error_type]
    if error_type.endswith("_type") or error_type.endswith("_parsing"):
        return "type"
    if "too_long" in error_type or "too_short" in error_type:
        return "length"
    if error_type.startswith(("greater_than", "less_than")):
        return "range"
    return "invalid"


def field_problems(errors: Iterable[Mapping[str, Any]], *, prefix: str = "") -> list[FieldProblem]:
    """Return one problem per validation error, its source the dotted path of the field."""
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        source = dotted_path(error.get("loc", ()), prefix) or prefix or "data"
        error_type = str(error.get("type", "invalid"))
        if error_type == "missing":
            detail = f"{source} is required"
        else:
            message = str(error.get("msg", "is invalid"))
            message = message.removeprefix("Value error, ")
            detail = f"{source}: {message}"
        key = (source, detail)
        if key not in seen:
            seen.add(key)
            problems.append(FieldProblem(source=source, detail=detail, title=_title(error_type)))
    return problems
