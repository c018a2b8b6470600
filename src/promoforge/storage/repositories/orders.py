"""A store's orders with their items, and the idempotency keys of checkouts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, delete, exists, insert, select, update

from promoforge.domain.orders import (
    NEWEST_FIRST,
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
)
from promoforge.domain.queries import Comparison, Page, SortKey
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.filtering import comparison_condition
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import checkout_keys, order_items, orders

_ORDER_FIELDS: dict[str, ColumnElement[Any]] = {
    "status": orders.c.status,
    "payment": orders.c.payment,
    "shipping": orders.c.shipping,
    "name": orders.c.name,
    "email": orders.c.email,
    "customer_id": orders.c.customer_id,
    "account_id": orders.c.account_id,
    "account_member_id": orders.c.account_member_id,
    "external_ref": orders.c.external_ref,
    "order_number": orders.c.order_number,
    "with_tax": orders.c.with_tax,
    "without_tax": orders.c.with_tax,
    "currency": orders.c.currency,
    "created_at": orders.c.created_at,
    "updated_at": orders.c.updated_at,
}
_ITEM_FIELDS = {"product_id": order_items.c.product_id, "product_sku": order_items.c.sku}


class OrderRepository:
    """Orders of one store."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def add(self, order: Order, items: Sequence[OrderItem]) -> None:
        """Insert an order and its items."""
        # Values as parameters, not in the statement, so that its compiled form is cached.
        self.connection.execute(insert(orders), _order_values(order))
        if items:
            self.connection.execute(
                insert(order_items),
                [_item_values(order, position, item) for position, item in enumerate(items)],
            )

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """One order; `for_update` locks it until the transaction ends."""
        query = select(orders).where(orders.c.store_id == self.store_id, orders.c.id == order_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _order(row) if row else None

    def items(self, order_id: str) -> list[OrderItem]:
        """An order's items in order."""
        rows = self.connection.execute(
            select(order_items)
            .where(order_items.c.store_id == self.store_id, order_items.c.order_id == order_id)
            .order_by(order_items.c.position)
        ).all()
        return [_item(row) for row in rows]

    def save(self, order: Order) -> None:
        """Write an order's changeable fields."""
        values = _order_values(order)
        self.connection.execute(
            update(orders)
            .where(orders.c.store_id == self.store_id, orders.c.id == order.id)
            .values(
                **{
                    key: values[key]
                    for key in (
                        "status",
                        "shipping",
                        "shipping_address",
                        "order_number",
                        "external_ref",
                        "updated_at",
                    )
                }
            )
        )

    def list_page(
        self,
        page: Page,
        comparisons: Sequence[Comparison] = (),
        *,
        sort: SortKey = NEWEST_FIRST,
        customer_id: str | None = None,
        account_id: str | None = None,
    ) -> tuple[list[Order], int]:
        """A page of orders matching every comparison (and the owner, when given), in `sort` order."""
        conditions: list[ColumnElement[bool]] = [orders.c.store_id == self.store_id]
        if customer_id is not None or account_id is not None:
            owners = []
            if customer_id is not None:
                owners.append(orders.c.customer_id == customer_id)
            if account_id is not None:
                owners.append(orders.c.account_id == account_id)
            conditions.append(owners[0] if len(owners) == 1 else owners[0] | owners[1])
        for comparison in comparisons:
            if comparison.field in _ITEM_FIELDS:
                item_condition = comparison_condition(_ITEM_FIELDS[comparison.field], comparison)
                conditions.append(
                    exists().where(
                        order_items.c.order_id == orders.c.id,
                        order_items.c.store_id == self.store_id,
                        item_condition,
                    )
                )
            else:
                conditions.append(comparison_condition(_ORDER_FIELDS[comparison.field], comparison))
        return count_and_page(self.connection, orders, and_(*conditions), _order_by(sort), page, _order)

    def claim_key(self, key: str, claim: KeyClaim) -> bool:
        """Record that this key makes this order; False if the store holds the key already.

        On PostgreSQL a second claim of a key whose first claim is not yet committed waits for it, so
        racing repeats all see the first order.
        """
        inserted = self.connection.execute(
            self.ops.insert_ignoring_conflicts(checkout_keys)
            .values(store_id=self.store_id, key=key, **_claim_values(claim))
            .returning(checkout_keys.c.key)
        ).first()
        return inserted is not None

    def claimed_key(self, key: str) -> KeyClaim | None:
        """Who claimed a key, for which cart, request and order, and when."""
        row = self.connection.execute(
            select(
                checkout_keys.c.cart_id,
                checkout_keys.c.order_id,
                checkout_keys.c.owner,
                checkout_keys.c.request_digest,
                checkout_keys.c.created_at,
            ).where(checkout_keys.c.store_id == self.store_id, checkout_keys.c.key == key)
        ).first()
        if row is None:
            return None
        return KeyClaim(
            cart_id=str(row.cart_id),
            order_id=str(row.order_id),
            owner=row.owner,
            request_digest=row.request_digest,
            claimed_at=row.created_at,
        )

    def reclaim_key(self, key: str, claimed_at: datetime, claim: KeyClaim) -> bool:
        """Take over an expired key, if nobody else took it over since it was read."""
        result = self.connection.execute(
            update(checkout_keys)
            .where(
                checkout_keys.c.store_id == self.store_id,
                checkout_keys.c.key == key,
                checkout_keys.c.created_at == claimed_at,
            )
            .values(**_claim_values(claim))
        )
        return result.rowcount == 1


def _claim_values(claim: KeyClaim) -> dict[str, Any]:
    return {
        "cart_id": claim.cart_id,
        "order_id": claim.order_id,
        "owner": claim.owner,
        "request_digest": claim.request_digest,
        "created_at": claim.claimed_at,
    }


def _order_by(sort: SortKey) -> tuple[ColumnElement[Any], ...]:
    """The sort field, then newest first and the id, so that equal values keep one order across pages."""
    column = _ORDER_FIELDS[sort.field]
    first = column.desc() if sort.descending else column.asc()
    if sort.field == "created_at":
        return (first, orders.c.id.desc() if sort.descending else orders.c.id.asc())
    return (first, orders.c.created_at.desc(), orders.c.id.desc())


def purge_checkout_keys_before(connection: Connection, moment: datetime) -> int:
    """Delete the idempotency keys claimed before `moment`, across stores."""
    return int(connection.execute(delete(checkout_keys).where(checkout_keys.c.created_at < moment)).rowcount)


def _order_values(order: Order) -> dict[str, Any]:
    party = order.party
    return {
        "id": order.id,
        "store_id": order.store_id,
        "cart_id": order.cart_id,
        "status": order.status.value,
        "payment": order.payment.value,
        "shipping": order.shipping.value,
        "currency": order.currency,
        "without_discount": order.without_discount,
        "discount": order.discount,
        "with_tax": order.with_tax,
        "customer_id": party.customer_id,
        "account_id": party.account_id,
        "account_member_id": party.account_member_id,
        "name": party.name,
        "email": party.email,
        "party": party.kind.value,
        "billing_address": dict(order.billing_address),
        "shipping_address": dict(order.shipping_address),
        "order_number": order.order_number,
        "external_ref": order.external_ref,
        "custom_attributes": dict(order.custom_attributes) if order.custom_attributes else None,
        "promotions": [_promotion_document(p) for p in order.promotions],
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _promotion_document(promotion: OrderPromotion) -> dict[str, Any]:
    return {
        "id": promotion.id,
        "name": promotion.name,
        "description": promotion.description,
        "automatic": promotion.automatic,
        "promotion_type": promotion.promotion_type,
        "start": promotion.start.isoformat(),
        "end": promotion.end.isoformat(),
        "cart_level": promotion.cart_level,
    }


def _order(row: Row[Any]) -> Order:
    m = row._mapping
    return Order(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        cart_id=m["cart_id"],
        status=OrderStatus(m["status"]),
        payment=PaymentStatus(m["payment"]),
        shipping=ShippingStatus(m["shipping"]),
        currency=m["currency"],
        without_discount=int(m["without_discount"]),
        discount=int(m["discount"]),
        party=Party(
            kind=PartyKind(m["party"]),
            name=m["name"],
            email=m["email"],
            customer_id=m["customer_id"],
            account_id=m["account_id"],
            account_member_id=m["account_member_id"],
        ),
        billing_address=m["billing_address"],
        shipping_address=m["shipping_address"],
        order_number=m["order_number"],
        external_ref=m["external_ref"],
        custom_attributes=m["custom_attributes"],
        promotions=tuple(
            OrderPromotion(
                id=p["id"],
                name=p["name"],
                description=p["description"],
                automatic=p["automatic"],
                promotion_type=p["promotion_type"],
                start=datetime.fromisoformat(p["start"]),
                end=datetime.fromisoformat(p["end"]),
                cart_level=p["cart_level"],
            )
            for p in m["promotions"]
        ),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _item_values(order: Order, position: int, item: OrderItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "store_id": order.store_id,
        "order_id": order.id,
        "position": position,
        "kind": item.kind.value,
        "cart_item_id": item.cart_item_id,
        "product_id": item.product_id,
        "name": item.name,
        "sku": item.sku,
        "quantity": item.quantity,
        "unit_price": item.unit_price,
        "value": item.value,
        "includes_tax": item.includes_tax,
        "discount": item.discount,
        "item_discounts": [
            {"promotion_id": d.promotion_id, "code": d.code, "amount": d.amount} for d in item.item_discounts
        ],
        "catalog_id": item.catalog_id,
        "custom_inputs": dict(item.custom_inputs) if item.custom_inputs else None,
    }


def _item(row: Row[Any]) -> OrderItem:
    m = row._mapping
    return OrderItem(
        id=str(m["id"]),
        kind=OrderItemKind(m["kind"]),
        cart_item_id=m["cart_item_id"],
        product_id=m["product_id"],
        name=m["name"],
        sku=m["sku"],
        quantity=int(m["quantity"]),
        unit_price=int(m["unit_price"]),
        value=int(m["value"]),
        includes_tax=bool(m["includes_tax"]),
        discount=int(m["discount"]),
        item_discounts=tuple(
            ItemDiscount(d["promotion_id"], d["code"], int(d["amount"])) for d in m["item_discounts"]
        ),
        catalog_id=m["catalog_id"],
        custom_inputs=m["custom_inputs"],
    )
