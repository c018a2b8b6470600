"""Priced carts as EP shows them: the cart, its lines with their display prices and totals (§2-§5)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from promoforge.api.documents.common import (
    Amounts,
    DiscountByCode,
    DisplayBlock,
    ErrorItem,
    FormattedMoney,
    ListDocument,
    PriceDocument,
    timestamp_in_seconds,
    with_python_floats,
)
from promoforge.domain.carts import AppliedCode, CartItem
from promoforge.domain.pricing import CartMessage, Discount, DisplayAmount, LineKind, PricedLine
from promoforge.domain.promotions import Promotion
from promoforge.services.carts import CartView

LineType = Literal["cart_item", "custom_item", "promotion_item"]
_LINE_TYPES: dict[LineKind, LineType] = {LineKind.PRODUCT: "cart_item", LineKind.CUSTOM: "custom_item"}


class LineDisplayPrice(TypedDict):
    """A line's display blocks (§2.3)."""

    with_tax: DisplayBlock
    without_tax: DisplayBlock
    tax: DisplayBlock
    discount: DisplayBlock
    without_discount: DisplayBlock
    discounts: NotRequired[dict[str, DiscountByCode]]


class LineTimestamps(TypedDict):
    """When a line was added and last changed."""

    created_at: str
    updated_at: str


class LineMeta(TypedDict):
    """A line's `meta`."""

    display_price: LineDisplayPrice
    timestamps: LineTimestamps


class ImageDocument(TypedDict):
    """A line's image (three empty strings without one)."""

    mime_type: str
    file_name: str
    href: str


class LineDiscount(TypedDict):
    """An item-level discount on a line."""

    amount: PriceDocument
    code: str
    id: str


class CartLineResource(TypedDict):
    """A cart line: a catalog product, a custom item, or a cart-level promotion (§4.6)."""

    id: str
    type: LineType
    product_id: NotRequired[str | None]
    promotion_id: NotRequired[str]
    name: str
    description: str
    sku: str
    slug: str
    image: ImageDocument
    quantity: int
    manage_stock: bool
    unit_price: PriceDocument
    value: PriceDocument
    discounts: NotRequired[list[LineDiscount]]
    links: dict[str, str]
    meta: LineMeta
    catalog_id: NotRequired[str]
    catalog_source: NotRequired[str]
    custom_inputs: NotRequired[dict[str, Any]]
    auto_add_quantity: NotRequired[int]
    relationships: NotRequired[dict[str, Any]]


class CartTotals(TypedDict):
    """A cart's totals (§2.2)."""

    with_tax: FormattedMoney
    without_tax: FormattedMoney
    tax: FormattedMoney
    discount: FormattedMoney
    without_discount: FormattedMoney
    shipping: FormattedMoney
    discounts: NotRequired[dict[str, DiscountByCode]]


class CartTimestamps(TypedDict):
    """When a cart was made, last changed, and will be purged."""

    created_at: str
    updated_at: str
    expires_at: str


class CartMeta(TypedDict):
    """A cart's `meta`."""

    display_price: CartTotals
    timestamps: CartTimestamps


class DiscountSettingsDocument(TypedDict):
    """A cart's discount switches."""

    custom_discounts_enabled: bool
    use_rule_promotions: bool


class CartResource(TypedDict):
    """The cart object (§3.2)."""

    id: str
    type: Literal["cart"]
    name: str
    description: str
    discount_settings: DiscountSettingsDocument
    links: dict[str, str]
    meta: CartMeta
    relationships: dict[str, Any]
    snapshot_date: NotRequired[str]
    custom_attributes: NotRequired[dict[str, Any]]


class CondensedPromotion(TypedDict):
    """A promotion as `included.promotions` shows it (§3.5)."""

    type: Literal["promotion"]
    id: str
    name: str
    description: str
    automatic: bool
    promotion_type: str
    start: str
    end: str


class CartIncluded(TypedDict, total=False):
    """`included` of a cart read with `include`."""

    items: list[CartLineResource]
    promotions: list[CondensedPromotion]


