"""Carts: read and change a cart and its lines, apply and remove codes; every answer is priced afresh.

A read costs three statements (the cart with its store, the lines with their products, the codes with
their rows and promotions beside the running automatic ones); a change locks the cart row first and then
reads the same (services/cart_changes.py), and pricing works in memory (services/cart_pricing.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from promoforge.domain.carts import Cart, DiscountSettings
from promoforge.domain.codes import canonical_code
from promoforge.domain.errors import (
    BothDiscountSettings,
    BulkFailed,
    CartExists,
    CartItemNotFound,
    CartRuleBroken,
    CodeNotApplicable,
    DomainError,
    Forbidden,
)
from promoforge.domain.integrations import events
from promoforge.domain.queries import Page
from promoforge.domain.shoppers import Shopper
from promoforge.services.cart_changes import (
    CartChange,
    CartToMerge,
    CartView,
    CodeToApply,
    NewCustomLine,
    NewLine,
    NewProductLine,
    OrderToRepeat,
    count_new_cart,
    fresh_cart,
    lock_or_create,
    promotion_line_id,
)
from promoforge.services.cart_pricing import load_contents, load_many
from promoforge.services.code_attempts import (
    attempt_subjects,
    attempt_window,
    give_back_attempts,
    take_attempts,
    too_many_attempts,
)
from promoforge.storage.repositories.transactions import Transactor

__all__ = [
    "CartChanges",
    "CartToMerge",
    "CartView",
    "CodeToApply",
    "NewCustomLine",
    "NewLine",
    "NewProductLine",
    "OrderToRepeat",
    "promotion_line_id",
]


@dataclass(frozen=True)
class CartChanges:
    """A partial update of a cart (C6): only the fields given change."""

    name: str | None = None
    description: str | None = None
    discount_settings: DiscountSettings | None = None
    snapshot_date: datetime | None = None
    custom_attributes: dict[str, dict[str, object]] | None = None
    removes_snapshot_date: bool = False


# Reading


def get_cart(uow: Transactor, *, store_id: str, cart_id: str, shopper: Shopper, now: datetime) -> CartView:
    """A cart, priced now; an unknown id reads as an empty cart and nothing is written."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        stored, store = repos.pricing.cart(cart_id)
        assert store is not None
        cart = stored or fresh_cart(store_id, cart_id, now)
        shopper.check_may_open(cart)
        loaded = load_contents(repos, cart, store, shopper, now)
        priced, promotions = loaded.price(now)
        return CartView(cart, loaded.items, loaded.codes, priced, promotions, store.cart_expiry_days)


def list_carts(
    uow: Transactor,
    *,
    store_id: str,
    page: Page,
    customer_id: str | None,
    account_id: str | None = None,
    shopper: Shopper,
    now: datetime,
) -> tuple[list[CartView], int]:
    """A page of the store's carts (or a customer's or an account's), latest change first, priced."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        found, total = repos.carts.list_page(page, customer_id=customer_id, account_id=account_id)
        store = tx.stores.get(store_id)
        assert store is not None
        lines, codes, inputs = load_many(repos, found, shopper, now)
        views: list[CartView] = []
        for cart in found:
            items, applied = lines.get(cart.id, []), codes.get(cart.id, [])
            priced, promotions = inputs.price(cart, items, applied, now)
            views.append(CartView(cart, items, applied, priced, promotions, store.cart_expiry_days))
        return views, total


# Carts


def create_cart(
    uow: Transactor,
    *,
    store_id: str,
    cart_id: str | None,
    changes: CartChanges,
    customer_id: str | None,
    shopper: Shopper,
    now: datetime,
) -> CartView:
    """Create a cart (C4), with the caller's id or a new one; 409 if the id is taken (B7)."""
    _check_may_preview(changes, shopper)
    with uow.write() as tx:
        repos = tx.store(store_id)
        cart = _changed(fresh_cart(store_id, cart_id or uuid.uuid4().hex, now), changes, now)
        cart = replace(cart, customer_id=customer_id, account_id=shopper.account_id, stored=True)
        if not repos.carts.add(cart):
            raise CartExists("A cart with this id already exists", meta={"cart_id": cart.id})
        store = tx.stores.get(store_id)
        assert store is not None
        count_new_cart(tx, store_id, shopper, now, store)
        view = CartView(
            cart, [], [], *load_contents(repos, cart, store, shopper, now).price(now), store.cart_expiry_days
        )
        tx.outbox.record(store, events.CART_UPDATED, view, now)  # EP has no cart.created (D-I32)
        return view


