"""Hot path: the server's CPU time per request for what a shop calls on every page view and at every sale.

One API process (`promoforge serve --workers 1 --no-worker`, default settings otherwise) and, beside it, the
floor: a bare FastAPI app answering a constant JSON document from a plain `def` route, served by uvicorn from
the same venv (`bench.harness.floor_app`). One client sends requests one after another over one keep-alive
connection to each. The CPU time the server process used (every thread, user and system) is read from
outside it, from idle to idle, around a batch of requests; CPU per request is the difference divided by the
batch's size. Applying a code is timed request by request instead, each in a window of its own, because
the code is removed again between two applications (the removals are reported beside them).

Each round measures every request kind once, each followed by a floor batch and the first preceded by one;
a kind's multiple of the floor is the median over the rounds of its CPU per request over that of the floor
batches just before and after it, so that a machine that slows down for a while slows both.

The store: 20 live products; 50 automatic promotions whose targets reach none of them; 5 code promotions
with an unlimited code each, each discounting four lines of its own, and a sixth, cart-level, whose code
the code requests apply. A cart holds the 20 products and the 5 codes; each checkout takes a fresh cart
prepared the same way.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.benchmarks.carts import product_document, product_id
from bench.benchmarks.checkout import CHECKOUT_BODY
from bench.harness.api import HTTP_TIMEOUT_SECONDS, expect
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.cpu import ProcessCpu
from bench.harness.databases import service_sqlite_pragmas
from bench.harness.report import header_lines, render_columns
from bench.harness.server import FloorServer
from bench.harness.timing import BenchError, log
from promoforge.api.app import create_app
from promoforge.bootstrap import build
from promoforge.config import Settings

DEFAULT_REQUESTS = 300
DEFAULT_ROUNDS = 5
DEFAULT_CHECKOUTS = 100
WARM_UP_REQUESTS = 50
WARM_UP_CHECKOUTS = 10
PRODUCTS = 20
LINE_QUANTITY = 2
# The quantity requests set the first line to these in turn (an even batch leaves it as it was).
QUANTITIES = (3, LINE_QUANTITY)
AUTOMATIC_PROMOTIONS = 50
APPLIED_CODES = 5
CODES = tuple(f"HOTPATH-{number}" for number in range(APPLIED_CODES))
# A sixth code promotion: a cart-level discount whose code the code requests apply and then remove.
EXTRA_CODE = "HOTPATH-EXTRA"
CURRENCY = "USD"
MAIN_CART = "hotpath-main"
# PostgreSQL's multiple of its floor may be at most this times SQLite's.
POSTGRES_OVER_SQLITE_MAX = 1.3
START, END = "2024-01-01", "2099-01-01"


@dataclass(frozen=True)
class Kind:
    """One kind of request: what it is, which server answers it, how it is timed, and its target (a
    multiple of the floor, on SQLite; None for the floor itself and the informational kinds)."""

    name: str
    label: str
    server: str
    per_request: bool
    target: float | None


KINDS = (
    Kind("floor", "floor: bare FastAPI, def route (thread pool)", "floor", False, None),
    Kind("floor_async", "floor: bare FastAPI, async def route", "floor", False, None),
    Kind("floor_access_log", "floor: def route, uvicorn's access log on", "floor_log", False, None),
    Kind("static", "GET /v2/promotions/attributes (authenticated)", "service", False, 1.5),
    Kind("cart_read", "GET /v2/carts/:id?include=items", "service", False, 5.0),
    Kind("quantity", "PUT /v2/carts/:id/items/:item (quantity)", "service", False, 7.0),
    Kind("apply_code", "POST /v2/carts/:id/items (a code)", "service", True, 7.0),
    Kind("remove_code", "DELETE /v2/carts/:id/discounts/:code", "service", True, None),
    Kind("checkout", "POST /v2/carts/:id/checkout", "service", False, 8.0),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
# Measured once a round, before the floor batch that opens it.
FLOOR_VARIANTS = ("floor_async", "floor_access_log")
# Measured in every round, each followed by a floor batch; remove_code comes with apply_code.
SERVICE_ROUND = ("static", "cart_read", "quantity", "apply_code", "checkout")


def checkout_cart(number: int) -> str:
    """The id of the `number`-th cart prepared for a checkout."""
    return f"hotpath-co-{number:05d}"


# ------------------------------------------------------------------------------------------------ store


def promotion_body(name: str, automatic: bool, promotion_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`POST /v2/promotions` of a running, enabled promotion."""
    return {
        "data": {
            "type": "promotion",
            "name": name,
            "description": "hotpath bench",
            "enabled": True,
            "automatic": automatic,
            "promotion_type": promotion_type,
            "schema": schema,
            "start": START,
            "end": END,
        }
    }