class CartDocument(TypedDict):
    """`{data: cart}` with what `include` asked for."""

    data: CartResource
    included: NotRequired[CartIncluded]


class MessageSource(TypedDict):
    """What a message is about."""

    type: str
    id: str
    code: NotRequired[str]


class MessageDocument(TypedDict):
    """One `meta.messages` entry (§2.5)."""

    source: MessageSource
    title: str
    description: str


class ItemsMeta(TypedDict):
    """Totals and timestamps of the collection; messages after a change; gift suggestions."""

    display_price: CartTotals
    timestamps: CartTimestamps
    messages: NotRequired[list[MessageDocument]]
    promotion_suggestions: NotRequired[list[dict[str, Any]]]


class ItemsDocument(TypedDict):
    """The lines with totals (§4.7); a partial bulk add lists its failures in `errors` (§4.8)."""

    data: list[CartLineResource]
    meta: ItemsMeta
    errors: NotRequired[list[ErrorItem]]
    included: NotRequired[CartIncluded]


CartListDocument = ListDocument[CartResource]


def cart_resource(
    view: CartView, base_url: str, *, include: frozenset[str] = frozenset(), amounts: Amounts | None = None
) -> CartResource:
    """The cart object (§3.2)."""
    cart = view.cart
    amounts = amounts or Amounts(view.priced.currency)
    relationships: dict[str, Any] = {
        "items": {"data": _line_references(view) or None},
        "customers": {"data": [{"type": "customer", "id": cart.customer_id}]} if cart.customer_id else {},
        "accounts": {"data": [{"type": "account", "id": cart.account_id}]} if cart.account_id else {},
    }
    if "promotions" in include:
        relationships["promotions"] = {
            "data": [{"type": "promotion", "id": d.promotion_id} for d in view.priced.cart_promotions]
        }
    resource: CartResource = {
        "id": cart.id,
        "type": "cart",
        "name": cart.name,
        "description": cart.description,
        "discount_settings": {
            "custom_discounts_enabled": cart.discount_settings.custom_discounts_enabled,
            "use_rule_promotions": cart.discount_settings.use_rule_promotions,
        },
        "links": {"self": f"{base_url}/v2/carts/{cart.id}"},
        "meta": {"display_price": _cart_totals(view, amounts), "timestamps": _cart_timestamps(view)},
        "relationships": relationships,
    }
    if cart.snapshot_date is not None:
        resource["snapshot_date"] = timestamp_in_seconds(cart.snapshot_date)
    if cart.custom_attributes:
        resource["custom_attributes"] = with_python_floats(dict(cart.custom_attributes))
    return resource


def cart_document(view: CartView, base_url: str, include: frozenset[str]) -> CartDocument:
    """C4/C5/C6: `{data: cart}`, with `included.items` / `included.promotions` when asked (§3.4)."""
    amounts = Amounts(view.priced.currency)
    document: CartDocument = {"data": cart_resource(view, base_url, include=include, amounts=amounts)}
    included: CartIncluded = {}
    if "items" in include:
        included["items"] = _lines(view, base_url, amounts, with_promotions="promotions" in include)
    if "promotions" in include:
        cart_level = [d.promotion_id for d in view.priced.cart_promotions]
        item_level = [a.promotion_id for a in view.priced.applications if not a.cart_level]
        shown = cart_level + (item_level if "items" in include else [])
        included["promotions"] = [
            condensed_promotion(view.promotions[pid]) for pid in shown if pid in view.promotions
        ]
    if included:
        document["included"] = included
    return document


