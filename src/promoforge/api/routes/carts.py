"""Carts, cart items and codes in carts: C1, C2, C4-C14 (carts.md §3-§5)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import BaseUrlDep, ContainerDep, current_principal
from promoforge.api.documents.carts.requests import (
    AddItemsRequest,
    BulkQuantityRequest,
    CartRequest,
    QuantityRequest,
)
from promoforge.api.documents.carts.responses import (
    CartDocument,
    CartListDocument,
    ItemsDocument,
    cart_document,
    cart_resource,
    items_document,
)
from promoforge.api.documents.common import DocumentResponse, error_responses, list_document
from promoforge.api.errors import error_items
from promoforge.api.jsonapi import PageDep, include_names
from promoforge.api.telemetry import CodeTallyDep
from promoforge.domain.carts import CART_ID_PATTERN, is_cart_id
from promoforge.domain.clients import client_network
from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.money import CURRENCY_CODES
from promoforge.domain.shoppers import Shopper
from promoforge.services import carts, shoppers
from promoforge.services.auth import Principal
from promoforge.services.carts import CartChanges

router = APIRouter(
    prefix="/v2/carts",
    tags=["Carts"],
    route_class=JSONBodyRoute,
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 503),
)

PrincipalDep = Annotated[Principal, Depends(current_principal)]
INCLUDES = frozenset({"items", "promotions", "tax_items", "custom_discounts"})


async def cart_id(
    cart_id: Annotated[
        str,
        Path(
            alias="cartID",
            description="The cart's id: letters, digits, _ and -, 1 to 64 of them (B51)",
            # Described here, checked below, so that a refusal reads as the other cart errors do.
            json_schema_extra={"pattern": CART_ID_PATTERN.pattern, "minLength": 1, "maxLength": 64},
        ),
    ],
) -> str:
    """The cart reference from the path: safe characters only (B51)."""
    if not is_cart_id(cart_id):
        raise InvalidInput([FieldProblem("cartID", "a cart id holds only letters, digits, _ and -, 1 to 64")])
    return cart_id


async def item_id(item_id: Annotated[str, Path(alias="cartitemID")]) -> str:
    """A line id from the path; anything but a UUID names no line."""
    parsed = parse_uuid(item_id)
    if parsed is None:
        raise NotFound("The Item doesn't exist in the cart", meta={"id": item_id})
    return parsed


async def includes(include: Annotated[str | None, Query(max_length=200)] = None) -> frozenset[str]:
    """`include=items,promotions`; unknown names are refused."""
    return include_names(include, INCLUDES)


async def cart_currency(
    currency: Annotated[str | None, Header(alias="X-MOLTIN-CURRENCY", max_length=16)] = None,
) -> str | None:
    """The currency a cart takes with its first line, when the client names one (§1.3)."""
    if currency is None or not currency.strip():
        return None
    code = currency.strip().upper()
    if code not in CURRENCY_CODES:
        raise InvalidInput(
            [FieldProblem("X-MOLTIN-CURRENCY", f"{currency!r} is not an ISO 4217 currency code")]
        )
    return code


async def shopper(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    customer_token: Annotated[str | None, Header(alias="X-Moltin-Customer-Token", max_length=8192)] = None,
    account_token: Annotated[
        str | None, Header(alias="EP-Account-Management-Authentication-Token", max_length=8192)
    ] = None,
) -> Shopper:
    """Who is shopping, from the customer and account token headers (D10) and the client's address; no
    token header makes an anonymous shopper."""
    client = client_network(request.client.host) if request.client else None
    if not customer_token and not account_token:
        return Shopper(trusted=principal.is_admin, client=client)
    # The tokens are checked against the store's key, read from the database: off the event loop.
    proven = await run_in_threadpool(
        partial(
            shoppers.shopper_of,
            container.db,
            store_id=principal.store_id,
            customer_token=customer_token,
            account_token=account_token,
            trusted_caller=principal.is_admin,
            now=container.clock(),
        )
    )
    return replace(proven, client=client)


CartIdDep = Annotated[str, Depends(cart_id)]
ItemIdDep = Annotated[str, Depends(item_id)]
IncludeDep = Annotated[frozenset[str], Depends(includes)]
CurrencyDep = Annotated[str | None, Depends(cart_currency)]
ShopperDep = Annotated[Shopper, Depends(shopper)]


@router.post(
    "",
    status_code=201,
    summary="Create a cart (B1: 201)",
    response_model=None,
    responses={201: {"model": CartDocument, "description": "The new cart"}, **error_responses(429)},
)
def create_cart(
    body: CartRequest, principal: PrincipalDep, container: ContainerDep, base: BaseUrlDep, who: ShopperDep
) -> Response:
    """C4."""
    view = carts.create_cart(
        container.db,
        store_id=principal.store_id,
        cart_id=body.data.id,
        changes=body.data.changes(),
        customer_id=who.customer_id,
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(cart_document(view, base, frozenset()), 201)


@router.get(
    "",
    summary="List carts (admin: every cart of the store)",
    response_model=None,
    responses={200: {"model": CartListDocument, "description": "A page of carts"}},
)
def list_carts(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    who: ShopperDep,
) -> Response:
    """C14."""
    customer_id = account_id = None
    if not principal.is_admin:
        if who.customer_id is None and who.account_id is None:
            raise InvalidInput(
                [
                    FieldProblem(
                        "X-Moltin-Customer-Token",
                        "an implicit token lists only the carts of the customer or account its headers prove",
                    )
                ]
            )
        customer_id, account_id = who.customer_id, who.account_id
    views, total = carts.list_carts(
        container.db,
        store_id=principal.store_id,
        page=page,
        customer_id=customer_id,
        account_id=account_id,
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(
        list_document(request, base, [cart_resource(view, base) for view in views], page, total)
    )


@router.get(
    "/{cartID}",
    summary="Get a cart; an unknown id is an empty cart (B6)",
    response_model=None,
    responses={200: {"model": CartDocument, "description": "The cart"}},
)
def get_cart(
    cart: CartIdDep,
    include: IncludeDep,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C5."""
    view = carts.get_cart(
        container.db, store_id=principal.store_id, cart_id=cart, shopper=who, now=container.clock()
    )
    return DocumentResponse(cart_document(view, base, include))


