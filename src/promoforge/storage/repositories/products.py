"""A store's product registry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Text, and_, cast, delete, literal, select, update

from promoforge.domain.products import Product, ProductPrice, ProductStatus, StoredSku
from promoforge.domain.queries import Page
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import products

_IN_LIST_CHUNK = 1000
# Rows per INSERT statement of an import (the driver sends each page as one multi-row statement).
_UPSERT_PAGE_ROWS = 1000
_KEY = ("store_id", "id")
_KEPT_ON_UPDATE = ("created_at",)


def _chunks(values: Sequence[str], size: int = _IN_LIST_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class ProductRepository:
    """Products of one store."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _mine(self) -> ColumnElement[bool]:
        return products.c.store_id == self.store_id

    def get(self, product_id: str) -> Product | None:
        """Return one product by id."""
        row = self.connection.execute(
            select(products).where(self._mine(), products.c.id == product_id)
        ).first()
        return _product(row) if row else None

    def by_sku(self, sku: str) -> Product | None:
        """Return the product with this SKU (compared exactly)."""
        row = self.connection.execute(select(products).where(self._mine(), products.c.sku == sku)).first()
        return _product(row) if row else None

    def many(self, product_ids: Sequence[str]) -> list[Product]:
        """The store's products with these ids (a cart's worth: at most a hundred)."""
        if not product_ids:
            return []
        rows = self.connection.execute(
            select(products).where(self._mine(), self.ops.matches_any(products.c.id, product_ids))
        ).all()
        return [_product(row) for row in rows]

    def list_page(self, page: Page, sku: str | None = None) -> tuple[list[Product], int]:
        """Return a page of the store's products in SKU order, or the one with `sku`."""
        condition = self._mine()
        if sku is not None:
            condition = and_(condition, products.c.sku == sku)
        return count_and_page(self.connection, products, condition, (products.c.sku,), page, _product)

    def stored_skus(self, *, ids: Sequence[str], skus: Sequence[str]) -> list[StoredSku]:
        """Return the id and SKU of every stored product that has one of `ids` or one of `skus`."""
        found: dict[str, str] = {}
        for column, values in ((products.c.id, ids), (products.c.sku, skus)):
            for chunk in _chunks(sorted(set(values))):
                rows = self.connection.execute(
                    select(products.c.id, products.c.sku).where(
                        self._mine(), self.ops.matches_any(column, chunk)
                    )
                )
                found.update((str(product_id), sku) for product_id, sku in rows)
        return [StoredSku(id=product_id, sku=sku) for product_id, sku in found.items()]

    def release_skus(self, product_ids: Sequence[str]) -> None:
        """Give these products a placeholder SKU that no real SKU can equal, until they are rewritten."""
        # Real SKUs never start with white space; the id keeps each placeholder unique.
        placeholder = literal(" ", Text) + cast(products.c.id, Text)
        for chunk in _chunks(product_ids):
            self.connection.execute(
                update(products)
                .where(self._mine(), self.ops.matches_any(products.c.id, chunk))
                .values(sku=placeholder)
            )

    def upsert(self, product: Product) -> Product:
        """Insert or replace one product (its creation time is kept); return it as stored."""
        statement = self.ops.upsert(products, _KEY, _KEPT_ON_UPDATE).returning(*products.c)
        row = self.connection.execute(statement, self._values(product)).one()
        return _product(row)

    def upsert_many(self, batch: Sequence[Product]) -> None:
        """Insert or replace many products (creation times are kept), a page of rows per statement."""
        statement = self.ops.upsert(products, _KEY, _KEPT_ON_UPDATE)
        for start in range(0, len(batch), _UPSERT_PAGE_ROWS):
            page = batch[start : start + _UPSERT_PAGE_ROWS]
            self.connection.execute(statement, [self._values(product) for product in page])

    def delete(self, product_id: str) -> bool:
        """Delete one product; tell whether it existed."""
        result = self.connection.execute(delete(products).where(self._mine(), products.c.id == product_id))
        return result.rowcount == 1

    def _values(self, product: Product) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "slug": product.slug,
            "status": product.status.value,
            "prices": {
                currency: {"amount": price.amount, "includes_tax": price.includes_tax}
                for currency, price in product.prices.items()
            },
            "catalog_id": product.catalog_id,
            "node_ids": list(product.node_ids),
            "attributes": {template: dict(fields) for template, fields in product.attributes.items()},
            "image_href": product.image_href,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
        }


def _prices(document: Mapping[str, Any]) -> dict[str, ProductPrice]:
    return {
        currency: ProductPrice(amount=int(price["amount"]), includes_tax=bool(price["includes_tax"]))
        for currency, price in document.items()
    }


def _product(row: Row[Any]) -> Product:
    m = row._mapping
    return Product(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        sku=m["sku"],
        name=m["name"],
        description=m["description"],
        slug=m["slug"],
        status=ProductStatus(m["status"]),
        prices=_prices(m["prices"]),
        catalog_id=m["catalog_id"],
        node_ids=tuple(m["node_ids"]),
        attributes=m["attributes"],
        image_href=m["image_href"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
