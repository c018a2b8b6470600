"""One request of each kind (`add`, `read`) as the load runner sends it: through the API for the service,
and as the same database work in plain SQL for the baseline.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.benchmarks.carts.catalog import product_id
from bench.benchmarks.carts.store import added_product, cart_name
from bench.harness.codes import stored_id
from bench.harness.timing import BenchError
from promoforge.domain.carts import line_merge_key
from promoforge.domain.identifiers import code_id_parts
from promoforge.domain.pricing import LineKind


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
