"""Checkout, order update and usage anonymisation bodies (carts.md §7-§8)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from promoforge.api.documents.common import RequestBody
from promoforge.domain.orders import (
    BILLING_FIELDS,
    SHIPPING_FIELDS,
    CheckoutDetails,
    OrderChanges,
    OrderStatus,
    Party,
    ShippingStatus,
)
from promoforge.services.checkout import AccountClaim, BuyerClaim, Contact, CustomerClaim

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


class AddressBody(RequestBody):
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


class CustomerBody(RequestBody):
    """`customer`: an id (a), a guest's name and e-mail (b), or an id with them."""

    id: Text | None = None
    name: Text | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _id_or_guest(self) -> CustomerBody:
        if self.id is None and (self.name is None or self.email is None):
            raise PydanticCustomError("missing", "a customer needs an id, or a name and an email")
        return self


class AccountBody(RequestBody):
    """`account` of a client-credentials account checkout (c)."""

    id: RequiredText
    member_id: RequiredText


class ContactBody(RequestBody):
    """`contact` of an account checkout (c, d)."""

    name: RequiredText
    email: Email


class CheckoutData(RequestBody):
    """C3's `data`: who buys, the addresses and the shop's references (§7.1)."""

    customer: CustomerBody | None = None
    account: AccountBody | None = None
    contact: ContactBody | None = None
    billing_address: AddressBody
    shipping_address: AddressBody | None = None
    order_number: Text | None = None
    external_ref: Annotated[StrictStr, Field(max_length=MAX_EXTERNAL_REF)] | None = None

    def buyer(self) -> BuyerClaim:
        """Who the body says buys; the checkout service judges it against the caller's credentials."""
        customer, account, contact = self.customer, self.account, self.contact
        return BuyerClaim(
            customer=None if customer is None else CustomerClaim(customer.id, customer.name, customer.email),
            account=None if account is None else AccountClaim(account.id, account.member_id),
            contact=None if contact is None else Contact(contact.name, contact.email),
        )


class CheckoutRequest(RequestBody):
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


class OrderUpdateData(RequestBody):
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


class OrderUpdateRequest(RequestBody):
    """`{"data": {"type": "order", ...}}`."""

    data: OrderUpdateData


class AnonymizeData(RequestBody):
    """E17's `data`."""

    usage_ids: Annotated[
        list[Annotated[StrictStr, Field(max_length=64)]], Field(min_length=1, max_length=MAX_USAGE_IDS)
    ]


class AnonymizeRequest(RequestBody):
    """`{"data": {"usage_ids": [...]}}`."""

    data: AnonymizeData
