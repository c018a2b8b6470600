"""What every document shares: timestamps, money, the `data`, list and `errors` envelopes, request basics,
and the JSON answer a document is sent as."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Annotated, Any, Generic, NotRequired, TypeVar
from urllib.parse import urlencode

import orjson
from babel.numbers import format_currency, get_currency_precision
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StrictStr,
)
from pydantic_core import CoreSchema

# pydantic describes only typing_extensions' TypedDict before Python 3.12.
from typing_extensions import TypedDict

from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.pricing import DisplayAmount
from promoforge.domain.queries import Page

# Each response document is a TypedDict: mypy checks that its renderer builds exactly its keys, and the same
# class describes it in OpenAPI. Nothing validates or converts a document on its way out (on a priced cart
# that would cost more than building it); DocumentResponse encodes it once.

Resource = TypeVar("Resource")

# An error document lists at most this many problems (10,000 bad codes would make one of over 1 MiB);
# `meta.total_errors` then says how many there were.
MAX_ERROR_ITEMS = 100


# Timestamps


def timestamp(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds: `2024-01-31T12:00:00.000Z`."""
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def timestamp_in_seconds(value: datetime) -> str:
    """RFC 3339 UTC in whole seconds, as EP writes carts, orders and promotion windows."""
    return value.isoformat(timespec="seconds")[:19] + "Z"


# Money (§2.1, B47)

FORMAT_LOCALE = "en_US"


class FormattedMoney(TypedDict):
    """`{amount, currency, formatted}`; `currency` is "" and `formatted` "0" in a cart without a currency."""

    amount: int
    currency: str
    formatted: str


class PriceDocument(TypedDict):
    """`{amount, currency, includes_tax}`."""

    amount: int
    currency: str
    includes_tax: bool


class DisplayBlock(TypedDict):
    """A line total and the per-unit figure rounded from it."""

    unit: FormattedMoney
    value: FormattedMoney


class DiscountByCode(FormattedMoney):
    """One code's discount, split by the promotions behind it."""

    constituents: dict[str, FormattedMoney]


@dataclass(frozen=True)
class MoneyStyle:
    """How `format_currency` writes a currency in the service's locale: its symbol before a grouped number."""

    symbol: str
    digits: int

    def write(self, amount: int) -> str:
        """The amount, in minor units, in this style."""
        sign = "-" if amount < 0 else ""
        if not self.digits:
            return f"{sign}{self.symbol}{abs(amount):,}"
        major, minor = divmod(abs(amount), 10**self.digits)
        return f"{sign}{self.symbol}{major:,}.{minor:0{self.digits}d}"