def _usd(amount: int) -> list[dict[str, Any]]:
    return [{"currency": CURRENCY, "amount": amount}]


def automatic_schema(number: int) -> tuple[str, dict[str, Any]]:
    """The `number`-th automatic promotion: six types in turn, each targeting nodes, attributes or SKUs
    that no product of the store has, so the engine weighs it for every cart and it reaches no line."""
    node = f"hotpath-auto-node-{number}"
    miss = f"HOTPATH-AUTO-SKU-{number}"
    schemas: list[tuple[str, dict[str, Any]]] = [
        ("item_percent_discount", {"percent": 5, "target_nodes": [node]}),
        (
            "item_fixed_discount",
            {
                "currencies": _usd(25),
                "target_attributes": [
                    {
                        "template": "products(bench)",
                        "field": "brand",
                        "type": "string",
                        "value": f"hotpath-auto-brand-{number}",
                    }
                ],
            },
        ),
        ("x_for_y", {"x": 3, "y": 2, "target_nodes": [node]}),
        ("x_for_amount", {"x": 3, "currencies": _usd(900), "targets": [miss, f"{miss}-B"]}),
        (
            "bundle_fixed_discount",
            {
                "requirements": [
                    {"targets": [miss], "quantity": 1},
                    {"targets": [f"{miss}-B"], "quantity": 1},
                ],
                "currencies": _usd(700),
            },
        ),
        (
            "bundle_gift",
            {"requirements": [{"targets": [miss], "quantity": 2}], "gifts": [f"{miss}-GIFT"]},
        ),
    ]
    return schemas[number % len(schemas)]


def code_schema(number: int) -> tuple[str, dict[str, Any]]:
    """Code promotion `number` (0-4) discounts products 4n to 4n+3 (each product sits in node-<index>):
    a percentage or a fixed amount off each of its four lines."""
    nodes = [f"node-{index}" for index in range(4 * number, 4 * number + 4)]
    if number % 2 == 0:
        return "item_percent_discount", {"percent": 10, "target_nodes": nodes}
    return "item_fixed_discount", {"currencies": _usd(100), "target_nodes": nodes}


def create_code_promotion(
    client: httpx.Client, name: str, promotion_type: str, schema: dict[str, Any], code: str
) -> str:
    """A code promotion with one unlimited code; return its id."""
    body = expect(
        client.post("/v2/promotions", json=promotion_body(name, False, promotion_type, schema)), 201
    )
    promotion = str(body["data"]["id"])
    codes = {"data": {"type": "promotion_codes", "consume_unit": "per_cart", "codes": [{"code": code}]}}
    expect(client.post(f"/v2/promotions/{promotion}/codes", json=codes), 201)
    return promotion


def discounts_by_code(meta: dict[str, Any]) -> dict[str, int]:
    """The cart's discount per applied code (minor units, positive), from `meta.display_price.discounts`."""
    discounts = meta.get("display_price", {}).get("discounts", {})
    return {str(code).upper(): -int(entry["amount"]) for code, entry in discounts.items()}


def check_discounts(where: str, meta: dict[str, Any], codes: tuple[str, ...]) -> dict[str, int]:
    """Fail unless exactly these codes discount the cart, each by a positive amount."""
    found = discounts_by_code(meta)
    if sorted(found) != sorted(codes) or min(found.values(), default=0) <= 0:
        raise BenchError(f"{where}: expected discounts from {sorted(codes)}, the cart shows {found}")
    return found


def fill_cart(client: httpx.Client, cart: str) -> dict[str, Any]:
    """The 20 products (two units each) and the 5 codes, in one request; check that all 5 discount it."""
    entries: list[dict[str, Any]] = [
        {"type": "cart_item", "id": product_id(index), "quantity": LINE_QUANTITY} for index in range(PRODUCTS)
    ]
    entries += [{"type": "promotion_item", "code": code} for code in CODES]
    body = {"data": entries, "options": {"add_all_or_nothing": True}}
    answer = expect(client.post(f"/v2/carts/{cart}/items", json=body), 201)
    check_discounts(f"cart {cart}", answer["meta"], CODES)
    return answer


