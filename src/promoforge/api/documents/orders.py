"""Checkout bodies, orders, order items and usage records on the wire (carts.md §7-§8)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from promoforge.api.documents.carts import (
    CondensedPromotion,
    PriceDocument,
    display_block,
    formatted_price,
    price,
)
from promoforge.api.documents.common import Links, ListMeta
from promoforge.api.jsonapi import timestamp
from promoforge.domain.errors import FieldProblem, Forbidden, InvalidInput
from promoforge.domain.orders import (
    BILLING_FIELDS,
    SHIPPING_FIELDS,
    CheckoutDetails,
    Order,
    OrderChanges,
    OrderItem,
    OrderItemKind,
    OrderPromotion,
    OrderStatus,
    Party,
    PartyKind,
    ShippingStatus,
    Usage,
)
from promoforge.domain.pricing import display_amount
from promoforge.domain.shoppers import Shopper

MAX_TEXT = 255
MAX_EXTERNAL_REF = 64  # §7.1
MAX_USAGE_IDS = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_email(value: str) -> str:
    local = value.split("@", 1)[0]
    if not _EMAIL.fullmatch(value) or ".." in value or local.startswith(".") or local.endswith("."):
        raise PydanticCustomError("format", "Does not match format 'email'")
    return value


Text = Annotated[StrictStr, Field(max_length=MAX_TEXT)]
RequiredText = Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
Email = Annotated[StrictStr, Field(max_length=MAX_TEXT), AfterValidator(_check_email)]


class _Body(BaseModel):
    """Unknown fields are ignored, as EP does."""

    model_config = ConfigDict(extra="ignore")


class AddressBody(_Body):
    """A billing or shipping address: B25's required fields, and one of `region` / `county`."""

    first_name: RequiredText
    last_name: RequiredText
    company_name: Text = ""
    line_1: RequiredText
    line_2: Text = ""
    city: Text = ""
    county: Text = ""
    region: Text = ""
    postcode: RequiredText
    country: RequiredText
    phone_number: Text = ""
    instructions: Text = ""

    @model_validator(mode="after")
    def _region_or_county(self) -> AddressBody:
        if not self.region and not self.county:
            raise PydanticCustomError("missing", "region or county is required")
        return self

    def fields(self, names: tuple[str, ...]) -> dict[str, str]:
        """The address as the order echoes it, missing optional fields as `""`."""
        values = self.model_dump()
        return {name: str(values.get(name, "")) for name in names}


class CustomerBody(_Body):
    """`customer`: an id (a), a guest's name and e-mail (b), or an id with them."""

    id: Text | None = None
    name: Text | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _id_or_guest(self) -> CustomerBody:
        if self.id is None and (self.name is None or self.email is None):
            raise PydanticCustomError("missing", "a customer needs an id, or a name and an email")
        return self


class AccountBody(_Body):
    """`account` of a client-credentials account checkout (c)."""

    id: RequiredText
    member_id: RequiredText


class ContactBody(_Body):
    """`contact` of an account checkout (c, d)."""

    name: RequiredText
    email: Email


class CheckoutData(_Body):
    """C3's `data`: who buys, the addresses and the shop's references (§7.1)."""

    customer: CustomerBody | None = None
    account: AccountBody | None = None
    contact: ContactBody | None = None
    billing_address: AddressBody
    shipping_address: AddressBody | None = None
    order_number: Text | None = None
    external_ref: Annotated[StrictStr, Field(max_length=MAX_EXTERNAL_REF)] | None = None


class CheckoutRequest(_Body):
    """`{"data": {...}}`."""

    data: CheckoutData

    def details(self, party: Party) -> CheckoutDetails:
        """The checkout's details for the buyer the caller's credentials allow."""
        data = self.data
        shipping = data.shipping_address or data.billing_address
        return CheckoutDetails(
            party=party,
            billing_address=data.billing_address.fields(BILLING_FIELDS),
            shipping_address=shipping.fields(SHIPPING_FIELDS),
            order_number=data.order_number,
            external_ref=data.external_ref,
        )


class OrderUpdateData(_Body):
    """O4's `data`: cancel, fulfil, or change references and the shipping address."""

    type: Literal["order"]
    status: Literal["cancelled"] | None = None
    shipping: Literal["fulfilled"] | None = None
    shipping_address: AddressBody | None = None
    order_number: Text | None = None
    external_ref: Annotated[StrictStr, Field(max_length=MAX_EXTERNAL_REF)] | None = None

    def changes(self) -> OrderChanges:
        """The update as domain changes."""
        return OrderChanges(
            status=None if self.status is None else OrderStatus(self.status),
            shipping=None if self.shipping is None else ShippingStatus(self.shipping),
            shipping_address=None
            if self.shipping_address is None
            else self.shipping_address.fields(SHIPPING_FIELDS),
            order_number=self.order_number,
            external_ref=self.external_ref,
        )


