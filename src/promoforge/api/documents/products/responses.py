"""Products as the API answers them: the request's shape, with `meta.timestamps`; and an import's result."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

from promoforge.api.documents.common import Described, timestamp, with_python_floats
from promoforge.domain.products import Product, ProductStatus
from promoforge.services.products import ImportResult


class ProductPriceDocument(TypedDict):
    """A price in one currency."""

    amount: int
    includes_tax: bool


class ProductAttributesDocument(TypedDict):
    """A stored product's attributes."""

    sku: str
    name: str
    description: str
    slug: str
    status: Annotated[str, Described(ProductStatus)]
    price: dict[str, ProductPriceDocument]
    extensions: dict[str, dict[str, Any]]
    image_href: NotRequired[str]


class ProductTimestamps(TypedDict):
    """When the product was created and last replaced."""

    created_at: str
    updated_at: str


class ProductMetaDocument(TypedDict):
    """A stored product's catalog, nodes and timestamps."""

    catalog_id: NotRequired[str]
    bread_crumb_nodes: list[str]
    timestamps: NotRequired[ProductTimestamps]


class ProductResource(TypedDict):
    """A product as the API answers it."""

    type: Literal["product"]
    id: str
    attributes: ProductAttributesDocument
    meta: ProductMetaDocument


class ProductImportResult(TypedDict):
    """What an import did."""

    type: Literal["product_import"]
    total: int
    created: int
    updated: int
    ids: list[str]


def product_resource(product: Product) -> ProductResource:
    """A product as the wire shows it: the request's shape, with `meta.timestamps`."""
    attributes: ProductAttributesDocument = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "slug": product.slug,
        "status": product.status.value,
        "price": {
            currency: {"amount": price.amount, "includes_tax": price.includes_tax}
            for currency, price in product.prices.items()
        },
        "extensions": {
            template: with_python_floats(dict(fields)) for template, fields in product.attributes.items()
        },
    }
    if product.image_href is not None:
        attributes["image_href"] = product.image_href
    meta: ProductMetaDocument = {"bread_crumb_nodes": list(product.node_ids)}
    if product.catalog_id is not None:
        meta["catalog_id"] = product.catalog_id
    if product.created_at is not None and product.updated_at is not None:
        meta["timestamps"] = {
            "created_at": timestamp(product.created_at),
            "updated_at": timestamp(product.updated_at),
        }
    return {"type": "product", "id": product.id, "attributes": attributes, "meta": meta}


def import_result(result: ImportResult) -> ProductImportResult:
    """What an import did: how many products it created and replaced, and their ids in request order."""
    return {
        "type": "product_import",
        "total": len(result.ids),
        "created": result.created,
        "updated": result.updated,
        "ids": list(result.ids),
    }
