"""Carts: the discount engine alone, then `POST /v2/carts/:id/items` and `GET /v2/carts/:id?include=items`.

The engine prices a cart of 100 product lines with 10 applied codes against the candidates a real cart gets
(those 10 codes' promotions plus the store's 200 running automatic ones). The API part runs against a store
with 200 automatic and 10,000 code-based promotions, at concurrency 1 and 16, beside a plain DB-API baseline
doing the same reads and writes; and it checks which promotions the service reads for one cart.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from bench.benchmarks.code_adds import LevelOutcome, baseline_connection, concurrency_list, run_clients
from bench.harness.api import expect
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.codes import stored_id
from bench.harness.databases import service_sqlite_pragmas
from bench.harness.report import header_lines, not_run_row, pass_fail, render_columns
from bench.harness.timing import BenchError, latency_summary, log, verdict
from promoforge.api.documents.promotions.requests import validate_promotion
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.carts import line_merge_key
from promoforge.domain.codes import ConsumeUnit, canonical_code
from promoforge.domain.identifiers import code_id_parts
from promoforge.domain.models import NewCode, Promotion, PromotionAttributes
from promoforge.domain.pricing import CartLine, LineKind, Offer, ProductFacts, automatic_code, price_cart
from promoforge.domain.shoppers import Shopper
from promoforge.services import carts as cart_service
from promoforge.storage.repositories import promotions as promotion_repository

DEFAULT_CONCURRENCY = (1, 16)
DEFAULT_REQUESTS = 400
DEFAULT_SECONDS = 20.0
DEFAULT_ENGINE_RUNS = 1000
DEFAULT_CARTS = 64
PRODUCTS = 200
ENGINE_LINES = 100
APPLIED_CODES = 10
AUTOMATIC_PROMOTIONS = 200
CODE_PROMOTIONS = 10_000
# Every cart starts with these products (two units each); adds take products from a pool of its own.
INITIAL_LINES = 20
ADD_POOL = 40
ENGINE_MEDIAN_TARGET_MS = 2.0
API_P99_TARGET_MS = 50.0
TARGET_CONCURRENCY = 16
PERCENTILES = (50, 95, 99)
CURRENCY = "USD"
TEMPLATE = "products(bench)"
_IDS = uuid.UUID("3f1f6c52-8d1e-4f57-9a1c-62b0e1c0b7d4")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------- data


def product_id(index: int) -> str:
    """The id of product `index` (stable, so the engine and the API part use the same catalog)."""
    return str(uuid.uuid5(_IDS, f"product-{index}"))


def sku(index: int) -> str:
    """The SKU of product `index`."""
    return f"SKU-{index:04d}"


def product_facts(index: int) -> ProductFacts:
    """What targeting reads of product `index`: two catalogs, 20 nodes and 4 departments, 3 attributes."""
    return ProductFacts(
        product_id=product_id(index),
        catalog_id=f"catalog-{index % 2}",
        node_ids=frozenset({f"node-{index % 20}", f"dept-{index % 4}"}),
        attributes={TEMPLATE: {"brand": f"brand-{index % 10}", "size": index % 7, "eco": index % 3 == 0}},
    )


def unit_price(index: int) -> int:
    """Product `index`'s price in minor units."""
    return 500 + (index * 37) % 9500


def product_document(index: int) -> dict[str, Any]:
    """Product `index` as `POST /v2/promoforge/products/import` takes it."""
    facts = product_facts(index)
    return {
        "type": "product",
        "id": facts.product_id,
        "attributes": {
            "sku": sku(index),
            "name": f"Product {index}",
            "description": "bench",
            "slug": f"product-{index}",
            "status": "live",
            "price": {CURRENCY: {"amount": unit_price(index), "includes_tax": False}},
            "extensions": {TEMPLATE: dict(facts.attributes[TEMPLATE])},
        },
        "meta": {"catalog_id": facts.catalog_id, "bread_crumb_nodes": sorted(facts.node_ids)},
    }


def _usd(amount: int) -> list[dict[str, Any]]:
    return [{"currency": CURRENCY, "amount": amount}]