@cache
def money_style(currency: str) -> MoneyStyle | None:
    """The currency's style, learnt once from babel; None when babel writes it in another shape."""
    digits = get_currency_precision(currency)
    probe = 123_456_789
    written = str(format_currency(Decimal(probe).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    number = MoneyStyle("", digits).write(probe)
    if not written.endswith(number):
        return None
    style = MoneyStyle(written.removesuffix(number), digits)
    negative = str(format_currency(Decimal(-probe).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    return style if negative == style.write(-probe) else None


# Every read of a cart writes the same amounts again: the text of recent ones is kept.
@lru_cache(maxsize=16_384)
def formatted(amount: int, currency: str) -> str:
    """An amount in minor units as the shopper reads it: `$89.99`, `-$10.00`; `0` with no currency."""
    if not currency:
        return "0"
    # Babel is the reference; a pricing writes hundreds of amounts, so its shape is learnt once per currency.
    style = money_style(currency)
    if style is None:
        digits = get_currency_precision(currency)
        return str(format_currency(Decimal(amount).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    return style.write(amount)


class Amounts:
    """The amounts of one currency as one document shows them, each formatted once."""

    # A priced cart repeats a few amounts (every zero, each unit price) hundreds of times: the formatted
    # objects are shared within the document.

    __slots__ = ("_currency", "_shown")

    def __init__(self, currency: str) -> None:
        self._currency = currency
        self._shown: dict[int, FormattedMoney] = {}

    def formatted(self, amount: int) -> FormattedMoney:
        """`{amount, currency, formatted}`."""
        shown = self._shown.get(amount)
        if shown is None:
            currency = self._currency
            shown = {"amount": amount, "currency": currency, "formatted": formatted(amount, currency)}
            self._shown[amount] = shown
        return shown

    def price(self, amount: int, includes_tax: bool) -> PriceDocument:
        """`{amount, currency, includes_tax}`."""
        return {"amount": amount, "currency": self._currency, "includes_tax": includes_tax}

    def block(self, amount: DisplayAmount) -> DisplayBlock:
        """A display block: `{unit, value}`."""
        return {"unit": self.formatted(amount.unit), "value": self.formatted(amount.value)}

    def discount(self, parts: Mapping[str, int]) -> DiscountByCode:
        """A code's discount: the negated total of its promotions' `parts`, and each part."""
        total = self.formatted(-sum(parts.values()))
        return {
            "amount": total["amount"],
            "currency": total["currency"],
            "formatted": total["formatted"],
            "constituents": {promotion: self.formatted(-amount) for promotion, amount in parts.items()},
        }


# Envelopes


class Links(TypedDict):
    """Pagination links of a list."""

    current: str
    first: str
    last: str | None
    next: str | None
    prev: str | None


class PageMeta(TypedDict):
    """Where this page sits."""

    limit: int
    offset: int
    current: int
    total: int


class ResultsMeta(TypedDict):
    """How many records match."""

    total: int


class ListMeta(TypedDict):
    """`meta` of a list."""

    page: PageMeta
    results: ResultsMeta


class ListDocument(TypedDict, Generic[Resource]):
    """A page of resources with pagination links and counts."""

    data: list[Resource]
    links: Links
    meta: ListMeta


class DataDocument(TypedDict, Generic[Resource]):
    """One resource wrapped in `data`."""

    data: Resource


def _page_link(request: Request, base_url: str, page: Page, offset: int) -> str:
    params = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key not in ("page[limit]", "page[offset]")
    ]
    params += [("page[offset]", str(offset)), ("page[limit]", str(page.limit))]
    return f"{base_url}{request.url.path}?{urlencode(params, safe='[](),:*')}"


def list_document(
    request: Request, base_url: str, data: list[Resource], page: Page, total: int
) -> ListDocument[Resource]:
    """Wrap a page of resources with `links` and `meta` as EP lists do."""
    pages = max(1, math.ceil(total / page.limit))
    last_offset = (pages - 1) * page.limit
    has_next = page.offset + page.limit < total
    return {
        "data": data,
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


class ErrorItem(TypedDict):
    """One problem: `source` names the field or parameter at fault, `code` is stable for programs."""

    status: int
    title: str
    code: NotRequired[str]
    detail: NotRequired[str]
    source: NotRequired[str]
    meta: NotRequired[dict[str, Any]]
    request_id: NotRequired[str]


class ErrorsMeta(TypedDict):
    """How many problems there were, when the document lists only the first MAX_ERROR_ITEMS."""

    total_errors: int


class ErrorDocument(TypedDict):
    """The EP `errors` document of every failed request."""

    errors: Annotated[list[ErrorItem], Field(min_length=1, max_length=MAX_ERROR_ITEMS)]
    meta: NotRequired[ErrorsMeta]


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


@dataclass(frozen=True)
class Described:
    """A document field's description as `shape`, a type its rendered value always fits (a promotion's rules
    as the models of their JSON, a string as the enum it comes from); only OpenAPI reads it."""

    shape: Any

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """The schema of `shape` in place of the field's own."""
        return handler.generate_schema(self.shape)


# Requests


class RequestBody(BaseModel):
    """Unknown fields are ignored, as EP does (the SDK spreads arbitrary data into bodies)."""

    model_config = ConfigDict(extra="ignore")


def _check_uuid(value: str) -> str:
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValueError("must be a UUID")
    return parsed


UUIDText = Annotated[StrictStr, AfterValidator(_check_uuid)]


# JSON


class _PythonFloat(float):
    """A float orjson writes in another form than Python's repr (`1e-05`, not `0.00001`)."""


# orjson writes the floats between these in positional or unpadded exponent form; Python's repr as 1e-05.
_REPR_DIFFERS_BELOW = 1e-4


def with_python_floats(value: Any) -> Any:
    """Stored JSON (a shopper's custom data, a promotion's rules) with the floats whose text orjson would
    write differently marked, so the wire keeps the text it has always had; anything else is kept as is."""
    if isinstance(value, float):
        return _PythonFloat(value) if value and -_REPR_DIFFERS_BELOW < value < _REPR_DIFFERS_BELOW else value
    if isinstance(value, dict):
        return {key: with_python_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_python_floats(item) for item in value]
    return value


def _orjson_other(value: Any) -> Any:
    if isinstance(value, _PythonFloat):
        return orjson.Fragment(float.__repr__(value).encode())
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def encode(document: Any) -> bytes:
    """A document as compact UTF-8 JSON, with the text Python's `json` writes."""
    try:
        return orjson.dumps(document, default=_orjson_other)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which a shopper's custom data may hold.
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8")


class DocumentResponse(JSONResponse):
    """A JSON document, encoded once, as built: no validation or conversion on the way out."""

    def render(self, content: Any) -> bytes:
        """The document's JSON."""
        return encode(content)