def seed(run: BackendRun, client: httpx.Client, checkout_carts: int) -> dict[str, Any]:
    """Products, promotions and codes through the API, the main cart, and the carts to check out."""
    started = time.perf_counter()
    for index in range(PRODUCTS):
        answer = client.put(
            f"/v2/promoforge/products/{product_id(index)}", json={"data": product_document(index)}
        )
        expect(answer, 201)
    for number in range(AUTOMATIC_PROMOTIONS):
        promotion_type, schema = automatic_schema(number)
        body = promotion_body(f"automatic {number}", True, promotion_type, schema)
        expect(client.post("/v2/promotions", json=body), 201)
    for number, code in enumerate(CODES):
        create_code_promotion(client, f"code {number}", *code_schema(number), code)
    create_code_promotion(client, "extra code", "fixed_discount", {"currencies": _usd(500)}, EXTRA_CODE)
    seeded = time.perf_counter() - started
    filled = fill_cart(client, MAIN_CART)
    lines = [line for line in filled["data"] if line["type"] == "cart_item"]
    if len(lines) != PRODUCTS:
        raise BenchError(f"the main cart has {len(lines)} product lines, not {PRODUCTS}")
    cart = expect(client.get(f"/v2/carts/{MAIN_CART}", params={"include": "items"}), 200)
    discounts = check_discounts("the main cart", cart["data"]["meta"], CODES)
    started_carts = time.perf_counter()
    for number in range(checkout_carts):
        fill_cart(client, checkout_cart(number))
    carts_seconds = time.perf_counter() - started_carts
    log(
        f"{run.backend}: {PRODUCTS} products, {AUTOMATIC_PROMOTIONS} automatic and {APPLIED_CODES + 1} code "
        f"promotions in {seeded:.1f} s; {checkout_carts} carts to check out in {carts_seconds:.1f} s"
    )
    return {
        "products": PRODUCTS,
        "automatic_promotions": AUTOMATIC_PROMOTIONS,
        "code_promotions": APPLIED_CODES + 1,
        "main_cart": MAIN_CART,
        "product_lines": len(lines),
        "line_quantity": LINE_QUANTITY,
        "applied_codes": list(CODES),
        "discount_by_code": discounts,
        "quantity_line": lines[0]["id"],
        "checkout_carts": checkout_carts,
        "seconds": round(seeded, 2),
        "checkout_carts_seconds": round(carts_seconds, 2),
    }


# ------------------------------------------------------------------------------------------ measurement


@dataclass
class Sample:
    """CPU time of one batch of requests of one kind (or the sum of per-request windows), and the floor's
    CPU per request in the floor batches just before and after it."""

    requests: int
    cpu_ns: int
    stat_ns: int
    wall_seconds: float
    floor_ms: float | None = None

    @property
    def ms_per_request(self) -> float:
        """CPU milliseconds per request."""
        return self.cpu_ns / self.requests / 1e6

    def document(self) -> dict[str, Any]:
        """The JSON of one round."""
        document: dict[str, Any] = {
            "requests": self.requests,
            "cpu_ms_per_request": round(self.ms_per_request, 4),
            "proc_stat_ms_per_request": round(self.stat_ns / self.requests / 1e6, 4),
            "wall_ms_per_request": round(self.wall_seconds / self.requests * 1000, 4),
        }
        if self.floor_ms is not None:
            document["floor_ms_around"] = round(self.floor_ms, 4)
            document["floor_multiple"] = round(self.ms_per_request / self.floor_ms, 3)
        return document


Sender = Callable[[int], None]


def timed_batch(cpu: ProcessCpu, send: Sender, count: int, first: int) -> Sample:
    """`count` requests one after another, from idle to idle: CPU before the first and after the last."""
    before = cpu.settle()
    before_stat = cpu.stat_ns()
    started = time.perf_counter()
    for number in range(first, first + count):
        send(number)
    wall = time.perf_counter() - started
    after = cpu.settle()
    return Sample(count, after - before, cpu.stat_ns() - before_stat, wall)