def code_promotion_schema(kind: int) -> tuple[str, dict[str, Any]]:
    """The rules of the `kind`-th (0-9) code promotion of a group: every one discounts a cart that holds
    products 0-19 (the lines every bench cart starts with), each on lines the others leave alone."""
    schemas: list[tuple[str, dict[str, Any]]] = [
        ("item_percent_discount", {"percent": 10, "target_nodes": ["node-0", "node-1"]}),
        ("item_fixed_discount", {"currencies": _usd(100), "target_nodes": ["node-2", "node-3"]}),
        ("x_for_y", {"x": 2, "y": 1, "target_nodes": ["node-4"]}),
        ("x_for_amount", {"x": 2, "currencies": _usd(1000), "target_nodes": ["node-5"]}),
        (
            "bundle_fixed_discount",
            {
                "requirements": [
                    {"targets": [sku(6)], "quantity": 1},
                    {"targets": [sku(7)], "quantity": 1},
                ],
                "currencies": _usd(1000),
            },
        ),
        ("bundle_gift", {"requirements": [{"targets": [sku(12)], "quantity": 1}], "gifts": [sku(13)]}),
        ("fixed_discount", {"currencies": _usd(500), "target_catalogs": ["catalog-0"]}),
        ("percent_discount", {"currencies": [{"currency": CURRENCY, "percentage": 5}]}),
        (
            "item_percent_discount",
            {
                "percent": 15,
                "target_attributes": [
                    {"template": TEMPLATE, "field": "brand", "type": "string", "value": "brand-8"}
                ],
            },
        ),
        (
            "item_fixed_discount",
            {
                "currencies": _usd(50),
                "target_nodes": ["dept-1", "dept-3"],
                "target_catalogs": ["catalog-1"],
                "exclude": {"nodes": ["node-19"]},
            },
        ),
    ]
    return schemas[kind % len(schemas)]


def automatic_promotion_schema(number: int) -> dict[str, Any]:
    """The `number`-th automatic promotion: the eight types in turn. One in 25 reaches the bench carts'
    lines; the others target nodes, attributes or SKUs no product has, need a cart value no cart reaches, or
    are priced in another currency, so the engine still weighs each of them."""
    kind = number % 8
    reaches = number % 25 == 0
    node = f"node-{10 + number % 8}" if reaches else f"auto-node-{number}"
    miss = f"AUTO-SKU-{number}"
    document: dict[str, Any] = {"min_cart_value": None}
    if kind == 0:
        # Cart level: only one of them runs for carts under USD 1,000,000.
        document["promotion_type"] = "fixed_discount"
        document["schema"] = {"currencies": _usd(200), "exclude": {"nodes": [f"auto-node-{number}"]}}
        if number:
            document["min_cart_value"] = _usd(100_000_000)
    elif kind == 1:
        document["promotion_type"] = "percent_discount"
        document["schema"] = {"currencies": [{"currency": "EUR", "percentage": 10}]}
    elif kind == 2:
        document["promotion_type"] = "item_percent_discount"
        document["schema"] = {"percent": 5, "target_nodes": [node]}
    elif kind == 3:
        document["promotion_type"] = "item_fixed_discount"
        document["schema"] = {
            "currencies": _usd(25),
            "target_attributes": [
                {
                    "template": TEMPLATE,
                    "field": "brand",
                    "type": "string",
                    "values": ["brand-9" if reaches else f"auto-brand-{number}", f"other-{number}"],
                }
            ],
        }
    elif kind == 4:
        document["promotion_type"] = "x_for_y"
        document["schema"] = {"x": 3, "y": 2, "target_nodes": [node]}
    elif kind == 5:
        document["promotion_type"] = "x_for_amount"
        document["schema"] = {"x": 3, "currencies": _usd(900), "targets": [miss, f"{miss}-B"]}
    elif kind == 6:
        document["promotion_type"] = "bundle_fixed_discount"
        document["schema"] = {
            "requirements": [{"targets": [miss], "quantity": 1}, {"targets": [sku(11)], "quantity": 1}],
            "currencies": _usd(700),
        }
    else:
        document["promotion_type"] = "bundle_gift"
        document["schema"] = {"requirements": [{"targets": [miss], "quantity": 2}], "gifts": [sku(3)]}
    return document


def promotion_attributes(
    name: str, automatic: bool, promotion_type: str, schema: dict[str, Any], **extra: Any
) -> PromotionAttributes:
    """Attributes validated exactly as `POST /v2/promotions` validates them."""
    document = {
        "type": "promotion",
        "name": name,
        "description": "bench",
        "enabled": True,
        "automatic": automatic,
        "promotion_type": promotion_type,
        "schema": schema,
        "start": "2024-01-01",
        "end": "2099-01-01",
        **{key: value for key, value in extra.items() if value is not None},
    }
    return validate_promotion(document)


@dataclass(frozen=True)
class SeedPromotion:
    """A promotion of the bench store, with its code (None for automatic ones)."""

    promotion: Promotion
    code: str | None