def items_document(
    view: CartView,
    base_url: str,
    *,
    include: frozenset[str] = frozenset(),
    messages: bool = False,
    errors: list[ErrorItem] | None = None,
) -> ItemsDocument:
    """C8 and every line mutation: the whole collection with totals (§4.7), messages on mutations (B31)."""
    amounts = Amounts(view.priced.currency)
    meta: ItemsMeta = {"display_price": _cart_totals(view, amounts), "timestamps": _cart_timestamps(view)}
    if messages and view.messages:
        meta["messages"] = [_message(message) for message in view.messages]
    suggestions = view.priced.suggestions
    if suggestions:
        meta["promotion_suggestions"] = [
            {
                "promotion_id": s.promotion_id,
                "code": s.code,
                "info": view.promotions[s.promotion_id].attributes.description
                if s.promotion_id in view.promotions
                else "",
                "bundle": [{"targets": [s.gift], "quantity": s.quantity, "auto_add_free_gift": s.auto_add}],
                "message": "Gift",
            }
            for s in suggestions
        ]
    document: ItemsDocument = {
        "data": _lines(view, base_url, amounts, with_promotions="promotions" in include),
        "meta": meta,
    }
    if errors:
        document["errors"] = errors
    if "promotions" in include:
        shown = [a.promotion_id for a in view.priced.applications]
        document["included"] = {
            "promotions": [
                condensed_promotion(view.promotions[pid]) for pid in shown if pid in view.promotions
            ]
        }
    return document


def condensed_promotion(promotion: Promotion) -> CondensedPromotion:
    """The condensed promotion of `included.promotions` (§3.5)."""
    attributes = promotion.attributes
    return {
        "type": "promotion",
        "id": promotion.id,
        "name": attributes.name,
        "description": attributes.description,
        "automatic": attributes.automatic,
        "promotion_type": attributes.promotion_type.value,
        "start": timestamp_in_seconds(attributes.start),
        "end": timestamp_in_seconds(attributes.end),
    }


def _cart_totals(view: CartView, amounts: Amounts) -> CartTotals:
    totals = view.priced.totals
    zero = amounts.formatted(0)
    display: CartTotals = {
        "with_tax": amounts.formatted(totals.with_tax),
        "without_tax": amounts.formatted(totals.without_tax),
        "tax": zero,
        "discount": amounts.formatted(-totals.discount),
        "without_discount": amounts.formatted(totals.without_discount),
        "shipping": zero,
    }
    by_code: dict[str, dict[str, int]] = {}
    for application in view.priced.applications:
        by_code.setdefault(application.code, {})[application.promotion_id] = application.amount
    if by_code:
        display["discounts"] = {code: amounts.discount(parts) for code, parts in by_code.items()}
    return display


def _cart_timestamps(view: CartView) -> CartTimestamps:
    cart = view.cart
    return {
        "created_at": timestamp_in_seconds(cart.created_at),
        "updated_at": timestamp_in_seconds(cart.updated_at),
        "expires_at": timestamp_in_seconds(cart.expires_at(view.expiry_days)),
    }


def _line_references(view: CartView) -> list[dict[str, str]]:
    """`{type, id}` of each line, in `_lines` order, without rendering the lines."""
    references = [{"type": _LINE_TYPES[item.kind], "id": item.id} for item in view.items]
    references.extend(
        {"type": "promotion_item", "id": view.promotion_line_id(d.promotion_id)}
        for d in view.priced.cart_promotions
    )
    return references


def _lines(
    view: CartView, base_url: str, amounts: Amounts, *, with_promotions: bool = False
) -> list[CartLineResource]:
    """Product and custom lines by creation, then promotion lines (B52)."""
    priced = {line.line_id: line for line in view.priced.lines}
    lines = [
        _item_line(item, priced[item.id], amounts, base_url, with_promotions=with_promotions)
        for item in view.items
    ]
    applied = {code.promotion_id: code for code in view.codes}
    for discount in view.priced.cart_promotions:
        applied_code = applied.get(discount.promotion_id)
        lines.append(_promotion_line(discount, view, applied_code, amounts, with_promotions=with_promotions))
    return lines