def timed_pairs(
    cpu: ProcessCpu, apply: Sender, remove: Sender, count: int, first: int
) -> tuple[Sample, Sample]:
    """`count` times a request and its undoing, each in a window of its own from idle to idle; the CPU of
    each side is the sum of its windows."""
    sides = [Sample(count, 0, 0, 0.0), Sample(count, 0, 0, 0.0)]
    at = cpu.settle()
    stat_at = cpu.stat_ns()
    for number in range(first, first + count):
        for side, send in zip(sides, (apply, remove), strict=True):
            started = time.perf_counter()
            send(number)
            side.wall_seconds += time.perf_counter() - started
            now = cpu.settle()
            stat_now = cpu.stat_ns()
            side.cpu_ns += now - at
            side.stat_ns += stat_now - stat_at
            at, stat_at = now, stat_now
    return sides[0], sides[1]


def checked(response: httpx.Response, status: int) -> None:
    """Fail on an unexpected status (the body is not parsed on the timed path)."""
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            f"(expected {status}): {response.text[:500]}"
        )


def senders(http: dict[str, httpx.Client], line_id: str) -> dict[str, tuple[str, Sender]]:
    """Per request kind, the process that answers it and a function sending one request, given the
    request's number (checkouts: the number of the cart)."""
    floor, floor_log, service = http["floor"], http["floor_log"], http["service"]
    json_headers = {"Content-Type": "application/json"}
    quantities = [json.dumps({"data": {"quantity": q}}).encode() for q in QUANTITIES]
    apply_body = json.dumps({"data": {"type": "promotion_item", "code": EXTRA_CODE}}).encode()
    checkout_body = json.dumps(CHECKOUT_BODY).encode()
    cart_path = f"/v2/carts/{MAIN_CART}"

    def floor_thread(_number: int) -> None:
        checked(floor.get("/"), 200)

    def floor_async(_number: int) -> None:
        checked(floor.get("/async"), 200)

    def floor_access_log(_number: int) -> None:
        checked(floor_log.get("/"), 200)

    def static(_number: int) -> None:
        checked(service.get("/v2/promotions/attributes"), 200)

    def cart_read(_number: int) -> None:
        checked(service.get(cart_path, params={"include": "items"}), 200)

    def quantity(number: int) -> None:
        body = quantities[number % len(quantities)]
        checked(service.put(f"{cart_path}/items/{line_id}", content=body, headers=json_headers), 200)

    def apply_code(_number: int) -> None:
        checked(service.post(f"{cart_path}/items", content=apply_body, headers=json_headers), 201)

    def remove_code(_number: int) -> None:
        checked(service.delete(f"{cart_path}/discounts/{EXTRA_CODE}"), 204)

    def checkout(number: int) -> None:
        path = f"/v2/carts/{checkout_cart(number)}/checkout"
        checked(service.post(path, content=checkout_body, headers=json_headers), 201)

    return {
        "floor": ("floor", floor_thread),
        "floor_async": ("floor", floor_async),
        "floor_access_log": ("floor_log", floor_access_log),
        "static": ("service", static),
        "cart_read": ("service", cart_read),
        "quantity": ("service", quantity),
        "apply_code": ("service", apply_code),
        "remove_code": ("service", remove_code),
        "checkout": ("service", checkout),
    }


def check_extra_code(service: httpx.Client) -> dict[str, int]:
    """Apply the sixth code once: all six discount the cart; remove it again."""
    answer = expect(
        service.post(
            f"/v2/carts/{MAIN_CART}/items", json={"data": {"type": "promotion_item", "code": EXTRA_CODE}}
        ),
        201,
    )
    found = check_discounts("the main cart with the extra code", answer["meta"], (*CODES, EXTRA_CODE))
    checked(service.delete(f"/v2/carts/{MAIN_CART}/discounts/{EXTRA_CODE}"), 204)
    return found


def check_checkout(service: httpx.Client, number: int) -> int:
    """One checkout of a prepared cart (a warm-up one): its order carries the carts' discount."""
    path = f"/v2/carts/{checkout_cart(number)}/checkout"
    order = expect(service.post(path, json=CHECKOUT_BODY), 201)
    discount = -int(order["data"]["meta"]["display_price"]["discount"]["amount"])
    if discount <= 0:
        raise BenchError(f"checkout of {checkout_cart(number)} gave no discount: {order['data']['meta']}")
    return discount


@dataclass
class Plan:
    """How many requests of each kind a batch sends, and the rounds."""

    requests: int
    checkouts: int
    rounds: int

    def size(self, kind: str) -> int:
        """Requests in one batch of this kind."""
        return self.checkouts if kind == "checkout" else self.requests

    def warm_up(self, kind: str) -> int:
        """Untimed requests of this kind before the first round."""
        return (
            min(WARM_UP_CHECKOUTS, self.checkouts)
            if kind == "checkout"
            else min(WARM_UP_REQUESTS, self.requests)
        )

    def checkout_carts(self) -> int:
        """Carts prepared for checkouts: the probe's, the warm-up's and every round's."""
        return 1 + self.warm_up("checkout") + self.rounds * self.checkouts


