"""Products on the wire: shaped like EP's catalog product, so a catalog export loads almost verbatim."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from promoforge.api.jsonapi import timestamp
from promoforge.api.schemas import UUIDText
from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.domain.money import check_currency
from promoforge.domain.products import (
    MAX_PRODUCTS_PER_IMPORT,
    ClashKind,
    Product,
    ProductClash,
    ProductFields,
    ProductPrice,
    ProductStatus,
    check_sku,
)

MAX_NAME_CHARS = 1024
MAX_DESCRIPTION_CHARS = 65_536
MAX_IDENTIFIER_CHARS = 255
MAX_HREF_CHARS = 2048
MAX_NODES = 1000
# More than ISO 4217 defines, so every currency fits; the bound only stops a flood of bad keys.
MAX_CURRENCIES = 200
MAX_TEMPLATES = 100
MAX_FIELDS_PER_TEMPLATE = 100
MAX_ATTRIBUTE_TEXT_CHARS = 4096
SKU_FIELD = "attributes.sku"


class _Body(BaseModel):
    """Unknown fields are ignored, as EP does (a catalog product carries many this service has no use for)."""

    model_config = ConfigDict(extra="ignore")


def _check_href(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http or https URL")
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain white space or control characters")
    return value


def _check_attribute_value(value: Any) -> Any:
    """A template attribute value: text, a whole or decimal number, true/false, or null."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"whole numbers must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}")
        return value
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_TEXT_CHARS:
            raise ValueError(f"text must be at most {MAX_ATTRIBUTE_TEXT_CHARS} characters")
        return value
    raise ValueError("must be a string, a number, a boolean or null")


Sku = Annotated[StrictStr, AfterValidator(check_sku)]
Currency = Annotated[StrictStr, AfterValidator(check_currency)]
Identifier = Annotated[StrictStr, Field(min_length=1, max_length=MAX_IDENTIFIER_CHARS)]
Href = Annotated[StrictStr, Field(max_length=MAX_HREF_CHARS), AfterValidator(_check_href)]
AttributeValue = Annotated[Any, AfterValidator(_check_attribute_value)]
TemplateFields = Annotated[dict[Identifier, AttributeValue], Field(max_length=MAX_FIELDS_PER_TEMPLATE)]


class PriceData(_Body):
    """A price in one currency: whole minor units (8999 is $89.99), never a decimal."""

    amount: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
    includes_tax: StrictBool = False


class ProductAttributesData(_Body):
    """`data.attributes` of a product."""

    sku: Sku
    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    description: Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_CHARS)] = ""
    slug: Annotated[StrictStr, Field(max_length=MAX_IDENTIFIER_CHARS)] = ""
    status: ProductStatus = ProductStatus.DRAFT
    price: Annotated[dict[Currency, PriceData], Field(max_length=MAX_CURRENCIES)] | None = None
    extensions: Annotated[dict[Identifier, TemplateFields], Field(max_length=MAX_TEMPLATES)] | None = None
    image_href: Href | None = None


class ProductMetaData(_Body):
    """`data.meta` of a product: its catalog and where it sits in the catalog's hierarchies."""

    catalog_id: Identifier | None = None
    bread_crumb_nodes: Annotated[list[Identifier], Field(max_length=MAX_NODES)] | None = None
    bread_crumbs: (
        Annotated[
            dict[Identifier, Annotated[list[Identifier], Field(max_length=MAX_NODES)]],
            Field(max_length=MAX_NODES),
        ]
        | None
    ) = None


class ProductData(_Body):
    """A product: `{"type": "product", "id": ..., "attributes": {...}, "meta": {...}}`."""

    type: Literal["product"]
    id: UUIDText | None = None
    attributes: ProductAttributesData
    meta: ProductMetaData | None = None


class ProductRequest(_Body):
    """`{"data": product}`."""

    data: ProductData


class ProductImportRequest(_Body):
    """`{"data": [product, ...]}`, at most 10,000 products."""

    data: Annotated[list[ProductData], Field(min_length=1, max_length=MAX_PRODUCTS_PER_IMPORT)]


