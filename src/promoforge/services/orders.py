"""Orders (O1-O4): read them, list them, cancel or fulfil them; an order's numbers never change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from promoforge.domain.errors import OrderNotFound
from promoforge.domain.integrations import events
from promoforge.domain.orders import (
    NEWEST_FIRST,
    ORDER_NOT_FOUND,
    OrderChanges,
    OrderOwner,
    OrderStatus,
    ShippingStatus,
    changed_order,
)
from promoforge.domain.queries import Comparison, Page, SortKey
from promoforge.services.checkout import OrderView
from promoforge.storage.repositories.transactions import Transactor

__all__ = ["ORDER_NOT_FOUND", "OrderOwner", "get_order", "list_orders", "update_order"]


def get_order(uow: Transactor, *, store_id: str, order_id: str, owner: OrderOwner) -> OrderView:
    """One order with its items (O1, O2); 404 when it is not the caller's to read."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        order = repos.orders.get(order_id)
        if order is None or not owner.owns(order):
            raise OrderNotFound(ORDER_NOT_FOUND)
        return OrderView(order, repos.orders.items(order.id))


def list_orders(
    uow: Transactor,
    *,
    store_id: str,
    page: Page,
    comparisons: Sequence[Comparison],
    owner: OrderOwner,
    sort: SortKey = NEWEST_FIRST,
) -> tuple[list[OrderView], int]:
    """A page of orders, newest first unless sorted (O3); an implicit token sees only its customer's or
    account's."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        if owner.trusted:
            orders, total = repos.orders.list_page(page, comparisons, sort=sort)
        else:
            orders, total = repos.orders.list_page(
                page, comparisons, sort=sort, customer_id=owner.customer_id, account_id=owner.account_id
            )
        return [OrderView(order, repos.orders.items(order.id)) for order in orders], total


def update_order(
    uow: Transactor, *, store_id: str, order_id: str, changes: OrderChanges, now: datetime
) -> OrderView:
    """Cancel, fulfil or re-reference an order (O4); code uses are never given back (B20)."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        order = repos.orders.get(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(ORDER_NOT_FOUND)
        changed = changed_order(order, changes, now)
        repos.orders.save(changed)
        view = OrderView(changed, repos.orders.items(order.id))
        store = tx.stores.get(store_id)
        assert store is not None
        if replace(changed, updated_at=order.updated_at) != order:
            tx.outbox.record(store, events.ORDER_UPDATED, view, now)
            # The specific events come with order.updated, never instead of it (D-I31).
            if changed.status != order.status and changed.status == OrderStatus.CANCELLED:
                tx.outbox.record(store, events.ORDER_CANCELLED, view, now)
            if changed.shipping != order.shipping and changed.shipping == ShippingStatus.FULFILLED:
                tx.outbox.record(store, events.ORDER_FULFILLED, view, now)
        return view
