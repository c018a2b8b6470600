"""Products as clients send them: shaped like EP's catalog product, so a catalog export loads almost verbatim
(unknown fields, of which a catalog product carries many, are ignored)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr

from promoforge.api.documents.common import RequestBody, UUIDText
from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.domain.money import check_currency
from promoforge.domain.products import (
    MAX_PRODUCTS_PER_IMPORT,
    ClashKind,
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


class PriceData(RequestBody):
    """A price in one currency: whole minor units (8999 is $89.99), never a decimal."""

    amount: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
    includes_tax: StrictBool = False


class ProductAttributesData(RequestBody):
    """`data.attributes` of a product."""

    sku: Sku
    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    description: Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_CHARS)] = ""
    slug: Annotated[StrictStr, Field(max_length=MAX_IDENTIFIER_CHARS)] = ""
    status: ProductStatus = ProductStatus.DRAFT
    price: Annotated[dict[Currency, PriceData], Field(max_length=MAX_CURRENCIES)] | None = None
    extensions: Annotated[dict[Identifier, TemplateFields], Field(max_length=MAX_TEMPLATES)] | None = None
    image_href: Href | None = None


class ProductMetaData(RequestBody):
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


class ProductData(RequestBody):
    """A product: `{"type": "product", "id": ..., "attributes": {...}, "meta": {...}}`."""

    type: Literal["product"]
    id: UUIDText | None = None
    attributes: ProductAttributesData
    meta: ProductMetaData | None = None


class ProductRequest(RequestBody):
    """`{"data": product}`."""

    data: ProductData


class ProductImportRequest(RequestBody):
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