def seed_promotions(store_id: str, actor: str | None) -> tuple[list[SeedPromotion], list[SeedPromotion]]:
    """The store's code promotions (10,000: 1,000 groups of the 10 kinds, oldest first) and automatic ones.

    Code promotions are older than the automatic ones, so the applied codes' item-level promotions claim
    their units first (oldest promotion first, P4), as in a store whose automatic offers came later.
    """
    code_attrs = [
        promotion_attributes(f"code kind {kind}", False, *code_promotion_schema(kind))
        for kind in range(APPLIED_CODES)
    ]
    coded: list[SeedPromotion] = []
    for number in range(CODE_PROMOTIONS):
        at = EPOCH + timedelta(seconds=number)
        coded.append(
            SeedPromotion(
                Promotion(
                    id=str(uuid.uuid5(_IDS, f"code-promotion-{number}")),
                    store_id=store_id,
                    attributes=code_attrs[number % APPLIED_CODES],
                    created_by=actor,
                    updated_by=actor,
                    code_count=1,
                    version=1,
                    created_at=at,
                    updated_at=at,
                ),
                code_text(number),
            )
        )
    automatic: list[SeedPromotion] = []
    for number in range(AUTOMATIC_PROMOTIONS):
        document = automatic_promotion_schema(number)
        attributes = promotion_attributes(
            f"automatic {number}",
            True,
            document["promotion_type"],
            document["schema"],
            min_cart_value=document["min_cart_value"],
        )
        at = EPOCH + timedelta(days=1, seconds=number)
        automatic.append(
            SeedPromotion(
                Promotion(
                    id=str(uuid.uuid5(_IDS, f"automatic-promotion-{number}")),
                    store_id=store_id,
                    attributes=attributes,
                    created_by=actor,
                    updated_by=actor,
                    code_count=0,
                    version=1,
                    created_at=at,
                    updated_at=at,
                ),
                None,
            )
        )
    return coded, automatic


def code_text(number: int) -> str:
    """The code of code promotion `number`."""
    return f"BENCH{number:05d}"


def group_codes(group: int) -> list[str]:
    """The 10 codes (one per kind) a cart of this group applies."""
    return [code_text(group * APPLIED_CODES + kind) for kind in range(APPLIED_CODES)]


# ----------------------------------------------------------------------------------------------- engine


def engine_inputs(now: datetime) -> tuple[list[CartLine], list[Offer]]:
    """A cart of 100 product lines and its candidates: the 10 applied codes' promotions and 200 automatic."""
    coded, automatic = seed_promotions("engine-store", None)
    lines = [
        CartLine(
            id=str(uuid.uuid5(_IDS, f"line-{index}")),
            kind=LineKind.PRODUCT,
            sku=sku(index),
            unit_price=unit_price(index),
            quantity=1 + index % 3,
            product=product_facts(index),
        )
        for index in range(ENGINE_LINES)
    ]
    offers = [
        Offer(
            promotion_id=seed.promotion.id,
            created_at=seed.promotion.created_at,
            attributes=seed.promotion.attributes,
            code=seed.code or "",
            remaining_uses=None,
            consume_unit=ConsumeUnit.PER_CART,
        )
        for seed in coded[:APPLIED_CODES]
    ]
    offers += [
        Offer(
            promotion_id=seed.promotion.id,
            created_at=seed.promotion.created_at,
            attributes=seed.promotion.attributes,
            code=automatic_code(seed.promotion.id),
        )
        for seed in automatic
    ]
    return lines, offers


