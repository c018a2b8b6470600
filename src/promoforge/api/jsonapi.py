"""EP's query conventions: `include`, paging and the filter language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query

from promoforge.domain.errors import FieldProblem, InvalidInput
from promoforge.domain.queries import Page

DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 100
MAX_PAGE_OFFSET = 10_000
MAX_FILTERS = 10
MAX_FILTER_BYTES = 8 * 1024
_OPERATOR = re.compile(r"\s*([a-z_]+)\s*\(")


def include_names(include: str | None, allowed: frozenset[str]) -> frozenset[str]:
    """The names of an `include=a,b` parameter; 400 naming `include` for any the endpoint cannot include."""
    if not include:
        return frozenset()
    names = frozenset(name.strip() for name in include.split(",") if name.strip())
    unknown = sorted(names - allowed)
    if unknown:
        raise InvalidInput([FieldProblem("include", f"cannot include {', '.join(unknown)}")])
    return names


async def page_params(
    limit: Annotated[
        int | None,
        Query(alias="page[limit]", ge=1, le=MAX_PAGE_LIMIT, description="Records per page (1-100)"),
    ] = None,
    offset: Annotated[
        int | None,
        Query(alias="page[offset]", ge=0, le=MAX_PAGE_OFFSET, description="Records to skip (0-10000)"),
    ] = None,
) -> Page:
    """Read `page[limit]` and `page[offset]`."""
    return Page(limit=DEFAULT_PAGE_LIMIT if limit is None else limit, offset=offset or 0)


PageDep = Annotated[Page, Depends(page_params)]
FilterQuery = Annotated[
    str | None, Query(alias="filter", max_length=MAX_FILTER_BYTES, description="e.g. eq(code,SUMMER10)")
]


class FilterOperator(StrEnum):
    """The operators of EP's filter language."""

    EQ = "eq"
    LIKE = "like"
    IN = "in"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    IS_NULL = "is_null"


EQ_ONLY = frozenset({FilterOperator.EQ})
COMPARISONS = frozenset(
    {FilterOperator.EQ, FilterOperator.GT, FilterOperator.GE, FilterOperator.LT, FilterOperator.LE}
)
AllowedFilters = Mapping[str, frozenset[FilterOperator]]


@dataclass(frozen=True)
class FilterTerm:
    """One `op(field,value)` term."""

    operator: FilterOperator
    field: str
    value: str


@dataclass(frozen=True)
class Filters:
    """The terms of a `filter` parameter, in the order given (all must hold)."""

    terms: tuple[FilterTerm, ...] = ()

    def on(self, field: str) -> list[FilterTerm]:
        """The terms on one field (a range is two terms on one field)."""
        return [term for term in self.terms if term.field == field]

    def equal_to(self, field: str) -> str | None:
        """The value of `eq(field,value)`, if given."""
        return next((term.value for term in self.on(field) if term.operator is FilterOperator.EQ), None)


def _split_terms(text: str) -> list[str]:
    """Split on ':' outside quotes and parentheses."""
    terms: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == ":" and depth == 0:
            terms.append("".join(current))
            current = []
            continue
        current.append(char)
    terms.append("".join(current))
    return terms


def _closing_parenthesis(text: str, start: int) -> int | None:
    """The index of the ')' that closes the '(' before `start`, outside quotes; None if it is missing."""
    depth = 0
    quote: str | None = None
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
    return None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _bad_filter(detail: str) -> InvalidInput:
    return InvalidInput(
        [FieldProblem("filter", f"Could not parse the supplied filter: {detail}", "Bad Request")]
    )


def _parse_term(term: str) -> FilterTerm:
    shown = term.strip()
    match = _OPERATOR.match(term)
    end = _closing_parenthesis(term, match.end()) if match else None
    if match is None or end is None:
        raise _bad_filter(f"{shown!r} is not of the form op(field,value)")
    if term[end + 1 :].strip():
        raise _bad_filter(f"{shown!r} is not one op(field,value) term; join terms with ':'")
    try:
        operator = FilterOperator(match.group(1))
    except ValueError:
        raise _bad_filter(f"unknown operator {match.group(1)!r}") from None
    field, comma, value = term[match.end() : end].partition(",")
    if not comma or not _unquote(value):
        raise _bad_filter(f"{shown!r} has no value")
    return FilterTerm(operator, field.strip(), _unquote(value))


def parse_filter(text: str | None, allowed: AllowedFilters) -> Filters:
    """Parse `filter`, allowing only the given fields, each with the operators it declares."""
    if text is None:
        return Filters()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILTER_BYTES:
        raise _bad_filter("it is longer than 8 KB")
    texts = [t for t in _split_terms(text) if t.strip()]
    if not texts:
        raise _bad_filter("it is empty")
    if len(texts) > MAX_FILTERS:
        raise _bad_filter(f"at most {MAX_FILTERS} terms are allowed")
    terms: list[FilterTerm] = []
    for term_text in texts:
        term = _parse_term(term_text)
        if term.field not in allowed:
            supported = ", ".join(sorted(allowed)) or "none"
            raise _bad_filter(f"filtering on {term.field!r} is not supported here (supported: {supported})")
        if term.operator not in allowed[term.field]:
            supported = ", ".join(sorted(allowed[term.field]))
            operator = term.operator.value
            raise _bad_filter(
                f"operator {operator!r} is not supported for {term.field!r} (supported: {supported})"
            )
        if any(t.field == term.field and t.operator is term.operator for t in terms):
            raise _bad_filter(f"{term.operator.value}({term.field},...) is given twice")
        terms.append(term)
    return Filters(tuple(terms))
