"""The bench store on one backend: its promotions and products seeded, its carts filled, and what the
carts hold.
"""

from __future__ import annotations

import time
from typing import Any

from bench.benchmarks.carts.catalog import (
    ADD_POOL,
    INITIAL_LINES,
    PRODUCTS,
    group_codes,
    product_document,
    product_id,
    seed_promotions,
)
from bench.harness.api import expect
from bench.harness.backend import BackendRun
from bench.harness.databases import baseline_connection
from bench.harness.timing import BenchError, log
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.codes import NewCode, canonical_code


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