def measure_engine(runs: int) -> dict[str, Any]:
    """Time `price_cart` alone (no loading, no documents) over many runs."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    lines, offers = engine_inputs(now)
    priced = price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
    applied = {a.promotion_id for a in priced.applications}
    coded_applied = sum(1 for offer in offers[:APPLIED_CODES] if offer.promotion_id in applied)
    if coded_applied != APPLIED_CODES:
        raise BenchError(
            f"engine: only {coded_applied} of the {APPLIED_CODES} applied codes discount the cart"
        )
    for _ in range(min(100, runs)):  # warm-up
        price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
        samples.append(time.perf_counter() - started)
    summary = latency_summary(samples, 0, (95, 99))
    skipped = Counter(s.reason.value for s in priced.skipped)
    totals = priced.totals
    result = {
        "runs": runs,
        "lines": len(lines),
        "units": sum(line.quantity for line in lines),
        "offers": len(offers),
        "applied_code_offers": APPLIED_CODES,
        "automatic_offers": len(offers) - APPLIED_CODES,
        "applications": len(priced.applications),
        "applied_codes_applied": coded_applied,
        "cart_promotion_lines": len(priced.cart_promotions),
        "skipped": dict(skipped),
        "subtotal": sum(line.value for line in lines),
        "discount": totals.discount,
        "latency": summary,
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "target_median_ms": ENGINE_MEDIAN_TARGET_MS,
        "pass": verdict(summary["median_ms"], ENGINE_MEDIAN_TARGET_MS, strict=False),
    }
    log(
        f"engine: median {summary['median_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms "
        f"({len(priced.applications)} applications)"
    )
    return result


# ------------------------------------------------------------------------------------------------ store


def seed_store(run: BackendRun) -> dict[str, Any]:
    """200 automatic and 10,000 code promotions (one code each) written through the repositories in
    transactions of 1,000, and 200 products through one import request."""
    started = time.perf_counter()
    store_id = run.store["store_id"]
    actor = run.store["client_id"]
    coded, automatic = seed_promotions(store_id, actor)
    db = open_database(Settings.model_construct(database_url=run.database_url))
    try:
        batch = 1000
        everything = coded + automatic
        for first in range(0, len(everything), batch):
            with db.write() as tx:
                repos = tx.store(store_id)
                for seed in everything[first : first + batch]:
                    repos.promotions.add(seed.promotion)
                    if seed.code is not None:
                        code = NewCode(seed.code, canonical_code(seed.code), None, "per_cart", None)
                        numbers = repos.promotions.take_code_numbers(seed.promotion.id, 1)
                        if numbers is None:
                            raise BenchError(f"no code numbers for promotion {seed.promotion.id}")
                        repos.codes.add(
                            promotion_ref=numbers[0],
                            codes=[(numbers[1], code)],
                            created_by=actor,
                            now=seed.promotion.created_at,
                        )
    finally:
        db.dispose()
    with run.client() as client:
        body = {"data": [product_document(index) for index in range(PRODUCTS)]}
        expect(client.post("/v2/promoforge/products/import", json=body), 200)
    seconds = time.perf_counter() - started
    log(f"{run.backend}: {len(coded)} code and {len(automatic)} automatic promotions in {seconds:.1f} s")
    return {
        "code_promotions": len(coded),
        "automatic_promotions": len(automatic),
        "products": PRODUCTS,
        "seconds": round(seconds, 2),
    }


def cart_name(side: str, number: int) -> str:
    """The id of a bench cart."""
    return f"bench-{side}-{number:04d}"


def fill_carts(run: BackendRun, side: str, count: int) -> None:
    """Each cart gets products 0-19 (two units each) and the 10 codes of its group, in one bulk request."""
    with run.client() as client:
        for number in range(count):
            entries: list[dict[str, Any]] = [
                {"type": "cart_item", "id": product_id(index), "quantity": 2}
                for index in range(INITIAL_LINES)
            ]
            entries += [{"type": "promotion_item", "code": code} for code in group_codes(number)]
            body = {"data": entries, "options": {"add_all_or_nothing": True}}
            expect(client.post(f"/v2/carts/{cart_name(side, number)}/items", json=body), 201)


def added_product(cart: int, visit: int) -> int:
    """The product the `visit`-th add to a cart brings: 40 products of its own, then the same again."""
    return INITIAL_LINES + (cart * ADD_POOL + visit % ADD_POOL) % (PRODUCTS - INITIAL_LINES)


def stored_counts(run: BackendRun, side: str) -> dict[str, int]:
    """Lines and applied codes of one side's carts, read directly."""
    with baseline_connection(run.backend, run.database_url, {}) as conn:
        marker = "?" if run.backend == "sqlite" else "%s"
        like = f"bench-{side}-%"
        lines = conn.execute(
            f"SELECT count(*) FROM cart_items WHERE cart_id LIKE {marker}", (like,)
        ).fetchone()
        codes = conn.execute(
            f"SELECT count(*) FROM cart_codes WHERE cart_id LIKE {marker}", (like,)
        ).fetchone()
    return {"lines": int(lines[0]), "codes": int(codes[0])}


# ----------------------------------------------------------------------------------------------- service


