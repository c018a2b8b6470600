"""Orders, order items and usage records as the API shows them (carts.md §7-§8)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from promoforge.api.documents.carts.responses import CondensedPromotion, LineDisplayPrice, LineTimestamps
from promoforge.api.documents.common import (
    Amounts,
    ErrorItem,
    FormattedMoney,
    ListDocument,
    PriceDocument,
    timestamp,
    timestamp_in_seconds,
    with_python_floats,
)
from promoforge.domain.orders import Order, OrderItem, OrderItemKind, OrderPromotion, PartyKind, Usage
from promoforge.domain.pricing import DisplayAmount, display_amount


class OrderTotals(TypedDict):
    """An order's totals: what the checkout priced; no tax, nothing paid (B35, B49)."""

    with_tax: FormattedMoney
    without_tax: FormattedMoney
    tax: FormattedMoney
    discount: FormattedMoney
    balance_owing: FormattedMoney
    paid: FormattedMoney
    authorized: FormattedMoney
    without_discount: FormattedMoney
    shipping: FormattedMoney


class OrderTimestamps(TypedDict):
    """When the order was made and last changed."""

    created_at: str
    updated_at: str


class OrderMeta(TypedDict):
    """An order's `meta`."""

    display_price: OrderTotals
    timestamps: OrderTimestamps


class Buyer(TypedDict):
    """Who an order names: a customer (with its id when it has one) or an account's contact."""

    name: str
    email: str
    id: NotRequired[str]


class OrderResource(TypedDict):
    """The order object (§7.3)."""

    type: Literal["order"]
    id: str
    status: str
    payment: str
    shipping: str
    anonymized: bool
    customer: NotRequired[Buyer]
    contact: NotRequired[Buyer]
    shipping_address: dict[str, str]
    billing_address: dict[str, str]
    order_number: NotRequired[str]
    external_ref: NotRequired[str]
    custom_attributes: NotRequired[dict[str, Any]]
    links: dict[str, str]
    meta: OrderMeta
    relationships: dict[str, Any]


class OrderItemMeta(TypedDict):
    """An order item's display blocks and timestamps (those of the order)."""

    display_price: LineDisplayPrice
    timestamps: LineTimestamps


class OrderItemDiscount(TypedDict):
    """An item-level discount on an order item."""

    amount: PriceDocument
    code: str
    id: str


class OrderItemResource(TypedDict):
    """An order line with the final numbers of the checkout pricing (§7.4)."""

    type: Literal["order_item"]
    id: str
    quantity: int
    product_id: str
    name: str
    sku: str
    unit_price: PriceDocument
    value: PriceDocument
    discounts: NotRequired[list[OrderItemDiscount]]
    links: dict[str, str]
    meta: OrderItemMeta
    relationships: dict[str, Any]
    catalog_id: NotRequired[str]
    catalog_source: NotRequired[str]
    custom_inputs: NotRequired[dict[str, Any]]


class OrderIncluded(TypedDict, total=False):
    """What `include` adds to an order."""

    items: list[OrderItemResource]
    promotions: list[CondensedPromotion]


class OrderDocument(TypedDict):
    """`{data: order, included}`."""

    data: OrderResource
    included: NotRequired[OrderIncluded]


class OrderItemsDocument(TypedDict):
    """O2: `{data: [order_item]}`."""

    data: list[OrderItemResource]
    included: NotRequired[OrderIncluded]


OrderListDocument = ListDocument[OrderResource]


class UsageTimestamps(TypedDict):
    """When a usage record last changed."""

    updated_at: str


class UsageMeta(TypedDict):
    """A usage record's `meta`."""

    timestamps: UsageTimestamps


class UsageResource(TypedDict):
    """A usage record (§8.1)."""

    id: str
    order_id: str | None
    code_id: str
    code: str
    times_used: int
    used_on: str
    customer_id: str | None
    account_id: NotRequired[str]
    customer_email: str | None
    meta: UsageMeta
    anonymized: bool
    updated_by: NotRequired[str]


UsageListDocument = ListDocument[UsageResource]


class AnonymizedDocument(TypedDict):
    """E17: the usages anonymised, and the ids not found (B28)."""

    data: list[UsageResource]
    errors: NotRequired[list[ErrorItem]]


def order_resource(
    order: Order, items: list[OrderItem], *, include: frozenset[str] = frozenset()
) -> OrderResource:
    """The order object (§7.3)."""
    amounts = Amounts(order.currency)
    party = order.party
    relationships: dict[str, Any] = {"items": {"data": [{"type": "item", "id": item.id} for item in items]}}
    if party.customer_id:
        relationships["customer"] = {"data": {"type": "customer", "id": party.customer_id}}
    if party.account_id:
        relationships["account"] = {"data": {"type": "account", "id": party.account_id}}
    if party.account_member_id:
        relationships["account_member"] = {"data": {"type": "account_member", "id": party.account_member_id}}
    if "promotions" in include:
        relationships["promotions"] = {
            "data": [{"type": "promotion", "id": p.id} for p in order.promotions if p.cart_level]
        }
    with_tax = amounts.formatted(order.with_tax)
    zero = amounts.formatted(0)
    resource: OrderResource = {
        "type": "order",
        "id": order.id,
        "status": order.status.value,
        "payment": order.payment.value,
        "shipping": order.shipping.value,
        "anonymized": False,
        "shipping_address": dict(order.shipping_address),
        "billing_address": dict(order.billing_address),
        "links": {},
        "meta": {
            "display_price": {
                "with_tax": with_tax,
                "without_tax": with_tax,
                "tax": zero,
                "discount": amounts.formatted(-order.discount),
                "balance_owing": with_tax,
                "paid": zero,
                "authorized": zero,
                "without_discount": amounts.formatted(order.without_discount),
                "shipping": zero,
            },
            "timestamps": {
                "created_at": timestamp(order.created_at),
                "updated_at": timestamp(order.updated_at),
            },
        },
        "relationships": relationships,
    }
    buyer: Buyer = {"name": party.name, "email": party.email}
    if party.kind is PartyKind.CUSTOMER:
        if party.customer_id:
            buyer["id"] = party.customer_id
        resource["customer"] = buyer
    else:
        resource["contact"] = buyer
    if order.order_number is not None:
        resource["order_number"] = order.order_number
    if order.external_ref is not None:
        resource["external_ref"] = order.external_ref
    if order.custom_attributes:
        resource["custom_attributes"] = with_python_floats(dict(order.custom_attributes))
    return resource