@router.put(
    "/{cartID}",
    summary="Update a cart's name, description, settings, preview date, attributes",
    response_model=None,
    responses={200: {"model": CartDocument, "description": "The cart"}, **error_responses(429)},
)
def update_cart(
    cart: CartIdDep,
    body: CartRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C6."""
    changes: CartChanges = body.data.changes()
    view = carts.update_cart(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        changes=changes,
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(cart_document(view, base, frozenset()))


@router.delete("/{cartID}", status_code=204, summary="Delete a cart with its lines and codes")
def delete_cart(
    cart: CartIdDep, principal: PrincipalDep, container: ContainerDep, who: ShopperDep
) -> Response:
    """C7."""
    carts.delete_cart(
        container.db, store_id=principal.store_id, cart_id=cart, shopper=who, now=container.clock()
    )
    return Response(status_code=204)


@router.get(
    "/{cartID}/items",
    summary="The cart's lines with totals",
    response_model=None,
    responses={200: {"model": ItemsDocument, "description": "The lines"}},
)
def get_items(
    cart: CartIdDep,
    include: IncludeDep,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C8."""
    view = carts.get_cart(
        container.db, store_id=principal.store_id, cart_id=cart, shopper=who, now=container.clock()
    )
    return DocumentResponse(items_document(view, base, include=include))


@router.post(
    "/{cartID}/items",
    status_code=201,
    summary="Add products, custom items or codes, merge a cart, re-order (one or a bulk array)",
    response_model=None,
    responses={201: {"model": ItemsDocument, "description": "The lines"}, **error_responses(429)},
)
def add_items(
    request: Request,
    cart: CartIdDep,
    body: AddItemsRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
    currency: CurrencyDep,
    tally: CodeTallyDep,
) -> Response:
    """C9 and C1, merges (`cart_items`) and re-orders (`order_items`); 201 also for a partial success, with
    `errors` beside `data` (§4.8)."""
    view = carts.add_lines(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        entries=body.entries(),
        bulk=body.bulk,
        all_or_nothing=bool(body.options and body.options.add_all_or_nothing),
        shopper=who,
        currency=currency,
        now=container.clock(),
    )
    tally.finished(view.errors)
    errors = [item for error in (*view.errors, *view.copy_errors) for item in error_items(error)]
    return DocumentResponse(items_document(view, base, messages=True, errors=errors), 201)


@router.put(
    "/{cartID}/items",
    summary="Change the quantities of several lines (all or none)",
    response_model=None,
    responses={200: {"model": ItemsDocument, "description": "The lines"}},
)
def update_items(
    cart: CartIdDep,
    body: BulkQuantityRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C13."""
    view = carts.set_quantities(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        quantities=[(entry.id, entry.quantity) for entry in body.data],
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(items_document(view, base, messages=True))


@router.delete("/{cartID}/items", status_code=204, summary="Empty the cart (lines and codes); the cart stays")
def delete_items(
    cart: CartIdDep, principal: PrincipalDep, container: ContainerDep, who: ShopperDep
) -> Response:
    """C12."""
    carts.remove_all_lines(
        container.db, store_id=principal.store_id, cart_id=cart, shopper=who, now=container.clock()
    )
    return Response(status_code=204)


@router.put(
    "/{cartID}/items/{cartitemID}",
    summary="Change a line's quantity (0 removes it)",
    response_model=None,
    responses={200: {"model": ItemsDocument, "description": "The lines"}},
)
def update_item(
    cart: CartIdDep,
    item: ItemIdDep,
    body: QuantityRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C10."""
    view = carts.set_quantities(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        quantities=[(item, body.data.quantity)],
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(items_document(view, base, messages=True))


@router.delete(
    "/{cartID}/items/{cartitemID}",
    summary="Remove a line (B3: 200 with the remaining lines)",
    response_model=None,
    responses={200: {"model": ItemsDocument, "description": "The remaining lines"}},
)
def delete_item(
    cart: CartIdDep,
    item: ItemIdDep,
    principal: PrincipalDep,
    container: ContainerDep,
    base: BaseUrlDep,
    who: ShopperDep,
) -> Response:
    """C11."""
    view = carts.remove_line(
        container.db,
        store_id=principal.store_id,
        cart_id=cart,
        item_id=item,
        shopper=who,
        now=container.clock(),
    )
    return DocumentResponse(items_document(view, base, messages=True))


@router.delete("/{cartID}/discounts/{promoCode:path}", status_code=204, summary="Remove an applied code")
def delete_code(
    request: Request,
    cart: CartIdDep,
    _promo_code: Annotated[
        str,
        Path(
            alias="promoCode",
            description="The code to remove, percent-encoded or raw (B23); read from the raw path",
        ),
    ],
    principal: PrincipalDep,
    container: ContainerDep,
    who: ShopperDep,
) -> Response:
    """C2; the code may come percent-encoded or raw (B23)."""
    code = _code_segment(request)
    carts.remove_code(
        container.db, store_id=principal.store_id, cart_id=cart, code=code, shopper=who, now=container.clock()
    )
    return Response(status_code=204)


def _code_segment(request: Request) -> str:
    """The code as sent: percent-decoded where that works, else the raw text (`SAVE10%`, B23)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    segment = raw_path.decode("latin-1").split("/discounts/", 1)[-1]

    try:
        decoded = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return segment
    # A lone or malformed % stays as it was: unquote leaves it, which is the raw text.
    return decoded
