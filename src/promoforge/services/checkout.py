"""Checkout (C3): a priced cart becomes an order, and the codes that gave a discount lose their uses.

The cart is first priced in a read transaction (a draft), so that the pricing, the costly part, holds no
lock. Then one write transaction locks the cart, then the cart's codes in id order, and checks that the
draft still holds for what it locked: the same cart, lines and codes, and uses left that give the same
discounts. If not, it prices again under the locks. It takes each discounting code's uses in one
conditional statement, and writes the usage records, the order and its items. Either all of it commits
or none of it (§7.5, docs/adr/0011).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from promoforge.domain.carts import AppliedCode, Cart, CartItem, amounts_fit
from promoforge.domain.codes import ConsumeUnit, PromotionCode
from promoforge.domain.errors import (
    CartEmpty,
    CartRuleBroken,
    FieldProblem,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    WriteConflict,
)
from promoforge.domain.identifiers import new_id
from promoforge.domain.integrations import events
from promoforge.domain.money import MAX_AMOUNT
from promoforge.domain.orders import (
    IDEMPOTENCY_WINDOW,
    CheckoutDetails,
    ItemDiscount,
    KeyClaim,
    Order,
    OrderItem,
    OrderItemKind,
    OrderPromotion,
    OrderStatus,
    Party,
    PartyKind,
    PaymentStatus,
    ShippingStatus,
    Usage,
    uses_consumed,
)
from promoforge.domain.pricing import Application, LineKind, PricedCart
from promoforge.domain.promotions import Promotion
from promoforge.domain.shoppers import Shopper
from promoforge.services.cart_changes import promotion_line_id
from promoforge.services.cart_pricing import Priced, load_contents, load_inputs
from promoforge.storage.repositories.transactions import StoreScope, Transactor


@dataclass(frozen=True)
class OrderView:
    """An order with its items, as the API shows it; `repeated` when an idempotent retry returned it."""

    order: Order
    items: list[OrderItem]
    repeated: bool = False
    usages: tuple[Usage, ...] = ()
    # Encoded documents of this view, by what they show: the checkout's answer is also its order.created
    # payload, so it is rendered and encoded once.
    encoded: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)


def checkout(
    uow: Transactor,
    *,
    store_id: str,
    cart_id: str,
    details: CheckoutDetails,
    shopper: Shopper,
    idempotency_key: str | None,
    now: datetime,
) -> OrderView:
    """Turn the cart into an order, consuming each discounting code's uses exactly once (C3, §7.5, D13)."""
    draft = _draft(uow, store_id, cart_id, shopper, now)
    with uow.write() as tx:
        repos = tx.store(store_id)
        order_id = new_id()
        if idempotency_key is not None:
            claim = KeyClaim(cart_id, order_id, _key_owner(shopper), details.digest(), now)
            earlier = _claim(repos, idempotency_key, claim)
            if earlier is not None:
                order = repos.orders.get(earlier)
                if order is not None:
                    return OrderView(order, repos.orders.items(order.id), repeated=True)
        locked_cart = repos.pricing.locked_cart(cart_id)
        cart = locked_cart[0] if locked_cart is not None else None
        store = locked_cart[1] if locked_cart is not None else None
        if cart is not None:
            shopper.check_may_open(cart)
        if cart is not None and cart.snapshot_date is not None:
            raise CartRuleBroken("Cannot checkout a cart with a snapshot_date")
        items = repos.pricing.lines([cart_id])[0].get(cart_id, []) if cart is not None else []
        if cart is None or not items:
            raise CartEmpty("The cart is empty")
        if not amounts_fit((item.unit_price, item.quantity) for item in items):
            # Only a cart written before lines were bounded can hold such amounts.
            raise CartRuleBroken(f"The cart's total is above the largest amount, {MAX_AMOUNT} minor units")
        applied = repos.carts.codes(cart_id)
        locked = repos.codes.lock([code.code_id for code in applied])
        if draft is not None and draft.holds(cart, items, applied, locked):
            priced, promotions = draft.priced, draft.promotions
        else:
            priced, promotions = _price_locked(repos, cart, items, applied, locked, shopper, now)
        usages: list[Usage] = []
        exhausted: list[PromotionCode] = []
        for code in applied:
            application = priced.application(code.promotion_id)
            row = locked.get(code.code_id)
            if application is None or row is None or application.code != code.code:
                continue  # gave nothing: not consumed, no usage record (B17, B19)
            needed = uses_consumed(application, ConsumeUnit(row.consume_unit))
            # Pricing capped the discount at the locked row's uses, so the statement cannot miss.
            if row.uses is not None and not repos.codes.consume(row.id, needed):
                raise WriteConflict("a code's uses changed while it was locked; try again")
            if row.uses is not None and row.uses > 0 and row.uses == needed:
                exhausted.append(replace(row, uses=0))
            usages.append(
                Usage(
                    id=new_id(),
                    promotion_id=code.promotion_id,
                    code_id=row.id,
                    code=row.code,
                    order_id=order_id,
                    times_used=needed,
                    used_on=now,
                    customer_id=details.party.customer_id,
                    account_id=details.party.account_id,
                    customer_email=details.party.email or None,
                    anonymized=False,
                    updated_at=now,
                )
            )
        order = _order(order_id, cart, priced, promotions, details, now)
        order_items = _order_items(cart, items, priced, promotions)
        repos.orders.add(order, order_items)
        repos.usages.add(usages)
        view = OrderView(order, order_items, usages=tuple(usages))
        assert store is not None
        tx.outbox.record(store, events.ORDER_CREATED, view, now)
        for usage in usages:
            tx.outbox.record(store, events.PROMOTION_USAGE_CREATED, usage, now)
        for used_up in exhausted:
            tx.outbox.record(store, events.PROMOTION_CODE_EXHAUSTED, used_up, now)
        return view