def order_item_resource(order: Order, item: OrderItem, amounts: Amounts | None = None) -> OrderItemResource:
    """An order line (§7.4); a cart-level promotion is an ordinary item with negative prices (B33)."""
    amounts = amounts or Amounts(order.currency)
    blocks: LineDisplayPrice
    if item.kind is OrderItemKind.PROMOTION:
        negative = amounts.block(display_amount(item.value, 1))
        zero = amounts.block(DisplayAmount(0, 0))
        blocks = {
            "with_tax": negative,
            "without_tax": negative,
            "tax": zero,
            "discount": zero,
            "without_discount": zero,
        }
    else:
        discounted = amounts.block(display_amount(item.discounted_value, item.quantity))
        blocks = {
            "with_tax": discounted,
            "without_tax": discounted,
            "tax": amounts.block(display_amount(0, item.quantity)),
            "discount": amounts.block(display_amount(-item.discount, item.quantity)),
            "without_discount": amounts.block(display_amount(item.value, item.quantity)),
        }
        if item.item_discounts:
            blocks["discounts"] = {
                d.code: amounts.discount({d.promotion_id: d.amount}) for d in item.item_discounts
            }
    at = timestamp(order.created_at)
    resource: OrderItemResource = {
        "type": "order_item",
        "id": item.id,
        "quantity": item.quantity,
        "product_id": item.product_id,
        "name": item.name,
        "sku": item.sku,
        "unit_price": amounts.price(item.unit_price, item.includes_tax),
        "value": amounts.price(item.value, item.includes_tax),
        "links": {},
        "meta": {"display_price": blocks, "timestamps": {"created_at": at, "updated_at": at}},
        "relationships": {"cart_item": {"data": {"type": "cart_item", "id": item.cart_item_id}}},
    }
    if item.item_discounts:
        resource["discounts"] = [
            {"amount": amounts.price(-d.amount, False), "code": d.code, "id": d.promotion_id}
            for d in item.item_discounts
        ]
    if item.kind is OrderItemKind.PRODUCT:
        if item.catalog_id:
            resource["catalog_id"] = item.catalog_id
        resource["catalog_source"] = "pim"
    if item.custom_inputs:
        resource["custom_inputs"] = with_python_floats(dict(item.custom_inputs))
    return resource


def order_document(order: Order, items: list[OrderItem], include: frozenset[str]) -> OrderDocument:
    """C3 and O1: the order, with `included.items` and `included.promotions` as asked."""
    document: OrderDocument = {"data": order_resource(order, items, include=include)}
    included: OrderIncluded = {}
    if "items" in include:
        amounts = Amounts(order.currency)
        included["items"] = [order_item_resource(order, item, amounts) for item in items]
    if "promotions" in include:
        shown = [p for p in order.promotions if p.cart_level or "items" in include]
        included["promotions"] = [condensed(p) for p in shown]
    if included:
        document["included"] = included
    return document


def order_items_document(order: Order, items: list[OrderItem], include: frozenset[str]) -> OrderItemsDocument:
    """O2: the items; `include=promotions` adds order- and item-level promotions."""
    amounts = Amounts(order.currency)
    document: OrderItemsDocument = {"data": [order_item_resource(order, item, amounts) for item in items]}
    if "promotions" in include:
        document["included"] = {"promotions": [condensed(p) for p in order.promotions]}
    return document


def condensed(promotion: OrderPromotion) -> CondensedPromotion:
    """A promotion of an order as `included.promotions` shows it (§3.5)."""
    return {
        "type": "promotion",
        "id": promotion.id,
        "name": promotion.name,
        "description": promotion.description,
        "automatic": promotion.automatic,
        "promotion_type": promotion.promotion_type,
        "start": timestamp_in_seconds(promotion.start),
        "end": timestamp_in_seconds(promotion.end),
    }


def usage_resource(usage: Usage) -> UsageResource:
    """A usage record (§8.1)."""
    resource: UsageResource = {
        "id": usage.id,
        "order_id": usage.order_id,
        "code_id": usage.code_id,
        "code": usage.code,
        "times_used": usage.times_used,
        "used_on": timestamp(usage.used_on),
        "customer_id": usage.customer_id,
        "customer_email": usage.customer_email,
        "meta": {"timestamps": {"updated_at": timestamp(usage.updated_at)}},
        "anonymized": usage.anonymized,
    }
    if usage.account_id is not None:
        resource["account_id"] = usage.account_id
    if usage.updated_by is not None:
        resource["updated_by"] = usage.updated_by
    return resource
