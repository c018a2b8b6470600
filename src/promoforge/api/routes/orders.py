"""Checkout (C3), orders (O1-O4) and promotion usages (E15-E17)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import (
    PROMOTION_ID,
    AdminDep,
    BaseUrlDep,
    CodeInPathDep,
    ContainerDep,
    PromotionIdDep,
    current_principal,
)
from promoforge.api.documents.common import DocumentResponse, error_responses, list_document
from promoforge.api.documents.events import encoded_order
from promoforge.api.documents.orders.requests import AnonymizeRequest, CheckoutRequest, OrderUpdateRequest
from promoforge.api.documents.orders.responses import (
    AnonymizedDocument,
    OrderDocument,
    OrderItemsDocument,
    OrderListDocument,
    UsageListDocument,
    order_document,
    order_items_document,
    order_resource,
    usage_resource,
)
from promoforge.api.errors import error_item
from promoforge.api.jsonapi import (
    EQ_ONLY,
    AllowedFilters,
    FilterOperator,
    FilterQuery,
    Filters,
    PageDep,
    include_names,
    parse_filter,
)
from promoforge.api.routes.carts import CartIdDep, ShopperDep
from promoforge.api.telemetry import record_checkout
from promoforge.bootstrap import Container
from promoforge.domain.errors import FieldProblem, InvalidInput, OrderNotFound
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.orders import NEWEST_FIRST, ORDER_SORT_FIELDS
from promoforge.domain.queries import Comparison, Operator, Page, SortKey
from promoforge.services import checkout, orders, usages
from promoforge.services.auth import Principal
from promoforge.services.orders import OrderOwner

router = APIRouter(
    tags=["Checkout and orders"],
    route_class=JSONBodyRoute,
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 503),
)

PrincipalDep = Annotated[Principal, Depends(current_principal)]
ORDER_INCLUDES = frozenset({"items", "promotions"})
EQ_LIKE = frozenset({FilterOperator.EQ, FilterOperator.LIKE})
RANGES = frozenset({FilterOperator.GT, FilterOperator.GE, FilterOperator.LT, FilterOperator.LE})
ORDER_FILTERS: AllowedFilters = {
    "status": EQ_ONLY,
    "payment": EQ_ONLY,
    "shipping": EQ_ONLY,
    **{
        name: EQ_LIKE
        for name in (
            "name",
            "email",
            "customer_id",
            "account_id",
            "account_member_id",
            "external_ref",
            "order_number",
        )
    },
    "with_tax": RANGES,
    "without_tax": RANGES,
    "currency": EQ_ONLY,
    "product_id": EQ_ONLY,
    "product_sku": EQ_ONLY,
    "created_at": RANGES,
    "updated_at": RANGES,
}
ORDER_AMOUNTS = frozenset({"with_tax", "without_tax"})
TIMES = frozenset({"created_at", "updated_at", "used_on"})
USAGE_FILTERS: AllowedFilters = {"id": EQ_ONLY, "code": EQ_ONLY, "used_on": RANGES | EQ_ONLY}
USAGE_SORTS = frozenset({"code", "customer_id", "order_id", "customer_email", "id", "used_on", "updated_at"})
CODE_USAGE_SORTS = frozenset({"used_on"})
MAX_IDEMPOTENCY_KEY = 255
# Amount filters take ASCII digits only (int() would also read "1_000" and other scripts' digits), and
# no more than a signed 64-bit column holds: every stored amount is far below that (MAX_AMOUNT).
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")
FILTER_AMOUNT_LIMIT = 2**63 - 1


async def order_id(order_id: Annotated[str, Path(alias="orderID", max_length=64)]) -> str:
    """An order id: a UUID, or 404 like any order the store does not have."""
    parsed = parse_uuid(order_id)
    if parsed is None:
        raise OrderNotFound(orders.ORDER_NOT_FOUND)
    return parsed


async def order_includes(include: Annotated[str | None, Query(max_length=200)] = None) -> frozenset[str]:
    """`include=items,promotions`."""
    return include_names(include, ORDER_INCLUDES)


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=1024)] = None,
) -> str | None:
    """D13's key: 1-255 characters."""
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput([FieldProblem("Idempotency-Key", "Idempotency-Key must be 1-255 characters")])
    return key


async def owner(principal: PrincipalDep, who: ShopperDep) -> OrderOwner:
    """Whose orders the caller reads: all for a trusted caller, else those its headers prove (D10)."""
    return OrderOwner(trusted=principal.is_admin, customer_id=who.customer_id, account_id=who.account_id)


