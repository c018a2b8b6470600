"""Products of a store's registry: what a cart line copies and what promotion targeting reads (§9)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from promoforge.domain.text import refuse_invisible


class ProductStatus(StrEnum):
    """Only `live` products can be added to a cart."""

    LIVE = "live"
    DRAFT = "draft"


@dataclass(frozen=True)
class ProductPrice:
    """A product's price in one currency, in minor units."""

    amount: int
    includes_tax: bool = False


@dataclass(frozen=True)
class Product:
    """A product of one store.

    `node_ids` are every node and hierarchy id the product sits under (flattened, §9.2); `attributes` are its
    template attributes keyed by template (`"products(shoes)"`) and field, as in EP's `extensions`.
    """

    id: str
    store_id: str
    sku: str
    name: str
    description: str
    slug: str
    status: ProductStatus
    prices: Mapping[str, ProductPrice]
    catalog_id: str | None = None
    node_ids: tuple[str, ...] = ()
    attributes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    image_href: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        """Whether the product may be added to a cart."""
        return self.status is ProductStatus.LIVE

    def price_in(self, currency: str) -> ProductPrice | None:
        """The price in a currency, if the product has one (B30)."""
        return self.prices.get(currency)


MAX_SKU_CHARS = 255
MAX_PRODUCTS_PER_IMPORT = 10_000
# Products a file import writes per transaction unless told otherwise.
DEFAULT_IMPORT_BATCH = 1000


def check_sku(text: str) -> str:
    """Return a usable SKU unchanged, or raise ValueError saying why it is not one."""
    if not text:
        raise ValueError("sku must not be empty")
    if len(text) > MAX_SKU_CHARS:
        raise ValueError(f"sku must be at most {MAX_SKU_CHARS} characters")
    # Refused rather than trimmed: SKUs are compared exactly, and a trimmed SKU would no longer be the one
    # the shop's other systems send.
    if text != text.strip():
        raise ValueError("sku must not start or end with white space")
    refuse_invisible(text, "sku")
    return text


@dataclass(frozen=True)
class ProductFields:
    """A product as a caller sends it: everything but its store and timestamps; `id` may be left out."""

    sku: str
    name: str
    description: str = ""
    slug: str = ""
    status: ProductStatus = ProductStatus.DRAFT
    prices: Mapping[str, ProductPrice] = field(default_factory=dict)
    catalog_id: str | None = None
    node_ids: tuple[str, ...] = ()
    attributes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    image_href: str | None = None
    id: str | None = None

    def stored_as(self, product_id: str, *, store_id: str, now: datetime) -> Product:
        """The product to store under `product_id` in a store, written at `now`."""
        return Product(
            id=product_id,
            store_id=store_id,
            sku=self.sku,
            name=self.name,
            description=self.description,
            slug=self.slug,
            status=self.status,
            prices=self.prices,
            catalog_id=self.catalog_id,
            node_ids=self.node_ids,
            attributes=self.attributes,
            image_href=self.image_href,
            created_at=now,
            updated_at=now,
        )


@dataclass(frozen=True)
class StoredSku:
    """A stored product's id and SKU: what planning a write needs to know of the store."""

    id: str
    sku: str


class ClashKind(StrEnum):
    """Why a product of a write cannot be stored as sent."""

    DUPLICATE_ID = "duplicate_id"
    DUPLICATE_SKU = "duplicate_sku"
    SKU_TAKEN = "sku_taken"


@dataclass(frozen=True)
class ProductClash:
    """One product of a write whose id or SKU clashes: with an earlier one of the write or a stored one."""

    kind: ClashKind
    index: int
    sku: str
    id: str | None = None
    other_index: int | None = None
    other_id: str | None = None


@dataclass(frozen=True)
class WritePlan:
    """How a write of products goes into a store: the id each is stored under, and what must happen first."""

    ids: tuple[str, ...]
    created: frozenset[str]
    release_skus_of: tuple[str, ...]
    clashes: tuple[ProductClash, ...]


def plan_write(
    products: Sequence[ProductFields], stored: Iterable[StoredSku], new_id: Callable[[], str]
) -> WritePlan:
    """Plan a write of products, all of which replace what the store holds under their ids.

    `stored` must hold every stored product whose id or SKU the write names. A product without an id takes
    the id of the stored product with its SKU (so a file without ids can be imported again), unless that
    product is itself rewritten by this write; otherwise a new id. A SKU clashes when an earlier product of
    the write has it, or when a stored product keeps it after the write.
    """
    clashes: list[ProductClash] = []
    first_with_id: dict[str, int] = {}
    first_with_sku: dict[str, int] = {}
    duplicate_sku: set[int] = set()
    for index, product in enumerate(products):
        if product.id is not None:
            earlier = first_with_id.setdefault(product.id, index)
            if earlier != index:
                clashes.append(
                    ProductClash(ClashKind.DUPLICATE_ID, index, product.sku, product.id, other_index=earlier)
                )
        earlier = first_with_sku.setdefault(product.sku, index)
        if earlier != index:
            duplicate_sku.add(index)
            clashes.append(
                ProductClash(ClashKind.DUPLICATE_SKU, index, product.sku, product.id, other_index=earlier)
            )
    sku_of = {row.id: row.sku for row in stored}
    holder_of = {sku: product_id for product_id, sku in sku_of.items()}
    ids: list[str] = []
    for product in products:
        holder = holder_of.get(product.sku)
        if product.id is not None:
            ids.append(product.id)
        elif holder is not None and holder not in first_with_id:
            ids.append(holder)
        else:
            ids.append(new_id())
    written = set(ids)
    for index, product in enumerate(products):
        holder = holder_of.get(product.sku)
        if index not in duplicate_sku and holder not in (None, ids[index]) and holder not in written:
            clashes.append(ProductClash(ClashKind.SKU_TAKEN, index, product.sku, ids[index], other_id=holder))
    # A stored product that gives its SKU to another product of the same write must let go of it first,
    # or the unique index would see two holders half way through (a swap of two SKUs, for example).
    release = tuple(
        product_id
        for product_id, product in zip(ids, products, strict=True)
        if product_id in sku_of and sku_of[product_id] != product.sku and sku_of[product_id] in first_with_sku
    )
    return WritePlan(
        ids=tuple(ids),
        created=frozenset(product_id for product_id in ids if product_id not in sku_of),
        release_skus_of=release,
        clashes=tuple(sorted(clashes, key=lambda clash: clash.index)),
    )