class OrderUpdateRequest(_Body):
    """`{"data": {"type": "order", ...}}`."""

    data: OrderUpdateData


class AnonymizeData(_Body):
    """E17's `data`."""

    usage_ids: Annotated[
        list[Annotated[StrictStr, Field(max_length=64)]], Field(min_length=1, max_length=MAX_USAGE_IDS)
    ]


class AnonymizeRequest(_Body):
    """`{"data": {"usage_ids": [...]}}`."""

    data: AnonymizeData


def checkout_party(data: CheckoutData, shopper: Shopper, *, trusted: bool) -> Party:
    """The buyer of a checkout from its body and the caller's proven identity (§7.1 a-d, D10)."""
    if data.account is not None:
        if not trusted:
            raise Forbidden("An account checkout with an implicit token needs an account token instead")
        return _account_party(data.contact, data.account.id, data.account.member_id)
    if data.customer is None and shopper.account_id is not None:
        return _account_party(data.contact, shopper.account_id, shopper.account_member_id)
    customer = data.customer
    if customer is None:
        raise InvalidInput([FieldProblem("data.customer", "data.customer is required", "required")])
    if customer.id is not None and not trusted and customer.id != shopper.customer_id:
        raise Forbidden("The customer id must be the one the X-Moltin-Customer-Token proves")
    customer_id = customer.id if customer.id is not None else shopper.customer_id
    return Party(PartyKind.CUSTOMER, customer.name or "", customer.email or "", customer_id=customer_id)


def _account_party(contact: ContactBody | None, account_id: str, member_id: str | None) -> Party:
    if contact is None:
        raise InvalidInput([FieldProblem("data.contact", "data.contact is required", "required")])
    return Party(
        PartyKind.CONTACT, contact.name, contact.email, account_id=account_id, account_member_id=member_id
    )


# Responses


class OrderItemResource(BaseModel):
    """An order line with the final numbers of the checkout pricing (§7.4)."""

    type: Literal["order_item"]
    id: str
    quantity: int
    product_id: str
    name: str
    sku: str
    unit_price: PriceDocument
    value: PriceDocument
    discounts: list[dict[str, Any]] | None = None
    links: dict[str, str]
    meta: dict[str, Any]
    relationships: dict[str, Any]
    catalog_id: str | None = None
    catalog_source: str | None = None
    custom_inputs: dict[str, Any] | None = None


class OrderResource(BaseModel):
    """The order object (§7.3)."""

    type: Literal["order"]
    id: str
    status: str
    payment: str
    shipping: str
    anonymized: bool
    customer: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    shipping_address: dict[str, str]
    billing_address: dict[str, str]
    order_number: str | None = None
    external_ref: str | None = None
    custom_attributes: dict[str, Any] | None = None
    links: dict[str, str]
    meta: dict[str, Any]
    relationships: dict[str, Any]


class OrderIncluded(BaseModel):
    """What `include` adds to an order."""

    items: list[OrderItemResource] | None = None
    promotions: list[CondensedPromotion] | None = None


class OrderDocument(BaseModel):
    """`{data: order, included}`."""

    data: OrderResource
    included: OrderIncluded | None = None


class OrderItemsDocument(BaseModel):
    """O2: `{data: [order_item]}`."""

    data: list[OrderItemResource]
    included: OrderIncluded | None = None


class OrderListDocument(BaseModel):
    """O3: a page of orders."""

    data: list[OrderResource]
    links: Links
    meta: ListMeta


class UsageResource(BaseModel):
    """A usage record (§8.1)."""

    id: str
    order_id: str | None
    code_id: str
    code: str
    times_used: int
    used_on: str
    customer_id: str | None
    account_id: str | None = None
    customer_email: str | None
    meta: dict[str, Any]
    anonymized: bool
    updated_by: str | None = None


class UsageListDocument(BaseModel):
    """E15/E16: a page of usages."""

    data: list[UsageResource]
    links: Links
    meta: ListMeta


class AnonymizedDocument(BaseModel):
    """E17: the usages anonymised, and the ids not found (B28)."""

    data: list[UsageResource]
    errors: list[dict[str, Any]] | None = None


