"""What a pricing reads: one seeded cart priced through the service layer in this process, once read and
once with an add, counting the statements, the statements on `promotions` and the promotions built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from bench.benchmarks.carts.catalog import AUTOMATIC_PROMOTIONS, CODE_PROMOTIONS, PRODUCTS, product_id
from bench.benchmarks.carts.store import cart_name
from bench.harness.backend import BackendRun
from bench.harness.timing import log
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.promotions import Promotion
from promoforge.domain.shoppers import Shopper
from promoforge.services import carts as cart_service
from promoforge.storage.repositories import promotions as promotion_repository


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