@dataclass(frozen=True)
class _Draft:
    """The cart as priced before any lock, with the code rows that pricing saw."""

    cart: Cart
    items: list[CartItem]
    applied: list[AppliedCode]
    code_rows: dict[str, PromotionCode]
    priced: PricedCart
    promotions: dict[str, Promotion]

    def holds(
        self,
        cart: Cart,
        items: list[CartItem],
        applied: list[AppliedCode],
        locked: dict[str, PromotionCode],
    ) -> bool:
        """Whether pricing under the locks would give exactly this draft: the same cart, lines and codes,
        and for each code uses left that the engine treats alike (they only ever mark a code used up, and
        cap a `per_item` code's applications)."""
        if (cart, items, applied) != (self.cart, self.items, self.applied):
            return False
        for code in applied:
            seen, now = self.code_rows.get(code.code_id), locked.get(code.code_id)
            if seen is None or now is None:
                if seen is not now:
                    return False
                continue
            if replace(seen, uses=0) != replace(now, uses=0):
                return False
            if not _same_effect(seen, now, self.priced.application(code.promotion_id)):
                return False
        return True


def _same_effect(seen: PromotionCode, now: PromotionCode, application: Application | None) -> bool:
    """Whether the uses left now price the code as the uses seen did."""
    if seen.uses is None or now.uses is None:
        return seen.uses is None and now.uses is None
    if seen.uses <= 0 or now.uses <= 0:
        return seen.uses <= 0 and now.uses <= 0
    if ConsumeUnit(seen.consume_unit) is not ConsumeUnit.PER_ITEM:
        return True
    given = application.applications if application is not None else 0
    # Below its uses the budget did not bind, so any budget as large gives the same; at its uses it may
    # have bound, so only the same budget is sure to.
    return now.uses >= given if given < seen.uses else now.uses == seen.uses


def _draft(uow: Transactor, store_id: str, cart_id: str, shopper: Shopper, now: datetime) -> _Draft | None:
    """The cart priced without locks; None when there is nothing to check out (the write phase says why)."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        cart, store = repos.pricing.cart(cart_id)
        if cart is None or store is None or cart.snapshot_date is not None or not shopper.may_open(cart):
            return None
        loaded = load_contents(repos, cart, store, shopper, now)
        if not loaded.items:
            return None
        priced, promotions = loaded.price(now)
        rows = {
            c.code_id: loaded.inputs.rows[c.code_id] for c in loaded.codes if c.code_id in loaded.inputs.rows
        }
        return _Draft(cart, loaded.items, loaded.codes, rows, priced, promotions)


def _price_locked(
    repos: StoreScope,
    cart: Cart,
    items: list[CartItem],
    applied: list[AppliedCode],
    locked: dict[str, PromotionCode],
    shopper: Shopper,
    now: datetime,
) -> Priced:
    """The cart priced under its locks, with the uses its locked codes have left: what pricing reads is
    read again, as the cart changed since the draft."""
    _, _, inputs = load_inputs(repos, cart, shopper, now)
    inputs.rows = dict(locked)
    return inputs.price(cart, items, applied, now)


def _key_owner(shopper: Shopper) -> str:
    """Who a key belongs to: a shop's back end, or a storefront as the customer or account it proves."""
    if shopper.trusted:
        return "client_credentials"
    return json.dumps(["implicit", shopper.customer_id, shopper.account_id])


def _claim(repos: StoreScope, key: str, claim: KeyClaim) -> str | None:
    """Claim the key for the order about to be made; the earlier order's id if this caller made it with
    this same request (D13); 422 for anyone else or any other request."""
    if repos.orders.claim_key(key, claim):
        return None
    earlier = repos.orders.claimed_key(key)
    if earlier is None:
        raise WriteConflict("the idempotency key was released meanwhile; try again")
    if earlier.claimed_at <= claim.claimed_at - IDEMPOTENCY_WINDOW:
        if not repos.orders.reclaim_key(key, earlier.claimed_at, claim):
            raise WriteConflict("the idempotency key was taken meanwhile; try again")
        return None
    refusal = earlier.refusal(claim)
    if refusal is not None:
        raise IdempotencyKeyReused(refusal, source="Idempotency-Key")
    return earlier.order_id