def measure(
    backend: str,
    plan: Plan,
    cpus: dict[str, ProcessCpu],
    send: dict[str, tuple[str, Sender]],
) -> tuple[list[tuple[str, Sample]], dict[str, int]]:
    """Warm every kind up, then the rounds. A round is a batch of each floor variant, then a floor batch,
    and after it each service kind followed by another floor batch, so that every sample lies between two
    floor batches. Return the samples in the order they were taken, and the requests of each kind."""
    sent = dict.fromkeys(send, 0)
    sent["checkout"] = 1  # the first cart went to the probe
    timeline: list[tuple[str, Sample]] = []

    def batch(name: str) -> Sample:
        size = plan.size(name)
        server, sender = send[name]
        sample = timed_batch(cpus[server], sender, size, sent[name])
        sent[name] += size
        timeline.append((name, sample))
        return sample

    for name in ("floor", *FLOOR_VARIANTS, *SERVICE_ROUND):
        for _ in range(plan.warm_up(name)):
            send[name][1](sent[name])
            if name == "apply_code":
                send["remove_code"][1](sent[name])
            sent[name] += 1
    for round_number in range(plan.rounds):
        for name in FLOOR_VARIANTS:
            batch(name)
        figures = [f"floor {batch('floor').ms_per_request:.2f}"]
        for name in SERVICE_ROUND:
            if name == "apply_code":
                size = plan.size(name)
                applied, removed = timed_pairs(
                    cpus["service"], send["apply_code"][1], send["remove_code"][1], size, sent[name]
                )
                sent[name] += size
                timeline += [("apply_code", applied), ("remove_code", removed)]
                figures.append(f"{name} {applied.ms_per_request:.2f}")
            else:
                figures.append(f"{name} {batch(name).ms_per_request:.2f}")
            batch("floor")
        log(f"{backend}: round {round_number + 1}/{plan.rounds}: CPU ms per request: {', '.join(figures)}")
    sent["remove_code"] = sent["apply_code"]
    for index, (name, sample) in enumerate(timeline):
        if name != "floor":
            before = [s for n, s in reversed(timeline[:index]) if n == "floor"][:1]
            after = [s for n, s in timeline[index + 1 :] if n == "floor"][:1]
            sample.floor_ms = statistics.fmean(s.ms_per_request for s in before + after)
    return timeline, sent


def kind_summary(kind: Kind, samples: list[Sample], floor_median_ms: float) -> dict[str, Any]:
    """Median and spread of one kind's rounds, in ms and as multiples of the floor: the median of the
    multiples of the floor batches around each sample (the floor: its own median)."""
    per_request = [s.ms_per_request for s in samples]
    median = statistics.median(per_request)
    paired = [s.ms_per_request / s.floor_ms for s in samples if s.floor_ms]
    multiple = statistics.median(paired) if paired else 1.0
    return {
        "label": kind.label,
        "server": kind.server,
        "timed": "each request in a window of its own" if kind.per_request else "batches",
        "rounds": [s.document() for s in samples],
        "median_ms": round(median, 4),
        "min_ms": round(min(per_request), 4),
        "max_ms": round(max(per_request), 4),
        "proc_stat_median_ms": round(statistics.median(s.stat_ns / s.requests / 1e6 for s in samples), 4),
        "wall_median_ms": round(statistics.median(s.wall_seconds / s.requests * 1000 for s in samples), 4),
        "floor_multiple": round(multiple, 3),
        "floor_multiple_min": round(min(paired), 3) if paired else 1.0,
        "floor_multiple_max": round(max(paired), 3) if paired else 1.0,
        "median_over_floor_median": round(median / floor_median_ms, 3),
        "target_floor_multiple": kind.target,
        "met": None if kind.target is None else multiple <= kind.target,
    }


# ------------------------------------------------------------------------------- statements per request


@contextmanager
def counting(engine: Any) -> Iterator[dict[str, int]]:
    """Count the statements (BEGIN aside) and the transactions an engine runs."""
    seen = {"statements": 0, "transactions": 0}

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen["statements"] += 1

    def began(_conn: Any) -> None:
        seen["transactions"] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "begin", began)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", began)
        event.remove(engine, "before_cursor_execute", before)