def update_cart(
    uow: Transactor, *, store_id: str, cart_id: str, changes: CartChanges, shopper: Shopper, now: datetime
) -> CartView:
    """Change a cart's attributes (C6); the first write to an unknown id creates the cart."""
    _check_may_preview(changes, shopper)
    with uow.write() as tx:
        repos = tx.store(store_id)
        locked, store = lock_or_create(tx, store_id, cart_id, shopper, now)
        cart = replace(_changed(locked, changes, now), updated_at=now)
        repos.carts.save(cart)
        loaded = load_contents(repos, cart, store, shopper, now)
        priced, promotions = loaded.price(now)
        view = CartView(cart, loaded.items, loaded.codes, priced, promotions, store.cart_expiry_days)
        tx.outbox.record(store, events.CART_UPDATED, view, now)
        return view


def delete_cart(uow: Transactor, *, store_id: str, cart_id: str, shopper: Shopper, now: datetime) -> None:
    """Delete a cart with its lines and codes (C7); an unknown id is already gone."""
    with uow.write() as tx:
        locked = tx.store(store_id).pricing.locked_cart(cart_id)
        if locked is not None:
            cart, store = locked
            shopper.check_may_open(cart)
            tx.store(store_id).carts.delete(cart_id)
            tx.outbox.record(store, events.CART_DELETED, {"type": "cart", "id": cart_id}, now)


# Lines and codes


def add_lines(
    uow: Transactor,
    *,
    store_id: str,
    cart_id: str,
    entries: Sequence[NewLine],
    bulk: bool,
    all_or_nothing: bool,
    shopper: Shopper,
    currency: str | None,
    now: datetime,
) -> CartView:
    """Add products, custom items and codes (C9, C1). One entry's failure is its error; in a bulk request
    without `add_all_or_nothing` the others still go in and the failures are listed beside them (§4.8).

    Every code entry first takes an attempt from the minute's allowances of the cart, of the client
    (an IPv4 address or an IPv6 /64) and of the whole store (D12), taken atomically before any look-up,
    so that neither a bulk array, nor parallel requests, nor new carts and addresses get more guesses than
    the limits; codes that did not fail give their attempt back.
    """
    subjects = attempt_subjects(cart_id, shopper.client)
    window = attempt_window(now)
    wanted = sum(isinstance(entry, CodeToApply) for entry in entries)
    allowance = take_attempts(uow, store_id, subjects, window, wanted, now) if wanted else 0
    failures = 0
    try:
        with uow.write() as tx:
            change = CartChange.begin(tx, store_id, cart_id, shopper, now)
            errors: list[DomainError] = []
            used = 0
            for entry in entries:
                try:
                    if isinstance(entry, CodeToApply):
                        if used == allowance:
                            raise too_many_attempts(now, window)
                        used += 1
                    change.add(entry, currency)
                except DomainError as error:
                    failures += isinstance(error, CodeNotApplicable)
                    if not bulk:
                        raise
                    errors.append(error)
            if errors and all_or_nothing:
                raise BulkFailed(errors)
            view = change.finish()
            # Last, so that the store's counter row stays locked only until the commit.
            give_back_attempts(tx, store_id, list(subjects), window, allowance - failures)
            return replace(view, errors=errors)
    except Exception:
        if allowance > failures:
            # The request's own transaction is rolled back: hand back what did not fail, in one of its own.
            with uow.write() as tx:
                give_back_attempts(tx, store_id, list(subjects), window, allowance - failures)
        raise