def service_senders(
    carts: int,
) -> dict[str, Callable[[httpx.Client, int], tuple[float | None, str]]]:
    """`add`: POST one product line to cart n mod carts; `read`: GET that cart with its items."""

    def add(client: httpx.Client, number: int) -> tuple[float | None, str]:
        cart = number % carts
        body = {
            "data": {
                "type": "cart_item",
                "id": product_id(added_product(cart, number // carts)),
                "quantity": 1,
            }
        }
        started = time.perf_counter()
        try:
            response = client.post(f"/v2/carts/{cart_name('svc', cart)}/items", json=body)
        except httpx.HTTPError as error:
            return None, type(error).__name__
        return time.perf_counter() - started, str(response.status_code)

    def read(client: httpx.Client, number: int) -> tuple[float | None, str]:
        started = time.perf_counter()
        try:
            response = client.get(
                f"/v2/carts/{cart_name('svc', number % carts)}", params={"include": "items"}
            )
        except httpx.HTTPError as error:
            return None, type(error).__name__
        return time.perf_counter() - started, str(response.status_code)

    return {"add": add, "read": read}


# --------------------------------------------------------------------------------------------- baseline


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class BaselineSql:
    """The statements of a cart read and of an add, in the driver's parameter style."""

    sqlite: bool

    def q(self, text: str) -> str:
        """Swap `?` for the driver's marker."""
        return text if self.sqlite else text.replace("?", "%s")

    def marks(self, count: int) -> str:
        """`?, ?, ?` for an IN list."""
        return ", ".join(["?"] * count)

    def time(self, value: datetime) -> object:
        """A timestamp as the service stores it."""
        return _sqlite_time(value) if self.sqlite else value


def baseline_read_cart(
    cur: Any, sql: BaselineSql, store_id: str, cart_id: str, now: datetime, *, lock: bool
) -> dict[str, Any]:
    """What pricing a cart reads: store, cart (locked for a write), lines, codes, code rows, the codes'
    promotions, the running automatic promotions, and the lines' products."""
    q = sql.q
    cur.execute(q("SELECT * FROM stores WHERE id = ?"), (store_id,))
    cur.fetchall()
    lock_clause = "" if sql.sqlite or not lock else " FOR UPDATE"
    cur.execute(q(f"SELECT * FROM carts WHERE store_id = ? AND id = ?{lock_clause}"), (store_id, cart_id))
    if cur.fetchone() is None:
        raise BenchError(f"baseline cart {cart_id} is missing")
    cur.execute(
        q("SELECT * FROM cart_items WHERE store_id = ? AND cart_id = ? ORDER BY created_at, position"),
        (store_id, cart_id),
    )
    columns = [d[0] for d in cur.description]
    items = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    cur.execute(
        q("SELECT * FROM cart_codes WHERE store_id = ? AND cart_id = ? ORDER BY applied_at, promotion_id"),
        (store_id, cart_id),
    )
    codes = cur.fetchall()
    code_ids = [str(row[3]) for row in codes]
    promotion_ids = [str(row[2]) for row in codes]
    if code_ids:
        # As the service finds them: computed ids by seq, stored ones by id.
        backend = "sqlite" if sql.sqlite else "postgresql"
        seqs = [parts[0] for parts in map(code_id_parts, code_ids) if parts]
        stored = [stored_id(backend, code_id) for code_id in code_ids]
        cur.execute(
            q(
                f"SELECT * FROM promotion_codes WHERE id IN ({sql.marks(len(stored))})"
                f" OR (seq IN ({sql.marks(max(1, len(seqs)))}) AND id IS NULL)"
            ),
            (*stored, *(seqs or [-1])),
        )
        cur.fetchall()
        cur.execute(
            q(
                "SELECT * FROM promotions WHERE store_id = ? AND deleted_at IS NULL "
                f"AND id IN ({sql.marks(len(promotion_ids))})"
            ),
            (store_id, *promotion_ids),
        )
        cur.fetchall()
    at = sql.time(now)
    cur.execute(
        q(
            "SELECT * FROM promotions WHERE store_id = ? AND automatic AND deleted_at IS NULL AND enabled "
            "AND starts_at <= ? AND ends_at > ?"
        ),
        (store_id, at, at),
    )
    automatic = cur.fetchall()
    products = sorted({str(item["product_id"]) for item in items if item["product_id"] is not None})
    if products:
        cur.execute(
            q(f"SELECT * FROM products WHERE store_id = ? AND id IN ({sql.marks(len(products))})"),
            (store_id, *products),
        )
        cur.fetchall()
    return {"items": items, "codes": len(codes), "automatic": len(automatic)}


def baseline_senders(
    backend: str, store_id: str, carts: int
) -> dict[str, Callable[[Any, int], tuple[float | None, str]]]:
    """The service's database work for one add and one read, as plain SQL in one transaction each."""
    sql = BaselineSql(backend == "sqlite")
    q = sql.q

    def add(conn: Any, number: int) -> tuple[float | None, str]:
        cart = number % carts
        cart_id = cart_name("base", cart)
        added = product_id(added_product(cart, number // carts))
        started = time.perf_counter()
        now = datetime.now(UTC)
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if sql.sqlite else "BEGIN")
            read = baseline_read_cart(cur, sql, store_id, cart_id, now, lock=True)
            cur.execute(q("SELECT * FROM products WHERE store_id = ? AND id = ?"), (store_id, added))
            if cur.fetchone() is None:
                raise BenchError("baseline product is missing")
            key = line_merge_key(LineKind.PRODUCT, added, "", None)
            existing = next((item for item in read["items"] if item["product_id"] == added), None)
            if existing is not None:
                cur.execute(
                    q(
                        "UPDATE cart_items SET quantity = ?, updated_at = ? "
                        "WHERE store_id = ? AND cart_id = ? AND id = ?"
                    ),
                    (int(existing["quantity"]) + 1, sql.time(now), store_id, cart_id, existing["id"]),
                )
            else:
                cur.execute(
                    q("SELECT max(position) FROM cart_items WHERE store_id = ? AND cart_id = ?"),
                    (store_id, cart_id),
                )
                last = cur.fetchone()[0] or 0
                template = read["items"][0]
                cur.execute(
                    q(
                        "INSERT INTO cart_items (id, store_id, cart_id, kind, merge_key, product_id, sku, "
                        "name, description, slug, image_href, catalog_id, unit_price, includes_tax, "
                        "quantity, "
                        "custom_inputs, position, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (
                        str(uuid.uuid4()),
                        store_id,
                        cart_id,
                        "cart_item",
                        key,
                        added,
                        f"B-{added}",
                        "bench",
                        "",
                        "bench",
                        None,
                        template["catalog_id"],
                        1000,
                        False,
                        1,
                        None,
                        last + 1,
                        sql.time(now),
                        sql.time(now),
                    ),
                )
            cur.execute(
                q("UPDATE carts SET updated_at = ? WHERE store_id = ? AND id = ?"),
                (sql.time(now), store_id, cart_id),
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()
        return time.perf_counter() - started, "committed"

    def read(conn: Any, number: int) -> tuple[float | None, str]:
        started = time.perf_counter()
        cur = conn.cursor()
        try:
            cur.execute("BEGIN")
            baseline_read_cart(
                cur, sql, store_id, cart_name("base", number % carts), datetime.now(UTC), lock=False
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()
        return time.perf_counter() - started, "committed"

    return {"add": add, "read": read}


# -------------------------------------------------------------------------------------- what is read


@contextmanager
def counting(db: Any) -> Iterator[dict[str, Any]]:
    """Count the statements the service runs, those on `promotions`, and the promotion rows it builds."""
    seen: dict[str, Any] = {"statements": 0, "promotion_statements": [], "promotion_rows": 0}
    original = promotion_repository._promotion

    def built(row: Any) -> Promotion:
        seen["promotion_rows"] += 1
        return original(row)

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen["statements"] += 1
        if "FROM promotions" in statement:
            seen["promotion_statements"].append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    promotion_repository._promotion = built
    try:
        yield seen
    finally:
        promotion_repository._promotion = original
        event.remove(db.engine, "before_cursor_execute", before)


def query_plans(db: Any, backend: str, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The database's plan for each distinct statement on `promotions` the service ran."""
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        for statement, parameters in statements:
            if statement in seen:
                continue
            seen.add(statement)
            cur = raw.cursor()
            cur.execute(prefix + statement, parameters)
            rows = cur.fetchall()
            cur.close()
            plan = [str(row[-1]) for row in rows]
            plans.append({"statement": " ".join(statement.split())[:300], "plan": plan})
    return plans


def check_reads(run: BackendRun) -> dict[str, Any]:
    """Price one seeded cart through the service layer in this process, once read and once with an add,
    counting what it reads of `promotions`; the store has 10,200 promotions."""
    store_id = run.store["store_id"]
    db = open_database(Settings.model_construct(database_url=run.database_url))
    try:
        shopper = Shopper()
        now = datetime.now(UTC)
        with counting(db) as read_seen:
            view = cart_service.get_cart(
                db, store_id=store_id, cart_id=cart_name("svc", 0), shopper=shopper, now=now
            )
        with counting(db) as add_seen:
            cart_service.add_lines(
                db,
                store_id=store_id,
                cart_id=cart_name("svc", 0),
                entries=[cart_service.NewProductLine(quantity=1, product_id=product_id(PRODUCTS - 1))],
                bulk=False,
                all_or_nothing=False,
                shopper=shopper,
                currency=None,
                now=now,
            )
        plans = query_plans(db, run.backend, read_seen["promotion_statements"])
    finally:
        db.dispose()
    needed = AUTOMATIC_PROMOTIONS + len(view.codes)
    result: dict[str, Any] = {
        "store_promotions": CODE_PROMOTIONS + AUTOMATIC_PROMOTIONS,
        "applied_codes": len(view.codes),
        "needed_per_pricing": needed,
        "get": {
            "statements": read_seen["statements"],
            "promotion_statements": len(read_seen["promotion_statements"]),
            "promotion_rows": read_seen["promotion_rows"],
            "pricings": 1,
        },
        "post": {
            "statements": add_seen["statements"],
            "promotion_statements": len(add_seen["promotion_statements"]),
            "promotion_rows": add_seen["promotion_rows"],
            "pricings": 2,
        },
        "plans": plans,
    }
    result["pass"] = (
        result["get"]["promotion_rows"] <= needed and result["post"]["promotion_rows"] <= 2 * needed
    )
    log(
        f"{run.backend}: promotion rows read: GET {result['get']['promotion_rows']}, "
        f"POST {result['post']['promotion_rows']} (needed {needed} per pricing, store has "
        f"{result['store_promotions']})"
    )
    return result


# ---------------------------------------------------------------------------------------------- backend


def measure_level(
    run: BackendRun, options: argparse.Namespace, level: int, pragmas: dict[str, int], first: dict[str, int]
) -> dict[str, Any]:
    """At one concurrency: service adds, baseline adds, service reads, baseline reads."""
    carts: int = options.carts_count
    service = service_senders(carts)
    baseline = baseline_senders(run.backend, run.store["store_id"], carts)

    def open_http() -> httpx.Client:
        return run.client()

    def open_db() -> Any:
        return baseline_connection(run.backend, run.database_url, pragmas)

    result: dict[str, Any] = {"concurrency": level}
    for operation in ("add", "read"):
        sides: dict[str, Any] = {}
        for side, opener, sender, ok_status in (
            ("service", open_http, service[operation], "201" if operation == "add" else "200"),
            ("baseline", open_db, baseline[operation], "committed"),
        ):
            start = first[f"{side}-{operation}"]
            warm = run_clients(level, level, options.carts_seconds, opener, sender, start)
            outcome: LevelOutcome = run_clients(
                level, options.carts_requests, options.carts_seconds, opener, sender, start + level
            )
            first[f"{side}-{operation}"] = start + level + sum(outcome.statuses.values())
            summary = outcome.summary(1, ok_status)
            summary.pop("codes_per_second", None)
            summary["warm_up_requests"] = sum(warm.statuses.values())
            if not summary["succeeded"]:
                raise BenchError(
                    f"{side} {operation} at concurrency {level}: none succeeded: {summary['statuses']}"
                )
            sides[side] = summary
            latency = summary["latency"]
            log(
                f"{run.backend}: {side} {operation} c={level}: {summary['requests_per_second']} req/s, "
                f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms, {summary['errors']} errors"
            )
        sides["ratio"] = round(
            sides["service"]["requests_per_second"] / sides["baseline"]["requests_per_second"], 3
        )
        p99 = sides["service"]["latency"].get("p99_ms", float("inf"))
        sides["pass"] = (
            verdict(p99, API_P99_TARGET_MS, strict=False) and not sides["service"]["errors"]
            if level == TARGET_CONCURRENCY
            else None
        )
        result[operation] = sides
    return result


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """A fresh database and server with the seeded store; measure every concurrency; clean up."""
    with prepared_backend(backend, bin_dir, admin_url, 1000) as run:
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(run.database_url)
            pragmas = service_pragmas if options.baseline_settings == "service" else {}
            run.result["sqlite_pragmas"] = {
                "service": service_pragmas,
                "baseline": pragmas or "sqlite3 defaults",
            }
        run.start_server()
        run.result["store"] = seed_store(run)
        started = time.perf_counter()
        for side in ("svc", "base"):
            fill_carts(run, side, options.carts_count)
        run.result["carts"] = {
            "per_side": options.carts_count,
            "initial_lines": INITIAL_LINES,
            "applied_codes": APPLIED_CODES,
            "fill_seconds": round(time.perf_counter() - started, 2),
            "before": {side: stored_counts(run, side) for side in ("svc", "base")},
        }
        for side in ("svc", "base"):
            if run.result["carts"]["before"][side]["codes"] != APPLIED_CODES * options.carts_count:
                raise BenchError(
                    f"{side} carts do not hold {APPLIED_CODES} codes each: {run.result['carts']}"
                )
        run.result["reads"] = check_reads(run)
        first = {f"{side}-{op}": 0 for side in ("service", "baseline") for op in ("add", "read")}
        measured = [measure_level(run, options, level, pragmas, first) for level in options.carts_concurrency]
        run.result["carts"]["after"] = {side: stored_counts(run, side) for side in ("svc", "base")}
        run.result.update({"status": "ok", "levels": measured})
        return run.result


# ----------------------------------------------------------------------------------------------- output


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        f"PromoForge carts benchmark: {AUTOMATIC_PROMOTIONS} automatic and {CODE_PROMOTIONS:,} code "
        f"promotions, {report['carts_per_side']} carts a side, up to {report['requests_per_level']:,} "
        f"requests or {report['seconds_per_level']:.0f} s per level",
    )
    engine = report.get("engine")
    if engine:
        latency = engine["latency"]
        lines.append(
            f"engine ({engine['lines']} lines, {engine['applied_code_offers']} codes + "
            f"{engine['automatic_offers']} automatic, {engine['runs']} runs): "
            f"median {latency['median_ms']:.2f} ms, p95 {latency['p95_ms']:.2f} ms, "
            f"p99 {latency['p99_ms']:.2f} ms; target median <= "
            f"{ENGINE_MEDIAN_TARGET_MS} ms: {pass_fail(engine['pass'])}"
        )
        lines.append("")
    columns = [
        "backend",
        "request",
        "clients",
        "service req/s",
        "baseline req/s",
        "ratio",
        "p50/p95/p99 ms",
        "baseline p50/p99 ms",
        "errors",
        "result",
    ]
    rows: list[list[str]] = []
    read_lines: list[str] = []
    for name, outcome in report["backends"].items():
        if outcome.get("status") != "ok":
            rows.append(not_run_row(name, outcome))
            continue
        for level in outcome["levels"]:
            for operation, label in (("add", "POST items"), ("read", "GET cart")):
                sides = level[operation]
                service, baseline = sides["service"], sides["baseline"]
                sl, bl = service["latency"], baseline["latency"]
                rows.append(
                    [
                        name,
                        label,
                        str(level["concurrency"]),
                        f"{service['requests_per_second']:.1f}",
                        f"{baseline['requests_per_second']:.1f}",
                        f"{sides['ratio']:.2f}",
                        f"{sl.get('p50_ms', 0):.0f}/{sl.get('p95_ms', 0):.0f}/{sl.get('p99_ms', 0):.0f}",
                        f"{bl.get('p50_ms', 0):.1f}/{bl.get('p99_ms', 0):.1f}",
                        str(service["errors"]),
                        "-" if sides["pass"] is None else pass_fail(sides["pass"]),
                    ]
                )
        reads = outcome["reads"]
        read_lines.append(
            f"{name}: promotion rows the service built: GET {reads['get']['promotion_rows']}, POST "
            f"{reads['post']['promotion_rows']} (2 pricings); needed {reads['needed_per_pricing']} per "
            f"pricing of {reads['store_promotions']:,} in the store: {pass_fail(reads['pass'])}"
        )
    lines.extend(render_columns(columns, rows))
    lines.append("")
    lines.extend(read_lines)
    lines.append(
        f"target: p99 <= {API_P99_TARGET_MS:.0f} ms at {TARGET_CONCURRENCY} clients, no errors; "
        f"engine median <= {ENGINE_MEDIAN_TARGET_MS} ms"
    )
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("carts (discount engine; POST .../items and GET /v2/carts/:id)")
    group.add_argument(
        "--carts-concurrency",
        type=concurrency_list,
        default=list(DEFAULT_CONCURRENCY),
        help="clients sending at once, one level after the other (default 1,16)",
    )
    group.add_argument(
        "--carts-requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"requests per level, request kind and side (default {DEFAULT_REQUESTS:,})",
    )
    group.add_argument(
        "--carts-seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"stop sending after this many seconds per level, kind and side (default {DEFAULT_SECONDS:.0f})",
    )
    group.add_argument(
        "--carts-count",
        type=int,
        default=DEFAULT_CARTS,
        help=f"carts per side that the requests go round (default {DEFAULT_CARTS})",
    )
    group.add_argument(
        "--engine-runs",
        type=int,
        default=DEFAULT_ENGINE_RUNS,
        help=f"timed runs of the engine (default {DEFAULT_ENGINE_RUNS:,})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if (
        min(options.carts_requests, options.carts_count, options.engine_runs) < 1
        or options.carts_seconds <= 0
    ):
        parser.error("--carts-requests, --carts-seconds, --carts-count and --engine-runs must be positive")
    if options.carts_count * APPLIED_CODES > CODE_PROMOTIONS:
        parser.error(f"--carts-count may be at most {CODE_PROMOTIONS // APPLIED_CODES}")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file; the engine is measured here, once per run."""
    return {
        "concurrency": options.carts_concurrency,
        "requests_per_level": options.carts_requests,
        "seconds_per_level": options.carts_seconds,
        "carts_per_side": options.carts_count,
        "baseline_settings": options.baseline_settings,
        "store": {
            "automatic_promotions": AUTOMATIC_PROMOTIONS,
            "code_promotions": CODE_PROMOTIONS,
            "products": PRODUCTS,
        },
        "targets": {
            "engine_median_ms": ENGINE_MEDIAN_TARGET_MS,
            "api_p99_ms": API_P99_TARGET_MS,
            "api_concurrency": TARGET_CONCURRENCY,
            "errors": 0,
        },
        "engine": measure_engine(options.engine_runs),
    }


BENCHMARK = Benchmark(
    name="carts",
    description="promoforge discount engine, and POST .../items and GET /v2/carts/:id vs plain DB-API",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
