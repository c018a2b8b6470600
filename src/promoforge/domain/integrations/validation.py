"""Collecting the 422 problems of one integrations request (integrations D-I3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from promoforge.domain.errors import FieldProblem, IntegrationInvalid

VALIDATION_ERROR = "Validation Error"

T = TypeVar("T")


def problem(source: str, detail: str) -> FieldProblem:
    """One Validation Error problem at a JSON path."""
    return FieldProblem(source=source, detail=detail, title=VALIDATION_ERROR)


class Problems:
    """The problems found so far in one request; raised together at the end."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, source: str, detail: str) -> None:
        """Record one problem."""
        self.found.append(problem(source, detail))

    def check(self, parse: Callable[[], T]) -> T | None:
        """Run one parser, keeping its problems instead of raising them; None when it failed."""
        try:
            return parse()
        except IntegrationInvalid as error:
            self.found.extend(error.problems)
            return None

    def raise_if_any(self) -> None:
        """Raise IntegrationInvalid with every problem recorded, if there is one."""
        if self.found:
            raise IntegrationInvalid(list(self.found))