def count_statements(
    run: BackendRun, line_id: str, spare_carts: tuple[int, int]
) -> dict[str, dict[str, int]]:
    """The SQL of each request kind: the same requests sent to an app built in this process over the same
    database, counted on its engine. Each kind is sent twice and the second is counted (warm caches); the
    code is applied, removed, applied and removed, and the last two are counted."""
    settings = Settings.model_construct(
        database_url=run.database_url, data_dir=run.temp_dir, run_worker=False
    )
    container = build(settings, worker_threads=0)
    cart = f"/v2/carts/{MAIN_CART}"
    line = f"{cart}/items/{line_id}"
    apply = ("POST", f"{cart}/items", {"data": {"type": "promotion_item", "code": EXTRA_CODE}})
    remove = ("DELETE", f"{cart}/discounts/{EXTRA_CODE}", None)
    # (kind or None for an uncounted request, method, path, JSON body)
    requests: list[tuple[str | None, str, str, Any]] = [
        (None, "GET", "/v2/promotions/attributes", None),
        ("static", "GET", "/v2/promotions/attributes", None),
        (None, "GET", f"{cart}?include=items", None),
        ("cart_read", "GET", f"{cart}?include=items", None),
        (None, "PUT", line, {"data": {"quantity": QUANTITIES[0]}}),
        ("quantity", "PUT", line, {"data": {"quantity": QUANTITIES[1]}}),
        (None, *apply),
        (None, *remove),
        ("apply_code", *apply),
        ("remove_code", *remove),
        (None, "POST", f"/v2/carts/{checkout_cart(spare_carts[0])}/checkout", CHECKOUT_BODY),
        ("checkout", "POST", f"/v2/carts/{checkout_cart(spare_carts[1])}/checkout", CHECKOUT_BODY),
    ]
    counts: dict[str, dict[str, int]] = {}
    try:
        with TestClient(create_app(container), client=("127.0.0.1", 50000)) as client:
            grant = {
                "grant_type": "client_credentials",
                "client_id": run.store["client_id"],
                "client_secret": run.store["client_secret"],
            }
            token = client.post("/oauth/access_token", data=grant).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            for kind, method, path, body in requests:
                with counting(container.db.engine) as seen:
                    response = client.request(method, path, json=body)
                if response.status_code >= 300:
                    raise BenchError(
                        f"{method} {path} answered {response.status_code}: {response.text[:300]}"
                    )
                if kind is not None:
                    counts[kind] = dict(seen)
    finally:
        container.close()
    return counts


# ---------------------------------------------------------------------------------------------- backend


