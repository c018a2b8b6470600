"""Orders made at checkout, their items, and the usage records of the codes they consumed (carts.md §7-§8)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from promoforge.domain.codes import ConsumeUnit
from promoforge.domain.errors import OrderStateConflict
from promoforge.domain.pricing import Application
from promoforge.domain.queries import SortKey

BILLING_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "line_1",
    "line_2",
    "city",
    "county",
    "region",
    "postcode",
    "country",
)
SHIPPING_FIELDS = (*BILLING_FIELDS[:2], "phone_number", *BILLING_FIELDS[2:], "instructions")
IDEMPOTENCY_WINDOW = timedelta(hours=24)  # D13
ANONYMIZED_EMAIL = "**"  # B28
ORDER_NOT_FOUND = "Order not found"  # also for an order the caller may not read
NEWEST_FIRST = SortKey("created_at", descending=True)  # O3 without `sort`
# What O3 sorts by: the SDK's `OrderSort` (R9), each ascending or, with `-`, descending.
ORDER_SORT_FIELDS = frozenset({"created_at", "with_tax", "status", "payment", "shipping"})


class OrderStatus(StrEnum):
    """Where an order is in its life (§7.3)."""

    INCOMPLETE = "incomplete"
    PROCESSING = "processing"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """What has been paid; PromoForge takes no payments, so orders stay unpaid (B49)."""

    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_AUTHORIZED = "partially_authorized"


class ShippingStatus(StrEnum):
    """Whether the order has been sent."""

    UNFULFILLED = "unfulfilled"
    FULFILLED = "fulfilled"


class OrderItemKind(StrEnum):
    """What an order line came from: a product, a custom item, or a Standard cart-level promotion (B33)."""

    PRODUCT = "product"
    CUSTOM = "custom"
    PROMOTION = "promotion"


class PartyKind(StrEnum):
    """How the order names its buyer: `customer` (customer id or guest) or `contact` (accounts)."""

    CUSTOMER = "customer"
    CONTACT = "contact"


@dataclass(frozen=True)
class Party:
    """Who bought: the name and e-mail the order shows, and the ids it is linked to."""

    kind: PartyKind
    name: str
    email: str
    customer_id: str | None = None
    account_id: str | None = None
    account_member_id: str | None = None


@dataclass(frozen=True)
class CheckoutDetails:
    """What a checkout request says besides the cart: buyer, addresses and the shop's references."""

    party: Party
    billing_address: Mapping[str, str]
    shipping_address: Mapping[str, str]
    order_number: str | None = None
    external_ref: str | None = None

    def digest(self) -> str:
        """A fingerprint of the request: a retry under the same Idempotency-Key must carry the same one."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class KeyClaim:
    """One use of an Idempotency-Key (D13): the cart and the order it makes, who sent it (`owner`: the
    token kind and the customer or account it proves) and a digest of what they sent."""

    cart_id: str
    order_id: str
    owner: str | None
    request_digest: str | None
    claimed_at: datetime

    def refusal(self, repeat: KeyClaim) -> str | None:
        """Why `repeat` may not have this claim's order back, or None when it is the same request again.

        As the IETF Idempotency-Key draft and Stripe do, a key belongs to its first caller and request; a
        claim made before keys were owned (no owner) is nobody's to read back.
        """
        if self.owner is None or self.owner != repeat.owner:
            return "This Idempotency-Key was used by another caller; use a key of your own"
        if self.cart_id != repeat.cart_id:
            return "This Idempotency-Key was used to check out another cart"
        if self.request_digest != repeat.request_digest:
            return "This Idempotency-Key was used with a different request body"
        return None


@dataclass(frozen=True)
class ItemDiscount:
    """An item-level promotion's discount on an order line, as a positive amount."""

    promotion_id: str
    code: str
    amount: int


