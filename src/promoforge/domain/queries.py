"""What a list asks of storage: a page, typed comparisons from EP's filter language and a sort order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Operator(StrEnum):
    """The comparisons a list may be filtered with."""

    EQ = "eq"
    LIKE = "like"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"


@dataclass(frozen=True)
class Comparison:
    """`operator(field, value)` with the value already of the field's type; `like` takes `*` wildcards."""

    field: str
    operator: Operator
    value: str | int | datetime


@dataclass(frozen=True)
class SortKey:
    """One field to sort a list by."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return."""

    limit: int
    offset: int