def _item_line(
    item: CartItem, priced: PricedLine, amounts: Amounts, base_url: str, *, with_promotions: bool
) -> CartLineResource:
    display = priced.display()
    blocks: LineDisplayPrice = {
        "with_tax": amounts.block(display.with_tax),
        "without_tax": amounts.block(display.without_tax),
        "tax": amounts.block(display.tax),
        "discount": amounts.block(display.discount),
        "without_discount": amounts.block(display.without_discount),
    }
    is_product = item.kind is LineKind.PRODUCT
    line: CartLineResource = {
        "id": item.id,
        "type": _LINE_TYPES[item.kind],
        "name": item.name,
        "description": item.description,
        "sku": item.sku,
        "slug": item.slug,
        "image": _image(item.image_href),
        "quantity": item.quantity,
        "manage_stock": False,
        "unit_price": amounts.price(item.unit_price, item.includes_tax),
        "value": amounts.price(item.unit_price * item.quantity, item.includes_tax),
        "links": {"product": f"{base_url}/v2/products/{item.product_id}"} if item.product_id else {},
        "meta": {
            "display_price": blocks,
            "timestamps": {
                "created_at": timestamp_in_seconds(item.created_at),
                "updated_at": timestamp_in_seconds(item.updated_at),
            },
        },
    }
    if is_product:
        line["product_id"] = item.product_id
        if item.catalog_id:
            line["catalog_id"] = item.catalog_id
        line["catalog_source"] = "pim"
    if priced.item_discounts:
        blocks["discounts"] = {
            d.code: amounts.discount({d.promotion_id: d.amount}) for d in priced.item_discounts
        }
        line["discounts"] = [
            {"amount": amounts.price(-d.amount, False), "code": d.code, "id": d.promotion_id}
            for d in priced.item_discounts
        ]
    if item.custom_inputs:
        line["custom_inputs"] = with_python_floats(dict(item.custom_inputs))
    if item.auto_add_quantity:
        line["auto_add_quantity"] = item.auto_add_quantity
    if with_promotions:
        line["relationships"] = _line_relationships([d.promotion_id for d in priced.item_discounts])
    return line


def _promotion_line(
    discount: Discount,
    view: CartView,
    applied: AppliedCode | None,
    amounts: Amounts,
    *,
    with_promotions: bool,
) -> CartLineResource:
    promotion = view.promotions.get(discount.promotion_id)
    negative = amounts.block(DisplayAmount(-discount.amount, -discount.amount))
    zero = amounts.block(DisplayAmount(0, 0))
    # A promotion line has no price of its own to discount: EP shows it without a currency.
    unpriced: FormattedMoney = {"amount": 0, "currency": "", "formatted": "0"}
    at = timestamp_in_seconds(applied.applied_at if applied else view.cart.updated_at)
    line: CartLineResource = {
        "id": view.promotion_line_id(discount.promotion_id),
        "type": "promotion_item",
        "promotion_id": discount.promotion_id,
        "name": promotion.attributes.name if promotion else "",
        "description": "Promotion",
        "sku": discount.code,
        "slug": "",
        "image": _image(None),
        "quantity": 1,
        "manage_stock": False,
        "unit_price": amounts.price(-discount.amount, False),
        "value": amounts.price(-discount.amount, False),
        "links": {},
        "meta": {
            "display_price": {
                "with_tax": negative,
                "without_tax": negative,
                "tax": zero,
                "discount": zero,
                "without_discount": {"unit": unpriced, "value": unpriced},
            },
            "timestamps": {"created_at": at, "updated_at": at},
        },
    }
    if with_promotions:
        line["relationships"] = _line_relationships([discount.promotion_id])
    return line


def _line_relationships(promotion_ids: list[str]) -> dict[str, Any]:
    return {
        "taxes": {"data": None},
        "custom_discounts": {"data": None},
        "promotions": {"data": [{"type": "promotion", "id": pid} for pid in promotion_ids]},
    }


def _image(href: str | None) -> ImageDocument:
    if not href:
        return {"mime_type": "", "file_name": "", "href": ""}
    return {"mime_type": "", "file_name": href.rsplit("/", 1)[-1], "href": href}


def _message(message: CartMessage) -> MessageDocument:
    source: MessageSource = {"type": message.source_type, "id": message.source_id}
    if message.code is not None:
        source["code"] = message.code
    return {"source": source, "title": message.title, "description": message.description}
