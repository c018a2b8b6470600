"""A store's carts, their lines and the codes applied to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from promoforge.domain.carts import AppliedCode, Cart, CartItem, DiscountSettings
from promoforge.domain.identifiers import code_id_parts
from promoforge.domain.pricing import LineKind
from promoforge.domain.queries import Page
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import cart_codes, cart_items, carts, promotion_codes


class CartRepository:
    """Carts of one store. A cart row is the lock that serialises every change to the cart (B53)."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def get(self, cart_id: str, *, for_update: bool = False) -> Cart | None:
        """Return a stored cart; `for_update` locks it until the transaction ends."""
        query = select(carts).where(carts.c.store_id == self.store_id, carts.c.id == cart_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _cart(row) if row else None

    def add(self, cart: Cart) -> bool:
        """Insert a new cart; False when the store already has a cart with this id."""
        inserted = self.connection.execute(
            self.ops.insert_ignoring_conflicts(carts).values(**_cart_values(cart)).returning(carts.c.id)
        ).first()
        return inserted is not None

    def save(self, cart: Cart) -> None:
        """Write a stored cart's attributes."""
        values = _cart_values(cart)
        del values["created_at"]
        values["cart_store_id"], values["cart_id"] = values.pop("store_id"), values.pop("id")
        self.connection.execute(_SAVE_CART, values)

    def delete(self, cart_id: str) -> bool:
        """Delete a cart with its lines and codes; tell whether it existed."""
        self._delete_children(cart_id)
        return bool(
            self.connection.execute(
                delete(carts).where(carts.c.store_id == self.store_id, carts.c.id == cart_id)
            ).rowcount
        )

    def list_page(
        self, page: Page, *, customer_id: str | None = None, account_id: str | None = None
    ) -> tuple[list[Cart], int]:
        """Return a page of the store's carts (or a customer's or an account's), latest change first."""
        condition = carts.c.store_id == self.store_id
        if customer_id is not None:
            condition = and_(condition, carts.c.customer_id == customer_id)
        if account_id is not None:
            condition = and_(condition, carts.c.account_id == account_id)
        return count_and_page(
            self.connection, carts, condition, (carts.c.updated_at.desc(), carts.c.id), page, _cart
        )

    def delete_expired(self, updated_before: datetime, batch: int) -> list[str]:
        """Delete up to `batch` carts not updated since `updated_before`, with their lines and codes; their
        ids."""
        expired = list(
            self.connection.execute(
                select(carts.c.id)
                .where(carts.c.store_id == self.store_id, carts.c.updated_at < updated_before)
                .order_by(carts.c.updated_at)
                .limit(batch)
            ).scalars()
        )
        if not expired:
            return []
        for table in (cart_items, cart_codes):
            self.connection.execute(
                delete(table).where(table.c.store_id == self.store_id, table.c.cart_id.in_(expired))
            )
        self.connection.execute(
            delete(carts).where(carts.c.store_id == self.store_id, carts.c.id.in_(expired))
        )
        return expired

    def items(self, cart_id: str) -> list[CartItem]:
        """The cart's product and custom lines, oldest first (B52)."""
        return self.items_of([cart_id]).get(cart_id, [])

    def items_of(self, cart_ids: Sequence[str]) -> dict[str, list[CartItem]]:
        """The lines of several carts in one query, each cart's oldest first; carts without lines left out."""
        if not cart_ids:
            return {}
        rows = self.connection.execute(
            select(cart_items)
            .where(cart_items.c.store_id == self.store_id, cart_items.c.cart_id.in_(list(cart_ids)))
            .order_by(cart_items.c.cart_id, cart_items.c.created_at, cart_items.c.position)
        ).all()
        found: dict[str, list[CartItem]] = {}
        for row in rows:
            found.setdefault(row.cart_id, []).append(_item(row))
        return found

    def add_item(self, cart_id: str, item: CartItem) -> None:
        """Insert a line after the cart's others (the caller holds the cart's lock)."""
        last = self.connection.execute(
            select(func.max(cart_items.c.position)).where(
                cart_items.c.store_id == self.store_id, cart_items.c.cart_id == cart_id
            )
        ).scalar_one()
        values = _item_values(self.store_id, cart_id, item)
        self.connection.execute(insert(cart_items).values(**values, position=(last or 0) + 1))

    def set_quantity(
        self, cart_id: str, item_id: str, quantity: int, now: datetime, *, auto_add_quantity: int = 0
    ) -> None:
        """Change a line's quantity, and how many of its units were added as free gifts."""
        self.connection.execute(
            _SET_QUANTITY,
            {
                "line_store_id": self.store_id,
                "line_cart_id": cart_id,
                "line_id": item_id,
                "quantity": quantity,
                "auto_add_quantity": auto_add_quantity,
                "updated_at": now,
            },
        )

    def delete_item(self, cart_id: str, item_id: str) -> None:
        """Remove a line."""
        self.connection.execute(delete(cart_items).where(*self._item(cart_id, item_id)))

    def delete_items(self, cart_id: str) -> None:
        """Remove every line and applied code."""
        self._delete_children(cart_id)

    def codes(self, cart_id: str) -> list[AppliedCode]:
        """The codes applied to the cart, in the order they were applied."""
        return self.codes_of([cart_id]).get(cart_id, [])

    def codes_of(self, cart_ids: Sequence[str]) -> dict[str, list[AppliedCode]]:
        """The codes applied to several carts in one query, each cart's in the order applied."""
        if not cart_ids:
            return {}
        rows = self.connection.execute(
            select(cart_codes)
            .where(cart_codes.c.store_id == self.store_id, cart_codes.c.cart_id.in_(list(cart_ids)))
            .order_by(cart_codes.c.cart_id, cart_codes.c.applied_at, cart_codes.c.promotion_id)
        ).all()
        found: dict[str, list[AppliedCode]] = {}
        for row in rows:
            found.setdefault(row.cart_id, []).append(
                AppliedCode(
                    promotion_id=str(row.promotion_id),
                    code_id=str(row.code_id),
                    code=row.code,
                    applied_at=row.applied_at,
                )
            )
        return found

    def apply_code(self, cart_id: str, applied: AppliedCode) -> None:
        """Attach a code, replacing the code of the same promotion if there is one (B15), in one statement."""
        parts = code_id_parts(applied.code_id)
        key = type(self.ops)
        if key not in _APPLY_CODE:
            # A computed id carries its row's seq; a stored id names its row.
            by_id = select(promotion_codes.c.seq).where(promotion_codes.c.id == bindparam("row_id"))
            _APPLY_CODE[key] = self.ops.upsert(cart_codes, ("store_id", "cart_id", "promotion_id")).values(
                code_seq=func.coalesce(bindparam("seq", type_=BigInteger), by_id.scalar_subquery())
            )
        self.connection.execute(
            _APPLY_CODE[key],
            {
                "store_id": self.store_id,
                "cart_id": cart_id,
                "promotion_id": applied.promotion_id,
                "code_id": applied.code_id,
                "row_id": applied.code_id,
                "seq": parts[0] if parts is not None else None,
                "code": applied.code,
                "applied_at": applied.applied_at,
            },
        )

    def remove_codes(self, cart_id: str, promotion_ids: Sequence[str]) -> None:
        """Detach the codes of these promotions."""
        if promotion_ids:
            self.connection.execute(
                delete(cart_codes).where(
                    cart_codes.c.store_id == self.store_id,
                    cart_codes.c.cart_id == cart_id,
                    cart_codes.c.promotion_id.in_(list(promotion_ids)),
                )
            )

    def _item(self, cart_id: str, item_id: str) -> tuple[Any, ...]:
        return (
            cart_items.c.store_id == self.store_id,
            cart_items.c.cart_id == cart_id,
            cart_items.c.id == item_id,
        )

    def _delete_children(self, cart_id: str) -> None:
        # Explicit rather than by cascade: SQLite enforces foreign keys only with the pragma on.
        for table in (cart_items, cart_codes):
            self.connection.execute(
                delete(table).where(table.c.store_id == self.store_id, table.c.cart_id == cart_id)
            )


# Built once (see storage/repositories/pricing_inputs.py): the statements of every cart change.
_APPLY_CODE: dict[type, Any] = {}
_SAVE_CART = update(carts).where(
    carts.c.store_id == bindparam("cart_store_id"), carts.c.id == bindparam("cart_id")
)
_SET_QUANTITY = update(cart_items).where(
    cart_items.c.store_id == bindparam("line_store_id"),
    cart_items.c.cart_id == bindparam("line_cart_id"),
    cart_items.c.id == bindparam("line_id"),
)


def _cart_values(cart: Cart) -> dict[str, Any]:
    return {
        "store_id": cart.store_id,
        "id": cart.id,
        "name": cart.name,
        "description": cart.description,
        "currency": cart.currency,
        "custom_discounts_enabled": cart.discount_settings.custom_discounts_enabled,
        "use_rule_promotions": cart.discount_settings.use_rule_promotions,
        "snapshot_date": cart.snapshot_date,
        "custom_attributes": dict(cart.custom_attributes) or None,
        "customer_id": cart.customer_id,
        "account_id": cart.account_id,
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
    }


def _cart(row: Row[Any]) -> Cart:
    return cart_from(row._mapping)


def cart_from(m: RowMapping) -> Cart:
    """The cart of a row of the carts table."""
    return Cart(
        id=m["id"],
        store_id=str(m["store_id"]),
        name=m["name"],
        description=m["description"],
        currency=m["currency"],
        discount_settings=DiscountSettings(
            custom_discounts_enabled=bool(m["custom_discounts_enabled"]),
            use_rule_promotions=bool(m["use_rule_promotions"]),
        ),
        snapshot_date=m["snapshot_date"],
        custom_attributes=m["custom_attributes"] or {},
        customer_id=m["customer_id"],
        account_id=m["account_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _item_values(store_id: str, cart_id: str, item: CartItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "store_id": store_id,
        "cart_id": cart_id,
        "kind": item.kind.value,
        "merge_key": item.merge_key,
        "product_id": item.product_id,
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "slug": item.slug,
        "image_href": item.image_href,
        "catalog_id": item.catalog_id,
        "unit_price": item.unit_price,
        "includes_tax": item.includes_tax,
        "quantity": item.quantity,
        "custom_inputs": item.custom_inputs,
        "auto_add_quantity": item.auto_add_quantity,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _item(row: Row[Any]) -> CartItem:
    return item_from(row._mapping)


def item_from(m: RowMapping) -> CartItem:
    """The line of a row of the cart_items table."""
    return CartItem(
        id=str(m["id"]),
        kind=LineKind(m["kind"]),
        sku=m["sku"],
        name=m["name"],
        description=m["description"],
        unit_price=int(m["unit_price"]),
        includes_tax=bool(m["includes_tax"]),
        quantity=int(m["quantity"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        product_id=None if m["product_id"] is None else str(m["product_id"]),
        slug=m["slug"],
        image_href=m["image_href"],
        catalog_id=m["catalog_id"],
        custom_inputs=m["custom_inputs"],
        auto_add_quantity=int(m["auto_add_quantity"]),
    )