def set_quantities(
    uow: Transactor,
    *,
    store_id: str,
    cart_id: str,
    quantities: Sequence[tuple[str, int]],
    shopper: Shopper,
    now: datetime,
) -> CartView:
    """Change line quantities (C10, C13); 0 removes the line (B37). All or none."""
    with uow.write() as tx:
        change = CartChange.begin(tx, store_id, cart_id, shopper, now)
        missing = [item_id for item_id, _ in quantities if change.item(item_id) is None]
        if missing:
            raise CartItemNotFound(
                "The Item doesn't exist in the cart"
                if len(quantities) == 1
                else "Item was not found in the cart",
                meta={"id": missing[0], "ids": missing},
            )
        for item_id, quantity in quantities:
            change.set_quantity(item_id, quantity)
        return change.finish()


def remove_line(
    uow: Transactor, *, store_id: str, cart_id: str, item_id: str, shopper: Shopper, now: datetime
) -> CartView:
    """Remove one line (C11); removing a promotion line removes its code (§4.4)."""
    with uow.write() as tx:
        change = CartChange.begin(tx, store_id, cart_id, shopper, now)
        if change.item(item_id) is not None:
            change.set_quantity(item_id, 0)
        elif not change.remove_promotion_line(item_id):
            raise CartItemNotFound("The Item doesn't exist in the cart", meta={"id": item_id})
        return change.finish()


def remove_all_lines(
    uow: Transactor, *, store_id: str, cart_id: str, shopper: Shopper, now: datetime
) -> None:
    """Empty the cart (C12): every line and code goes, the cart stays."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        locked = repos.pricing.locked_cart(cart_id)
        if locked is not None:
            cart, store = locked
            shopper.check_may_open(cart)
            repos.carts.delete_items(cart_id)
            emptied = replace(cart, currency=None, updated_at=now)
            repos.carts.save(emptied)
            if events.CART_UPDATED in store.observed_events:
                view = CartView(
                    emptied,
                    [],
                    [],
                    *load_contents(repos, emptied, store, shopper, now).price(now),
                    store.cart_expiry_days,
                )
                tx.outbox.record(store, events.CART_UPDATED, view, now)


def remove_code(
    uow: Transactor, *, store_id: str, cart_id: str, code: str, shopper: Shopper, now: datetime
) -> None:
    """Remove a manually applied code (C2); automatic promotions and codes not on the cart are left be."""
    with uow.write() as tx:
        locked = tx.store(store_id).pricing.locked_cart(cart_id)
        if locked is None:
            return
        cart, store = locked
        shopper.check_may_open(cart)
        change = CartChange.of_locked(tx, cart, store, shopper, now)
        key = canonical_code(code)
        applied = [c for c in change.codes if canonical_code(c.code) == key]
        if applied:
            change.remove_codes([c.promotion_id for c in applied])
            change.finish()


def _check_may_preview(changes: CartChanges, shopper: Shopper) -> None:
    """Only a shop's back end may set a preview date: it would show promotions before they start."""
    if changes.snapshot_date is not None and not shopper.trusted:
        raise Forbidden("Only client_credentials tokens may set a cart's snapshot_date")


def _changed(cart: Cart, changes: CartChanges, now: datetime) -> Cart:
    """The cart with the changes made, if the preview rules allow them (§3.1, §3.6)."""
    if changes.removes_snapshot_date and cart.snapshot_date is not None:
        raise CartRuleBroken("A preview cart cannot lose its snapshot_date", source="data.snapshot_date")
    if changes.snapshot_date is not None and changes.snapshot_date <= now:
        raise CartRuleBroken("snapshot_date must be in the future", source="data.snapshot_date")
    settings = changes.discount_settings or cart.discount_settings
    if settings.custom_discounts_enabled and settings.use_rule_promotions:
        raise BothDiscountSettings(
            "Only one discount setting can be set to true at a time.", source="data.discount_settings"
        )
    return replace(
        cart,
        name=cart.name if changes.name is None else changes.name,
        description=cart.description if changes.description is None else changes.description,
        discount_settings=changes.discount_settings or cart.discount_settings,
        snapshot_date=changes.snapshot_date or cart.snapshot_date,
        custom_attributes=cart.custom_attributes
        if changes.custom_attributes is None
        else changes.custom_attributes,
    )
