"""Product registry use cases: put, get, list, delete, import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound, ProductConflict
from promoforge.domain.identifiers import new_id
from promoforge.domain.products import (
    MAX_PRODUCTS_PER_IMPORT,
    Product,
    ProductFields,
    WritePlan,
    plan_write,
)
from promoforge.domain.queries import Page
from promoforge.storage.repositories import Transactor
from promoforge.storage.repositories.products import ProductRepository

PRODUCT_NOT_FOUND = "product not found"


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the id of each product in the order given, and how many were new."""

    ids: tuple[str, ...]
    created: int

    @property
    def updated(self) -> int:
        """How many products replaced stored ones."""
        return len(self.ids) - self.created


def _plan(repo: ProductRepository, fields: Sequence[ProductFields], *, numbered: bool) -> WritePlan:
    """Plan a write against the store's products; raise ProductConflict naming every clash."""
    stored = repo.stored_skus(
        ids=[item.id for item in fields if item.id is not None], skus=[item.sku for item in fields]
    )
    plan = plan_write(fields, stored, new_id)
    if plan.clashes:
        skus = ", ".join(sorted({repr(clash.sku) for clash in plan.clashes})[:20])
        raise ProductConflict(f"products clash by id or sku: {skus}", plan.clashes, numbered=numbered)
    repo.release_skus(plan.release_skus_of)
    return plan


def put_product(
    uow: Transactor, *, store_id: str, product_id: str, fields: ProductFields, now: datetime
) -> tuple[Product, bool]:
    """Create or replace the product with this id; return it and whether it was created."""
    if fields.id is not None and fields.id != product_id:
        raise InvalidInput([FieldProblem("data.id", "data.id does not match the product in the URL")])
    with uow.write() as tx:
        repo = tx.store(store_id).products
        plan = _plan(repo, [replace(fields, id=product_id)], numbered=False)
        stored = repo.upsert(fields.stored_as(product_id, store_id=store_id, now=now))
    return stored, product_id in plan.created


def get_product(uow: Transactor, *, store_id: str, product_id: str) -> Product:
    """Return one product of the store."""
    with uow.read() as tx:
        product = tx.store(store_id).products.get(product_id)
    if product is None:
        raise NotFound(PRODUCT_NOT_FOUND)
    return product


def list_products(
    uow: Transactor, *, store_id: str, page: Page, sku: str | None = None
) -> tuple[list[Product], int]:
    """Return a page of the store's products in SKU order, or the one with `sku`."""
    with uow.read() as tx:
        return tx.store(store_id).products.list_page(page, sku=sku)


def delete_product(uow: Transactor, *, store_id: str, product_id: str) -> None:
    """Delete one product of the store."""
    with uow.write() as tx:
        if not tx.store(store_id).products.delete(product_id):
            raise NotFound(PRODUCT_NOT_FOUND)


def import_products(
    uow: Transactor, *, store_id: str, products: Sequence[ProductFields], now: datetime
) -> ImportResult:
    """Create or replace many products in one transaction, all or none.

    A product with an id replaces the store's product with that id; one without takes the id of the
    store's product with its SKU, or a new one. Every clash is reported at once (ProductConflict).
    """
    if len(products) > MAX_PRODUCTS_PER_IMPORT:
        raise InvalidInput(
            [FieldProblem("data", f"an import holds at most {MAX_PRODUCTS_PER_IMPORT} products")]
        )
    with uow.write() as tx:
        repo = tx.store(store_id).products
        plan = _plan(repo, products, numbered=True)
        repo.upsert_many(
            [
                fields.stored_as(product_id, store_id=store_id, now=now)
                for product_id, fields in zip(plan.ids, products, strict=True)
            ]
        )
    return ImportResult(ids=plan.ids, created=len(plan.created))