def _order(
    order_id: str,
    cart: Cart,
    priced: PricedCart,
    promotions: dict[str, Promotion],
    details: CheckoutDetails,
    now: datetime,
) -> Order:
    totals = priced.totals
    shown = [(a.promotion_id, a.cart_level) for a in priced.applications]
    return Order(
        id=order_id,
        store_id=cart.store_id,
        cart_id=cart.id,
        status=OrderStatus.INCOMPLETE,
        payment=PaymentStatus.UNPAID,
        shipping=ShippingStatus.UNFULFILLED,
        currency=priced.currency,
        without_discount=totals.without_discount,
        discount=totals.discount,
        party=details.party,
        billing_address=details.billing_address,
        shipping_address=details.shipping_address,
        order_number=details.order_number,
        external_ref=details.external_ref,
        custom_attributes=cart.custom_attributes or None,
        promotions=tuple(
            _condensed(promotions[pid], cart_level) for pid, cart_level in shown if pid in promotions
        ),
        created_at=now,
        updated_at=now,
    )


def _condensed(promotion: Promotion, cart_level: bool) -> OrderPromotion:
    attributes = promotion.attributes
    return OrderPromotion(
        id=promotion.id,
        name=attributes.name,
        description=attributes.description,
        automatic=attributes.automatic,
        promotion_type=attributes.promotion_type.value,
        start=attributes.start,
        end=attributes.end,
        cart_level=cart_level,
    )


def _order_items(
    cart: Cart, items: list[CartItem], priced: PricedCart, promotions: dict[str, Promotion]
) -> list[OrderItem]:
    """Product and custom lines with their final numbers, then one item per cart-level promotion (B33)."""
    lines = {line.line_id: line for line in priced.lines}
    order_items: list[OrderItem] = []
    for item in items:
        line = lines[item.id]
        order_items.append(
            OrderItem(
                id=new_id(),
                kind=OrderItemKind.PRODUCT if item.kind is LineKind.PRODUCT else OrderItemKind.CUSTOM,
                cart_item_id=item.id,
                product_id=item.product_id or "",
                name=item.name,
                sku=item.sku,
                quantity=item.quantity,
                unit_price=item.unit_price,
                value=item.unit_price * item.quantity,
                includes_tax=item.includes_tax,
                discount=line.discount,
                item_discounts=tuple(
                    ItemDiscount(d.promotion_id, d.code, d.amount) for d in line.item_discounts
                ),
                catalog_id=item.catalog_id if item.kind is LineKind.PRODUCT else None,
                custom_inputs=item.custom_inputs,
            )
        )
    for discount in priced.cart_promotions:
        promotion = promotions.get(discount.promotion_id)
        order_items.append(
            OrderItem(
                id=new_id(),
                kind=OrderItemKind.PROMOTION,
                cart_item_id=promotion_line_id(cart.store_id, cart.id, discount.promotion_id),
                product_id=discount.promotion_id,
                name=promotion.attributes.name if promotion else "",
                sku=discount.code,
                quantity=1,
                unit_price=-discount.amount,
                value=-discount.amount,
                includes_tax=False,
            )
        )
    return order_items


@dataclass(frozen=True)
class CustomerClaim:
    """A checkout's `customer`: an id, a guest's name and e-mail, or an id with them."""

    id: str | None
    name: str | None
    email: str | None


@dataclass(frozen=True)
class AccountClaim:
    """A checkout's `account`: the account and the member buying for it."""

    id: str
    member_id: str


@dataclass(frozen=True)
class Contact:
    """Whom an account checkout's order names."""

    name: str
    email: str


@dataclass(frozen=True)
class BuyerClaim:
    """Who a checkout's body says buys (§7.1)."""

    customer: CustomerClaim | None = None
    account: AccountClaim | None = None
    contact: Contact | None = None


def checkout_party(claim: BuyerClaim, shopper: Shopper, *, trusted: bool) -> Party:
    """The buyer of a checkout from what its body claims and the caller's proven identity (§7.1 a-d, D10):
    only a trusted caller names an account, or a customer other than the one the shopper's token proves."""
    if claim.account is not None:
        if not trusted:
            raise Forbidden("An account checkout with an implicit token needs an account token instead")
        return _account_party(claim.contact, claim.account.id, claim.account.member_id)
    if claim.customer is None and shopper.account_id is not None:
        return _account_party(claim.contact, shopper.account_id, shopper.account_member_id)
    customer = claim.customer
    if customer is None:
        raise InvalidInput([FieldProblem("data.customer", "data.customer is required", "required")])
    if customer.id is not None and not trusted and customer.id != shopper.customer_id:
        raise Forbidden("The customer id must be the one the X-Moltin-Customer-Token proves")
    customer_id = customer.id if customer.id is not None else shopper.customer_id
    return Party(PartyKind.CUSTOMER, customer.name or "", customer.email or "", customer_id=customer_id)


def _account_party(contact: Contact | None, account_id: str, member_id: str | None) -> Party:
    if contact is None:
        raise InvalidInput([FieldProblem("data.contact", "data.contact is required", "required")])
    return Party(
        PartyKind.CONTACT, contact.name, contact.email, account_id=account_id, account_member_id=member_id
    )