def product_fields(data: ProductData) -> ProductFields:
    """The product a wire document describes.

    Its nodes are every id of `meta.bread_crumb_nodes` and of `meta.bread_crumbs` (the nodes and each
    one's ancestors and hierarchy), flattened in the order given without repeats.
    """
    attributes = data.attributes
    meta = data.meta or ProductMetaData()
    nodes = list(meta.bread_crumb_nodes or ())
    for node, ancestors in (meta.bread_crumbs or {}).items():
        nodes.append(node)
        nodes.extend(ancestors)
    return ProductFields(
        id=data.id,
        sku=attributes.sku,
        name=attributes.name,
        description=attributes.description,
        slug=attributes.slug,
        status=attributes.status,
        prices={
            currency: ProductPrice(amount=price.amount, includes_tax=price.includes_tax)
            for currency, price in (attributes.price or {}).items()
        },
        catalog_id=meta.catalog_id,
        node_ids=tuple(dict.fromkeys(nodes)),
        attributes=attributes.extensions or {},
        image_href=attributes.image_href,
    )


def product_resource(product: Product) -> dict[str, Any]:
    """A product as the wire shows it: the request's shape, with `meta.timestamps`."""
    attributes: dict[str, Any] = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "slug": product.slug,
        "status": product.status.value,
        "price": {
            currency: {"amount": price.amount, "includes_tax": price.includes_tax}
            for currency, price in product.prices.items()
        },
        "extensions": {template: dict(fields) for template, fields in product.attributes.items()},
    }
    if product.image_href is not None:
        attributes["image_href"] = product.image_href
    meta: dict[str, Any] = {}
    if product.catalog_id is not None:
        meta["catalog_id"] = product.catalog_id
    meta["bread_crumb_nodes"] = list(product.node_ids)
    if product.created_at is not None and product.updated_at is not None:
        meta["timestamps"] = {
            "created_at": timestamp(product.created_at),
            "updated_at": timestamp(product.updated_at),
        }
    return {"type": "product", "id": product.id, "attributes": attributes, "meta": meta}


def clash_field(clash: ProductClash) -> str:
    """The field of a product that clashes, as a path inside the product."""
    return "id" if clash.kind is ClashKind.DUPLICATE_ID else SKU_FIELD


def clash_detail(clash: ProductClash, where: str) -> str:
    """Say what a clash is; `where` names the earlier product of the same write (e.g. 'data.3')."""
    if clash.kind is ClashKind.DUPLICATE_ID:
        return f"product {clash.id} is already at {where}"
    if clash.kind is ClashKind.DUPLICATE_SKU:
        return f"sku {clash.sku!r} is already at {where}"
    return f"sku {clash.sku!r} already belongs to product {clash.other_id} in this store"


def clash_meta(clash: ProductClash) -> dict[str, Any]:
    """The values a client needs to resolve a clash."""
    if clash.kind is ClashKind.DUPLICATE_ID:
        return {"id": clash.id}
    if clash.kind is ClashKind.SKU_TAKEN:
        return {"sku": clash.sku, "id": clash.other_id}
    return {"sku": clash.sku}


class ProductPriceDocument(BaseModel):
    """A price in one currency."""

    amount: int
    includes_tax: bool


class ProductAttributesDocument(BaseModel):
    """A stored product's attributes."""

    sku: str
    name: str
    description: str
    slug: str
    status: Literal["live", "draft"]
    price: dict[str, ProductPriceDocument]
    extensions: dict[str, dict[str, Any]]
    image_href: str | None = None


class ProductTimestamps(BaseModel):
    """When the product was created and last replaced."""

    created_at: str
    updated_at: str


class ProductMetaDocument(BaseModel):
    """A stored product's catalog, nodes and timestamps."""

    catalog_id: str | None = None
    bread_crumb_nodes: list[str]
    timestamps: ProductTimestamps | None = None


class ProductResource(BaseModel):
    """A product as the API answers it."""

    type: Literal["product"]
    id: str
    attributes: ProductAttributesDocument
    meta: ProductMetaDocument


class ProductImportResult(BaseModel):
    """What an import did."""

    type: Literal["product_import"]
    total: int
    created: int
    updated: int
    ids: list[str]
