"""Documents every endpoint shares: the `errors` document, list links and meta, and their OpenAPI entries."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from promoforge.api.errors import MAX_ERROR_ITEMS

Resource = TypeVar("Resource")


class ErrorItem(BaseModel):
    """One problem: `source` names the field or parameter at fault, `code` is stable for programs."""

    status: int
    title: str
    code: str | None = None
    detail: str | None = None
    source: str | None = None
    meta: dict[str, Any] | None = None
    request_id: str | None = None


class ErrorsMeta(BaseModel):
    """How many problems there were, when the document lists only the first MAX_ERROR_ITEMS."""

    total_errors: int


class ErrorDocument(BaseModel):
    """The EP `errors` document of every failed request."""

    errors: list[ErrorItem] = Field(min_length=1, max_length=MAX_ERROR_ITEMS)
    meta: ErrorsMeta | None = None


class Links(BaseModel):
    """Pagination links of a list."""

    current: str
    first: str
    last: str | None
    next: str | None
    prev: str | None


class PageMeta(BaseModel):
    """Where this page sits."""

    limit: int
    offset: int
    current: int
    total: int


class ResultsMeta(BaseModel):
    """How many records match."""

    total: int


class ListMeta(BaseModel):
    """`meta` of a list."""

    page: PageMeta
    results: ResultsMeta


class ListDocument(BaseModel, Generic[Resource]):
    """A page of resources with pagination links and counts."""

    data: list[Resource]
    links: Links
    meta: ListMeta


class DataDocument(BaseModel, Generic[Resource]):
    """One resource wrapped in `data`."""

    data: Resource


_ERROR_DESCRIPTIONS = {
    400: "The request is malformed; `source` names the field, parameter or header",
    401: "No access token, or an invalid or expired one",
    403: "The token may not do this",
    404: "No such resource in the caller's store",
    409: "A conflicting write (a code that exists, a change made meanwhile)",
    413: "The request body is too large",
    422: "Well-formed but refused by a rule of the domain",
    429: "Too many failed code attempts or new carts; `Retry-After` says when to try again",
    503: "The database is unavailable or busy; retry shortly",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, each an `errors` document."""
    return {
        status: {"model": ErrorDocument, "description": _ERROR_DESCRIPTIONS[status]} for status in statuses
    }


# Every endpoint that reads a body or a token can answer these.
COMMON_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