def order_resource(
    order: Order, items: list[OrderItem], *, include: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The order object (§7.3)."""
    currency = order.currency
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
    resource: dict[str, Any] = {
        "type": "order",
        "id": order.id,
        "status": order.status.value,
        "payment": order.payment.value,
        "shipping": order.shipping.value,
        "anonymized": False,
        party.kind.value: {"name": party.name, "email": party.email}
        | ({"id": party.customer_id} if party.kind is PartyKind.CUSTOMER and party.customer_id else {}),
        "shipping_address": dict(order.shipping_address),
        "billing_address": dict(order.billing_address),
        "links": {},
        "meta": {
            "display_price": {
                "with_tax": formatted_price(order.with_tax, currency),
                "without_tax": formatted_price(order.with_tax, currency),
                "tax": formatted_price(0, currency),
                "discount": formatted_price(-order.discount, currency),
                "balance_owing": formatted_price(order.with_tax, currency),
                "paid": formatted_price(0, currency),
                "authorized": formatted_price(0, currency),
                "without_discount": formatted_price(order.without_discount, currency),
                "shipping": formatted_price(0, currency),
            },
            "timestamps": {
                "created_at": timestamp(order.created_at),
                "updated_at": timestamp(order.updated_at),
            },
        },
        "relationships": relationships,
    }
    if order.order_number is not None:
        resource["order_number"] = order.order_number
    if order.external_ref is not None:
        resource["external_ref"] = order.external_ref
    if order.custom_attributes:
        resource["custom_attributes"] = dict(order.custom_attributes)
    return resource


def order_item_resource(order: Order, item: OrderItem) -> dict[str, Any]:
    """An order line (§7.4); a cart-level promotion is an ordinary item with negative prices (B33)."""
    currency = order.currency
    if item.kind is OrderItemKind.PROMOTION:
        negative = display_amount(item.value, 1)
        zero = display_amount(0, 1)
        blocks: dict[str, Any] = {
            "with_tax": display_block(negative, currency),
            "without_tax": display_block(negative, currency),
            "tax": display_block(zero, currency),
            "discount": display_block(zero, currency),
            "without_discount": display_block(zero, currency),
        }
    else:
        discounted = display_amount(item.discounted_value, item.quantity)
        blocks = {
            "with_tax": display_block(discounted, currency),
            "without_tax": display_block(discounted, currency),
            "tax": display_block(display_amount(0, item.quantity), currency),
            "discount": display_block(display_amount(-item.discount, item.quantity), currency),
            "without_discount": display_block(display_amount(item.value, item.quantity), currency),
        }
        if item.item_discounts:
            blocks["discounts"] = {
                d.code: {
                    **formatted_price(-d.amount, currency),
                    "constituents": {d.promotion_id: formatted_price(-d.amount, currency)},
                }
                for d in item.item_discounts
            }
    resource: dict[str, Any] = {
        "type": "order_item",
        "id": item.id,
        "quantity": item.quantity,
        "product_id": item.product_id,
        "name": item.name,
        "sku": item.sku,
        "unit_price": price(item.unit_price, currency, item.includes_tax),
        "value": price(item.value, currency, item.includes_tax),
    }
    if item.item_discounts:
        resource["discounts"] = [
            {"amount": price(-d.amount, currency, False), "code": d.code, "id": d.promotion_id}
            for d in item.item_discounts
        ]
    at = {"created_at": timestamp(order.created_at), "updated_at": timestamp(order.created_at)}
    resource["links"] = {}
    resource["meta"] = {"display_price": blocks, "timestamps": at}
    resource["relationships"] = {"cart_item": {"data": {"type": "cart_item", "id": item.cart_item_id}}}
    if item.kind is OrderItemKind.PRODUCT:
        if item.catalog_id:
            resource["catalog_id"] = item.catalog_id
        resource["catalog_source"] = "pim"
    if item.custom_inputs:
        resource["custom_inputs"] = dict(item.custom_inputs)
    return resource


def order_document(order: Order, items: list[OrderItem], include: frozenset[str]) -> dict[str, Any]:
    """C3 and O1: the order, with `included.items` and `included.promotions` as asked."""
    document: dict[str, Any] = {"data": order_resource(order, items, include=include)}
    included: dict[str, Any] = {}
    if "items" in include:
        included["items"] = [order_item_resource(order, item) for item in items]
    if "promotions" in include:
        shown = [p for p in order.promotions if p.cart_level or "items" in include]
        included["promotions"] = [condensed(p) for p in shown]
    if included:
        document["included"] = included
    return document


def order_items_document(order: Order, items: list[OrderItem], include: frozenset[str]) -> dict[str, Any]:
    """O2: the items; `include=promotions` adds order- and item-level promotions."""
    document: dict[str, Any] = {"data": [order_item_resource(order, item) for item in items]}
    if "promotions" in include:
        document["included"] = {"promotions": [condensed(p) for p in order.promotions]}
    return document


def condensed(promotion: OrderPromotion) -> dict[str, Any]:
    """A promotion of an order as `included.promotions` shows it (§3.5)."""
    return {
        "type": "promotion",
        "id": promotion.id,
        "name": promotion.name,
        "description": promotion.description,
        "automatic": promotion.automatic,
        "promotion_type": promotion.promotion_type,
        "start": _seconds(promotion.start),
        "end": _seconds(promotion.end),
    }


def _seconds(value: Any) -> str:
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"


def usage_resource(usage: Usage) -> dict[str, Any]:
    """A usage record (§8.1)."""
    resource: dict[str, Any] = {
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
