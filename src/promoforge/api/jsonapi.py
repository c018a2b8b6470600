"""EP conventions: envelopes, error documents, pagination links and the filter language."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from promoforge.domain.errors import FieldProblem, InvalidInput
from promoforge.domain.models import Page

DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 100
MAX_PAGE_OFFSET = 10_000
MAX_FILTERS = 10
MAX_FILTER_BYTES = 8 * 1024
FILTER_OPERATORS = frozenset({"eq", "like", "in", "gt", "ge", "lt", "le", "is_null"})
_TERM = re.compile(r"^\s*([a-z_]+)\s*\((.*)\)\s*$", re.DOTALL)


def timestamp(value: datetime) -> str:
    """Format a timestamp as RFC 3339 UTC with milliseconds."""
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def page_params(
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


def _page_link(request: Request, base_url: str, page: Page, offset: int) -> str:
    params = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key not in ("page[limit]", "page[offset]")
    ]
    params += [("page[offset]", str(offset)), ("page[limit]", str(page.limit))]
    return f"{base_url}{request.url.path}?{urlencode(params, safe='[](),:*')}"


def list_document(
    request: Request, base_url: str, data: Sequence[dict[str, Any]], page: Page, total: int
) -> dict[str, Any]:
    """Wrap a page of resources with `links` and `meta` as EP lists do."""
    pages = max(1, math.ceil(total / page.limit))
    last_offset = (pages - 1) * page.limit
    has_next = page.offset + page.limit < total
    return {
        "data": list(data),
        "links": {
            "current": _page_link(request, base_url, page, page.offset),
            "first": _page_link(request, base_url, page, 0),
            "last": _page_link(request, base_url, page, last_offset) if pages > 1 else None,
            "next": _page_link(request, base_url, page, page.offset + page.limit) if has_next else None,
            "prev": _page_link(request, base_url, page, max(page.offset - page.limit, 0))
            if page.offset
            else None,
        },
        "meta": {
            "page": {
                "limit": page.limit,
                "offset": page.offset,
                "current": page.offset // page.limit + 1,
                "total": pages,
            },
            "results": {"total": total},
        },
    }


@dataclass(frozen=True)
class FilterTerm:
    """One `op(field,value)` term."""

    operator: str
    field: str
    value: str


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


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _bad_filter(detail: str) -> InvalidInput:
    return InvalidInput(
        [FieldProblem("filter", f"Could not parse the supplied filter: {detail}", "Bad Request")]
    )


def parse_filter(text: str | None, allowed: dict[str, frozenset[str]]) -> dict[str, str]:
    """Parse `filter`, allowing only the given fields and their operators; return field -> value."""
    if text is None:
        return {}
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILTER_BYTES:
        raise _bad_filter("it is longer than 8 KB")
    terms = [t for t in _split_terms(text) if t.strip()]
    if not terms:
        raise _bad_filter("it is empty")
    if len(terms) > MAX_FILTERS:
        raise _bad_filter(f"at most {MAX_FILTERS} terms are allowed")
    result: dict[str, str] = {}
    for term in terms:
        match = _TERM.match(term)
        if not match:
            raise _bad_filter(f"{term.strip()!r} is not of the form op(field,value)")
        operator, arguments = match.group(1), match.group(2)
        field, comma, value = arguments.partition(",")
        field = field.strip()
        if operator not in FILTER_OPERATORS:
            raise _bad_filter(f"unknown operator {operator!r}")
        if field not in allowed:
            supported = ", ".join(sorted(allowed)) or "none"
            raise _bad_filter(f"filtering on {field!r} is not supported here (supported: {supported})")
        if operator not in allowed[field]:
            raise _bad_filter(f"operator {operator!r} is not supported for {field!r}")
        if not comma:
            raise _bad_filter(f"{term.strip()!r} has no value")
        if field in result:
            raise _bad_filter(f"{field!r} is filtered twice")
        result[field] = _unquote(value)
    return result
