"""The count-plus-page query every list endpoint runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, FromClause, Row, func, select

from promoforge.domain.queries import Page

T = TypeVar("T")


def count_and_page(
    connection: Connection,
    table: FromClause,
    condition: ColumnElement[bool],
    order_by: Sequence[ColumnElement[Any]],
    page: Page,
    to_record: Callable[[Row[Any]], T],
) -> tuple[list[T], int]:
    """Return one page of the rows matching `condition`, in `order_by` order, and how many match in all."""
    total = connection.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
    rows = connection.execute(
        select(table).where(condition).order_by(*order_by).limit(page.limit).offset(page.offset)
    ).all()
    return [to_record(row) for row in rows], int(total)
