"""Typed comparisons of list filters as SQL conditions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from promoforge.domain.queries import Comparison, Operator


def comparison_condition(column: ColumnElement[Any], comparison: Comparison) -> ColumnElement[bool]:
    """The condition a comparison puts on a column; `like` turns `*` into SQL wildcards, others literal."""
    value = comparison.value
    match comparison.operator:
        case Operator.EQ:
            return column == value
        case Operator.GT:
            return column > value
        case Operator.GE:
            return column >= value
        case Operator.LT:
            return column < value
        case Operator.LE:
            return column <= value
        case Operator.LIKE:
            text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return column.like(text.replace("*", "%"), escape="\\")