@contextmanager
def floors(run: BackendRun) -> Iterator[dict[str, FloorServer]]:
    """The floor app in two processes: without an access log (the floor) and with uvicorn's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMOFORGE_")}
    servers = {
        "floor": FloorServer(run.bin_dir, env, run.temp_dir / "floor.log"),
        "floor_log": FloorServer(run.bin_dir, env, run.temp_dir / "floor-log.log", access_log=True),
    }
    try:
        for name, server in servers.items():
            server.start()
            run.result[f"{name}_server"] = server.describe()
            log(f"{run.backend}: {name} pid {server.pid} on {server.base_url}")
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """A fresh database, the service (one process, no job worker) and the floors; seed; measure; count."""
    plan = Plan(options.hotpath_requests, options.hotpath_checkouts, options.hotpath_rounds)
    with prepared_backend(backend, bin_dir, admin_url, 1000) as run:
        if backend == "sqlite":
            run.result["sqlite_pragmas"] = {"service": service_sqlite_pragmas(run.database_url)}
        service_server = run.start_server(serve_args=["--no-worker"], workers=1)
        with floors(run) as floor_servers, ExitStack() as clients:
            run.result["load_average_start"] = [round(v, 2) for v in os.getloadavg()]
            spare = plan.checkout_carts()
            with run.client() as client:
                run.result["store"] = seed(run, client, spare + 2)
            line_id = run.result["store"]["quantity_line"]
            cpus = {name: ProcessCpu(server.pid) for name, server in floor_servers.items()}
            cpus["service"] = ProcessCpu(service_server.pid)
            run.result["cpu_clock"] = cpus["service"].source
            run.result["idle_cpu_ms_per_second"] = {
                name: round(cpu.idle_ns_per_second() / 1e6, 3) for name, cpu in cpus.items()
            }
            http = {
                name: clients.enter_context(
                    httpx.Client(base_url=server.base_url, timeout=HTTP_TIMEOUT_SECONDS)
                )
                for name, server in floor_servers.items()
            }
            service = http["service"] = clients.enter_context(run.client())
            run.result["extra_code_discounts"] = check_extra_code(service)
            run.result["checkout_discount"] = check_checkout(service, 0)
            timeline, sent = measure(backend, plan, cpus, senders(http, line_id))
            cart = expect(service.get(f"/v2/carts/{MAIN_CART}", params={"include": "items"}), 200)
            check_discounts("the main cart after the rounds", cart["data"]["meta"], CODES)
            lines = [line for line in cart["included"]["items"] if line["type"] == "cart_item"]
            if len(lines) != PRODUCTS:
                raise BenchError(f"the main cart has {len(lines)} product lines after the rounds")
        run.result["requests_sent"] = sent
        samples = {kind.name: [s for name, s in timeline if name == kind.name] for kind in KINDS}
        floor_ms = statistics.median(s.ms_per_request for s in samples["floor"])
        run.result["kinds"] = {kind.name: kind_summary(kind, samples[kind.name], floor_ms) for kind in KINDS}
        run.result["statements"] = count_statements(run, line_id, (spare, spare + 1))
        run.result["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
        run.result["status"] = "ok"
        summary = ", ".join(
            f"{name} {kind['median_ms']:.2f} ms ({kind['floor_multiple']:.1f}x)"
            for name, kind in run.result["kinds"].items()
        )
        log(f"{backend}: medians: {summary}")
        return run.result


# ----------------------------------------------------------------------------------------------- output


def multiples(report: dict[str, Any], backend: str) -> dict[str, dict[str, Any]]:
    """The kinds of a backend that was measured (empty if it was not)."""
    outcome = report["backends"].get(backend, {})
    return dict(outcome.get("kinds", {})) if outcome.get("status") == "ok" else {}


def postgres_over_sqlite(report: dict[str, Any]) -> dict[str, float]:
    """PostgreSQL's multiple of its floor over SQLite's, per kind (both backends measured)."""
    lite, pg = multiples(report, "sqlite"), multiples(report, "postgresql")
    return {
        name: round(pg[name]["floor_multiple"] / lite[name]["floor_multiple"], 3)
        for name in lite
        if name in pg and name != "floor"
    }


def met_text(ok: bool) -> str:
    """met or missed."""
    return "met" if ok else "missed"


def spread_text(name: str, kind: dict[str, Any]) -> str:
    """A kind's lowest and highest round, in ms and (but the floor) as multiples of the floor."""
    text = f"{name} {kind['min_ms']:.2f}-{kind['max_ms']:.2f} ms"
    if name == "floor":
        return text
    return f"{text} ({kind['floor_multiple_min']:.2f}-{kind['floor_multiple_max']:.2f}x)"


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        "PromoForge hot-path benchmark: server CPU per request, one keep-alive connection, one request "
        f"after another; median of {report['rounds']} rounds of {report['requests_per_batch']} requests "
        f"({report['checkouts_per_batch']} checkouts)",
    )
    lite, pg = multiples(report, "sqlite"), multiples(report, "postgresql")
    ratios = postgres_over_sqlite(report)
    columns = [
        "request",
        "SQLite ms",
        "x floor",
        "PostgreSQL ms",
        "x floor",
        "PG/SQLite",
        "target",
        "SQLite",
        f"PG <= {POSTGRES_OVER_SQLITE_MAX}x",
        "SQL statements",
    ]
    rows: list[list[str]] = []
    met: list[bool] = []
    ratio_met: list[bool] = []
    for kind in KINDS:
        cells = [kind.label]
        for measured in (lite, pg):
            figure = measured.get(kind.name)
            cells += (
                ["-", "-"]
                if figure is None
                else [f"{figure['median_ms']:.3f}", f"{figure['floor_multiple']:.2f}"]
            )
        ratio = ratios.get(kind.name)
        cells.append("-" if ratio is None else f"{ratio:.2f}")
        if kind.target is None:
            cells += ["", "", ""]
        else:
            cells.append(f"<= {kind.target:g}x")
            if kind.name in lite:
                met.append(bool(lite[kind.name]["met"]))
            cells.append(met_text(met[-1]) if kind.name in lite else "-")
            if ratio is not None:
                ratio_met.append(ratio <= POSTGRES_OVER_SQLITE_MAX)
            cells.append("-" if ratio is None else met_text(ratio_met[-1]))
        counts = [
            str(statements["statements"])
            for name in ("sqlite", "postgresql")
            if (statements := report["backends"].get(name, {}).get("statements", {}).get(kind.name))
        ]
        cells.append("/".join(counts) if kind.server == "service" else "")
        rows.append(cells)
    lines.extend(render_columns(columns, rows))
    lines.append("")
    for name, outcome in report["backends"].items():
        if outcome.get("status") != "ok":
            lines.append(f"{name}: not run: {outcome.get('error', outcome.get('status', '?'))}")
            continue
        kinds = outcome["kinds"]
        spread = ", ".join(spread_text(kind.name, kinds[kind.name]) for kind in KINDS)
        lines.append(f"{name}: lowest-highest round: {spread}")
        idle = outcome["idle_cpu_ms_per_second"]
        idle_text = ", ".join(f"{server} {value:.2f}" for server, value in idle.items())
        lines.append(
            f"{name}: idle CPU ms/s: {idle_text}; load average {outcome['load_average_start']} at the "
            f"start, {outcome['load_average_end']} at the end"
        )
    lines.append(
        "x floor: median over the rounds of the CPU per request over that of the floor batches just before "
        "and after it; PG/SQLite: the two multiples"
    )
    lines.append(
        f"targets (SQLite): {sum(met)} of {len(met)} met; PostgreSQL at most {POSTGRES_OVER_SQLITE_MAX}x "
        f"SQLite's multiple: {sum(ratio_met)} of {len(ratio_met)}"
    )
    lines.append("SQL statements per request, BEGIN aside (SQLite/PostgreSQL)")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("hotpath (server CPU per request against a bare FastAPI floor)")
    group.add_argument(
        "--hotpath-requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"requests per batch of each kind but checkouts (default {DEFAULT_REQUESTS})",
    )
    group.add_argument(
        "--hotpath-checkouts",
        type=int,
        default=DEFAULT_CHECKOUTS,
        help=f"checkouts per batch, each of a fresh cart (default {DEFAULT_CHECKOUTS})",
    )
    group.add_argument(
        "--hotpath-rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"rounds of batches, each kind once a round after a floor batch (default {DEFAULT_ROUNDS})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if min(options.hotpath_requests, options.hotpath_checkouts, options.hotpath_rounds) < 1:
        parser.error("--hotpath-requests, --hotpath-checkouts and --hotpath-rounds must be positive")
    if options.hotpath_checkouts * options.hotpath_rounds > 50_000:
        parser.error("--hotpath-checkouts x --hotpath-rounds may be at most 50,000 (a cart for each)")


def uvicorn_implementation() -> dict[str, str]:
    """What uvicorn's `auto` picks in this venv, for the floor and the service alike."""
    return {
        "version": uvicorn.__version__,
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
    }


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file."""
    plan = Plan(options.hotpath_requests, options.hotpath_checkouts, options.hotpath_rounds)
    return {
        "requests_per_batch": plan.requests,
        "checkouts_per_batch": plan.checkouts,
        "rounds": plan.rounds,
        "warm_up": {"requests": plan.warm_up("static"), "checkouts": plan.warm_up("checkout")},
        "service": "promoforge serve --workers 1 --no-worker (default settings otherwise)",
        "floor": "bench.harness.floor_app: FastAPI, constant JSON from GET / (a def route, the reference) "
        "and GET /async (an async def route)",
        "uvicorn": uvicorn_implementation(),
        "store": {
            "products": PRODUCTS,
            "automatic_promotions": AUTOMATIC_PROMOTIONS,
            "automatic_promotions_reach": "no product",
            "code_promotions": APPLIED_CODES + 1,
            "cart_lines": PRODUCTS,
            "applied_codes": APPLIED_CODES,
        },
        "kinds": {kind.name: kind.label for kind in KINDS},
        "targets": {
            "floor_multiple_on_sqlite": {kind.name: kind.target for kind in KINDS if kind.target is not None},
            "postgres_over_sqlite_max": POSTGRES_OVER_SQLITE_MAX,
        },
    }


BENCHMARK = Benchmark(
    name="hotpath",
    description="promoforge server CPU per request on the hot path, as a multiple of a bare FastAPI app",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