OrderIdDep = Annotated[str, Depends(order_id)]
OrderIncludeDep = Annotated[frozenset[str], Depends(order_includes)]
OwnerDep = Annotated[OrderOwner, Depends(owner)]


@router.post(
    "/v2/carts/{cartID}/checkout",
    status_code=201,
    summary="Check a cart out: an order, and the uses of the codes that gave a discount (C3)",
    response_model=None,
    responses={201: {"model": OrderDocument, "description": "The order with its items"}},
)
def checkout_cart(
    cart: CartIdDep,
    body: CheckoutRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    who: ShopperDep,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> Response:
    """C3; a repeat with the same `Idempotency-Key` returns the first order (D13)."""
    party = checkout.checkout_party(body.data.buyer(), who, trusted=principal.is_admin)
    shopper = who
    if principal.is_admin and party.customer_id and party.customer_id != who.customer_id:
        # A shop's back end is trusted: the customer it names counts for `user` codes (D10).
        shopper = replace(who, customer_id=party.customer_id)
    view = checkout.checkout(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        details=body.details(party),
        shopper=shopper,
        idempotency_key=key,
        now=container.clock(),
    )
    record_checkout(view)
    return Response(encoded_order(view), 201, media_type="application/json")


@router.get(
    "/v2/orders",
    summary="List orders, newest first or by `sort` (O3)",
    response_model=None,
    responses={200: {"model": OrderListDocument, "description": "A page of orders"}},
)
def list_orders(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    whose: OwnerDep,
    filter_: FilterQuery = None,
    sort: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """O3; an implicit token lists only the orders of the customer or account its headers prove.

    `sort` takes `created_at`, `with_tax`, `status`, `payment` or `shipping`, `-` first for descending;
    equal values are listed newest first.
    """
    if not whose.trusted and whose.customer_id is None and whose.account_id is None:
        raise InvalidInput(
            [
                FieldProblem(
                    "X-Moltin-Customer-Token",
                    "an implicit token lists only the orders of the customer or account its headers prove",
                )
            ]
        )
    comparisons = _comparisons(parse_filter(filter_, ORDER_FILTERS), amounts=ORDER_AMOUNTS)
    views, total = orders.list_orders(
        container.db,
        store_id=principal.store_id,
        page=page,
        comparisons=comparisons,
        owner=whose,
        sort=_sort(sort, ORDER_SORT_FIELDS, NEWEST_FIRST),
    )
    data = [order_resource(view.order, view.items) for view in views]
    return DocumentResponse(list_document(request, base, data, page, total))


@router.get(
    "/v2/orders/{orderID}",
    summary="Get an order (O1)",
    response_model=None,
    responses={200: {"model": OrderDocument, "description": "The order"}},
)
def get_order(
    order: OrderIdDep,
    include: OrderIncludeDep,
    principal: PrincipalDep,
    container: ContainerDep,
    whose: OwnerDep,
) -> Response:
    """O1."""
    view = orders.get_order(container.db, store_id=principal.store_id, order_id=order, owner=whose)
    return DocumentResponse(order_document(view.order, view.items, include))


@router.get(
    "/v2/orders/{orderID}/items",
    summary="Get an order's items (O2)",
    response_model=None,
    responses={200: {"model": OrderItemsDocument, "description": "The items"}},
)
def get_order_items(
    order: OrderIdDep,
    include: OrderIncludeDep,
    principal: PrincipalDep,
    container: ContainerDep,
    whose: OwnerDep,
) -> Response:
    """O2."""
    view = orders.get_order(container.db, store_id=principal.store_id, order_id=order, owner=whose)
    return DocumentResponse(order_items_document(view.order, view.items, include))


@router.put(
    "/v2/orders/{orderID}",
    summary="Cancel or fulfil an order, or change its references (O4, admin)",
    response_model=None,
    responses={200: {"model": OrderDocument, "description": "The order"}},
)
def update_order(
    order: OrderIdDep, body: OrderUpdateRequest, principal: AdminDep, container: ContainerDep
) -> Response:
    """O4; code uses are not given back (B20)."""
    view = orders.update_order(
        container.db,
        store_id=principal.store_id,
        order_id=order,
        changes=body.data.changes(),
        now=container.clock(),
    )
    return DocumentResponse(order_document(view.order, view.items, frozenset()))


@router.get(
    f"/v2/promotions/{PROMOTION_ID}/usages",
    summary="List a promotion's usages (E15)",
    response_model=None,
    responses={200: {"model": UsageListDocument, "description": "A page of usages"}},
)
def list_usages(
    request: Request,
    promotion_id: PromotionIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
    sort: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """E15: filters `eq(id)`, `eq(code)`, `gt|ge|lt|le(used_on)`; sort default `-updated_at`."""
    return _usage_page(
        request,
        base,
        container,
        principal,
        promotion_id,
        page,
        filter_,
        _sort(sort, USAGE_SORTS, SortKey("updated_at", descending=True)),
    )


@router.get(
    f"/v2/promotions/{PROMOTION_ID}/codes/{{code}}/usages",
    summary="List one code's usages (E16)",
    response_model=None,
    responses={200: {"model": UsageListDocument, "description": "A page of usages"}},
)
def list_code_usages(
    request: Request,
    promotion_id: PromotionIdDep,
    code: CodeInPathDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
    sort: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """E16: sort `used_on` (default) or `-used_on`."""
    sorting = _sort(sort, CODE_USAGE_SORTS, SortKey("used_on"))
    return _usage_page(request, base, container, principal, promotion_id, page, filter_, sorting, code=code)


@router.post(
    "/v2/promotions/usages/anonymize",
    summary="Anonymise usages (E17); unknown ids are listed in errors",
    response_model=None,
    responses={200: {"model": AnonymizedDocument, "description": "The anonymised usages"}},
)
def anonymize_usages(body: AnonymizeRequest, principal: AdminDep, container: ContainerDep) -> Response:
    """E17."""
    found, missing = usages.anonymize_usages(
        container.db,
        store_id=principal.store_id,
        usage_ids=body.data.usage_ids,
        updated_by=principal.client_id,
        now=container.clock(),
    )
    document: AnonymizedDocument = {"data": [usage_resource(u) for u in found]}
    if missing:
        document["errors"] = [
            error_item(
                404,
                "Could not anonymize some usages",
                "Usages not found.",
                meta={"usage_ids": missing},
                code="usages_not_found",
            )
        ]
    return DocumentResponse(document)


def _usage_page(
    request: Request,
    base: str,
    container: Container,
    principal: Principal,
    promotion_id: str,
    page: Page,
    filter_: str | None,
    sort: SortKey,
    *,
    code: str | None = None,
) -> Response:
    """A page of a promotion's or a code's usages as a list document."""
    found, total = usages.list_usages(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        page=page,
        comparisons=_comparisons(parse_filter(filter_, USAGE_FILTERS)),
        sort=sort,
        code=code,
    )
    return DocumentResponse(list_document(request, base, [usage_resource(u) for u in found], page, total))


def _comparisons(filters: Filters, *, amounts: frozenset[str] = frozenset()) -> list[Comparison]:
    """Filter terms with values of their field's type; 400 naming the filter for a value that is not."""
    comparisons: list[Comparison] = []
    for term in filters.terms:
        value: str | int | datetime = term.value
        if term.field in amounts:
            if not WHOLE_NUMBER.fullmatch(term.value) or not -FILTER_AMOUNT_LIMIT <= int(term.value) <= (
                FILTER_AMOUNT_LIMIT
            ):
                raise _bad_value(
                    f"{term.field} takes a whole amount in minor units between -{FILTER_AMOUNT_LIMIT} and "
                    f"{FILTER_AMOUNT_LIMIT}, not {term.value!r}"
                )
            value = int(term.value)
        elif term.field in TIMES:
            value = _time(term.field, term.value)
        comparisons.append(Comparison(term.field, Operator(term.operator.value), value))
    return comparisons


def _time(field: str, text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad_value(f"{field} takes a date (YYYY-MM-DD) or an RFC 3339 time, not {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _bad_value(f"{field}: {text!r} is out of range") from None


def _sort(text: str | None, allowed: frozenset[str], default: SortKey) -> SortKey:
    if text is None or not text.strip():
        return default
    descending = text.startswith("-")
    field = text.removeprefix("-")
    if field not in allowed:
        supported = ", ".join(sorted(allowed))
        raise InvalidInput(
            [FieldProblem("sort", f"cannot sort by {text!r} (supported: {supported}, with - for descending)")]
        )
    return SortKey(field, descending)


def _bad_value(detail: str) -> InvalidInput:
    return InvalidInput(
        [FieldProblem("filter", f"Could not parse the supplied filter: {detail}", "Bad Request")]
    )