@dataclass(frozen=True)
class OrderItem:
    """A line of an order with the final numbers of the checkout pricing.

    `discount` is everything taken off the line (its item-level discounts and its shares of cart-level
    promotions), as a positive amount; promotion lines carry their negative amount as price instead.
    """

    id: str
    kind: OrderItemKind
    cart_item_id: str
    product_id: str
    name: str
    sku: str
    quantity: int
    unit_price: int
    value: int
    includes_tax: bool
    discount: int = 0
    item_discounts: tuple[ItemDiscount, ...] = ()
    catalog_id: str | None = None
    custom_inputs: Mapping[str, object] | None = None

    @property
    def discounted_value(self) -> int:
        """The line total after every discount."""
        return self.value - self.discount


@dataclass(frozen=True)
class OrderPromotion:
    """A promotion as it was when the order was made (condensed, §3.5), and whether it was cart-level."""

    id: str
    name: str
    description: str
    automatic: bool
    promotion_type: str
    start: datetime
    end: datetime
    cart_level: bool


@dataclass(frozen=True)
class Order:
    """An order of one store: written once at checkout; status, shipping and references change later."""

    id: str
    store_id: str
    cart_id: str
    status: OrderStatus
    payment: PaymentStatus
    shipping: ShippingStatus
    currency: str
    without_discount: int
    discount: int
    party: Party
    billing_address: Mapping[str, str]
    shipping_address: Mapping[str, str]
    order_number: str | None
    external_ref: str | None
    custom_attributes: Mapping[str, Mapping[str, object]] | None
    promotions: tuple[OrderPromotion, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def with_tax(self) -> int:
        """The total after discounts; no tax items, so with and without tax are equal (B35)."""
        return self.without_discount - self.discount


@dataclass(frozen=True)
class OrderOwner:
    """Whose orders an implicit token may read: the customer or account its headers prove (D10).

    None of either for a trusted (client_credentials) caller, who reads every order of the store.
    """

    trusted: bool
    customer_id: str | None = None
    account_id: str | None = None

    def owns(self, order: Order) -> bool:
        """Whether this caller may read the order."""
        if self.trusted:
            return True
        party = order.party
        return (self.customer_id is not None and party.customer_id == self.customer_id) or (
            self.account_id is not None and party.account_id == self.account_id
        )


@dataclass(frozen=True)
class OrderChanges:
    """An admin update of an order (O4); None leaves a field as it is."""

    status: OrderStatus | None = None
    shipping: ShippingStatus | None = None
    shipping_address: Mapping[str, str] | None = None
    order_number: str | None = None
    external_ref: str | None = None


def changed_order(order: Order, changes: OrderChanges, now: datetime) -> Order:
    """The order with an admin update applied; cancel only while unfulfilled, fulfil only once paid."""
    status, shipping = order.status, order.shipping
    if changes.status is not None and changes.status is not order.status:
        if changes.status is not OrderStatus.CANCELLED or order.shipping is ShippingStatus.FULFILLED:
            raise OrderStateConflict("Order cannot be updated in its current state")
        status = changes.status
    if changes.shipping is not None and changes.shipping is not order.shipping:
        fulfil = changes.shipping is ShippingStatus.FULFILLED
        if not fulfil or order.payment is not PaymentStatus.PAID or status is OrderStatus.CANCELLED:
            raise OrderStateConflict("Order cannot be updated in its current state")
        shipping = changes.shipping
    return Order(
        **{
            **order.__dict__,
            "status": status,
            "shipping": shipping,
            "shipping_address": changes.shipping_address or order.shipping_address,
            "order_number": order.order_number if changes.order_number is None else changes.order_number,
            "external_ref": order.external_ref if changes.external_ref is None else changes.external_ref,
            "updated_at": now,
        }
    )


def uses_consumed(application: Application, consume_unit: ConsumeUnit) -> int:
    """How many uses a code that gave this discount loses at checkout (§7.5, B18)."""
    return application.applications if consume_unit is ConsumeUnit.PER_ITEM else 1


@dataclass(frozen=True)
class Usage:
    """One order's use of one code (B19): what it consumed, when, and by whom."""

    id: str
    promotion_id: str
    code_id: str
    code: str
    order_id: str | None
    times_used: int
    used_on: datetime
    customer_id: str | None
    account_id: str | None
    customer_email: str | None
    anonymized: bool
    updated_at: datetime
    updated_by: str | None = None
