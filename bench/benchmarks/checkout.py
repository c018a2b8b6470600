"""Checkout (`POST /v2/carts/:id/checkout`) by 1, 16 and 64 clients, in three code scenarios.

Every cart holds three custom lines and one code of a cart-level promotion: (a) one hot code with 1,000,000
uses on every cart, (b) a code of its own on each cart, (c) one code without a limit on every cart. A plain
DB-API baseline does the same database writes in the same run, at the same concurrency. After every run the
benchmark checks that the codes lost exactly the uses that the run's usage records and discounted orders
account for.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from psycopg.types.json import Json

from bench.harness.api import create_promotion, expect
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.codes import code_condition, row_code_id, seq_range
from bench.harness.databases import baseline_connection, service_sqlite_pragmas
from bench.harness.load import concurrency_list, warmed_level
from bench.harness.report import header_lines, not_run_row, pass_fail, render_columns
from bench.harness.timing import BenchError, log

DEFAULT_CONCURRENCY = (1, 16, 64)
DEFAULT_REQUESTS = 2000
DEFAULT_SECONDS = 20.0
DEFAULT_CARTS = 64
SCENARIOS = ("hot", "distinct", "unlimited")
SCENARIO_TEXT = {
    "hot": f"one per_cart code with {1_000_000:,} uses on every cart",
    "distinct": "a per_cart code of its own on each cart",
    "unlimited": "one code without a limit on every cart",
}
CODE_USES = 1_000_000
CUSTOM_LINES = 3
# The service's checkouts per second must be at least this share of the baseline's, at this concurrency.
RATIO_TARGET = 0.5
TARGET_CONCURRENCY = 16
PERCENTILES = (50, 95, 99)
CONSUME_UNIT = "per_cart"
SIDES = {"service": "svc", "baseline": "base"}
CHECKOUT_BODY: dict[str, Any] = {
    "data": {
        "customer": {"name": "John", "email": "j@x.com"},
        "billing_address": {
            "first_name": "J",
            "last_name": "D",
            "line_1": "1",
            "postcode": "9",
            "country": "US",
            "region": "CA",
        },
    }
}


def cart_name(scenario: str, side: str, number: int) -> str:
    """The id of a bench cart: `co-hot-svc-0007`."""
    return f"co-{scenario}-{side}-{number:04d}"


def code_text(scenario: str, side: str, number: int) -> str:
    """The code cart `number` of a side holds in a scenario (one code a side for `hot` and `unlimited`)."""
    if scenario == "distinct":
        return f"DIST-{side}-{number:04d}".upper()
    return f"{scenario}-{side}".upper()


def marker(backend: str) -> str:
    """The driver's parameter marker."""
    return "?" if backend == "sqlite" else "%s"


# ------------------------------------------------------------------------------------------------ set-up


@dataclass(frozen=True)
class Side:
    """One side of a scenario: its promotion and, per cart, the id and code id of the cart."""

    scenario: str
    side: str
    promotion_id: str
    carts: list[str]
    code_ids: list[str]
    codes: list[str]


def prepare_side(run: BackendRun, scenario: str, side: str, count: int) -> Side:
    """A promotion (USD 1.00 off the cart), its codes, and `count` carts of three custom lines and a code,
    all through the API."""
    with run.client() as client:
        promotion_id = create_promotion(client)
        texts = sorted({code_text(scenario, side, number) for number in range(count)})
        uses: dict[str, int] = {} if scenario == "unlimited" else {"uses": CODE_USES}
        body: dict[str, Any] = {
            "data": {
                "type": "promotion_codes",
                "consume_unit": CONSUME_UNIT,
                "codes": [{"code": text, **uses} for text in texts],
            }
        }
        expect(client.post(f"/v2/promotions/{promotion_id}/codes", json=body), 201)
        carts: list[str] = []
        for number in range(count):
            cart = cart_name(scenario, side, number)
            entries: list[dict[str, Any]] = [
                {
                    "type": "custom_item",
                    "name": f"Line {line}",
                    "sku": f"custom-{line}",
                    "quantity": 1,
                    "price": {"amount": 1000 + 250 * line},
                }
                for line in range(CUSTOM_LINES)
            ]
            entries.append({"type": "promotion_item", "code": code_text(scenario, side, number)})
            items = {"data": entries, "options": {"add_all_or_nothing": True}}
            expect(client.post(f"/v2/carts/{cart}/items", json=items), 201)
            carts.append(cart)
    m = marker(run.backend)
    with baseline_connection(run.backend, run.database_url, {}) as conn:
        rows = conn.execute(
            f"SELECT cart_id, code_id, code FROM cart_codes WHERE store_id = {m} AND promotion_id = {m}",
            (run.store["store_id"], promotion_id),
        ).fetchall()
    applied = {str(row[0]): (str(row[1]), str(row[2])) for row in rows}
    if sorted(applied) != carts:
        raise BenchError(f"{scenario} {side}: {len(applied)} of {count} carts hold their code")
    return Side(
        scenario,
        side,
        promotion_id,
        carts,
        [applied[cart][0] for cart in carts],
        [applied[cart][1] for cart in carts],
    )


def probe_checkout(run: BackendRun, service: Side) -> dict[str, Any]:
    """One service checkout before timing: what an order of this scenario is (its items and discount), and
    the rows it wrote, which the baseline copies."""
    with run.client() as client:
        body = expect(client.post(f"/v2/carts/{service.carts[0]}/checkout", json=CHECKOUT_BODY), 201)
    order_id = str(body["data"]["id"])
    items = body["data"]["relationships"]["items"]["data"]
    discount = -int(body["data"]["meta"]["display_price"]["discount"]["amount"])
    if discount <= 0:
        raise BenchError(f"{service.scenario}: the code gave no discount: {body['data']['meta']}")
    m = marker(run.backend)
    with baseline_connection(run.backend, run.database_url, {}) as conn:
        order = fetch_dicts(conn, f"SELECT * FROM orders WHERE id = {m}", (order_id,))
        order_items = fetch_dicts(
            conn, f"SELECT * FROM order_items WHERE order_id = {m} ORDER BY position", (order_id,)
        )
        usages = fetch_dicts(conn, f"SELECT * FROM promotion_usages WHERE order_id = {m}", (order_id,))
    if len(order) != 1 or len(order_items) != len(items) or len(usages) != 1:
        raise BenchError(
            f"{service.scenario}: the probe order has {len(order)} rows, {len(order_items)} items "
            f"({len(items)} in the answer) and {len(usages)} usages"
        )
    return {
        "order_items": len(order_items),
        "usages": len(usages),
        "discount": discount,
        "rows": {"order": order[0], "items": order_items, "usage": usages[0]},
    }


def fetch_dicts(conn: Any, statement: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows as dicts of column to value."""
    cursor = conn.execute(statement, parameters)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# --------------------------------------------------------------------------------- redemption check


def redemption_state(run: BackendRun, side: Side) -> dict[str, Any]:
    """The side's code rows (uses left), usage records per code, and orders of its carts, read directly."""
    m = marker(run.backend)
    with baseline_connection(run.backend, run.database_url, {}) as conn:
        # A generated code may leave its creation time and uses to its job (docs/adr/0015).
        codes = conn.execute(
            "SELECT c.seq, c.id, coalesce(c.created_at, j.created_at),"
            " coalesce(c.uses, c.max_uses, j.code_max_uses)"
            " FROM promotion_codes AS c LEFT JOIN promotion_jobs AS j ON j.ref = c.job_ref"
            f" WHERE c.seq >= {m} AND c.seq < {m}",
            seq_range(conn, m, side.promotion_id),
        ).fetchall()
        usages = conn.execute(
            "SELECT code_id, count(*), sum(times_used) FROM promotion_usages "
            f"WHERE store_id = {m} AND promotion_id = {m} GROUP BY code_id",
            (run.store["store_id"], side.promotion_id),
        ).fetchall()
        orders = conn.execute(
            "SELECT count(*), sum(CASE WHEN discount > 0 THEN 1 ELSE 0 END) FROM orders "
            f"WHERE store_id = {m} AND cart_id LIKE {m}",
            (run.store["store_id"], cart_name(side.scenario, side.side, 0)[:-4] + "%"),
        ).fetchone()
    return {
        "uses": {
            row_code_id(row[0], row[1], row[2]): None if row[3] is None else int(row[3]) for row in codes
        },
        "usages": {str(row[0]): (int(row[1]), int(row[2] or 0)) for row in usages},
        "orders": int(orders[0]),
        "discounted_orders": int(orders[1] or 0),
    }


def redemption_check(before: dict[str, Any], after: dict[str, Any], checkouts: int) -> dict[str, Any]:
    """Uses taken == usage records' times_used == discounted orders == checkouts that succeeded, code by
    code where a code has a limit; a code without a limit keeps none."""
    taken = 0
    records = 0
    times_used = 0
    problems: list[str] = []
    for code_id, left_before in before["uses"].items():
        left_after = after["uses"].get(code_id)
        count_before, sum_before = before["usages"].get(code_id, (0, 0))
        count_after, sum_after = after["usages"].get(code_id, (0, 0))
        used = sum_after - sum_before
        records += count_after - count_before
        times_used += used
        if left_before is None or left_after is None:
            if left_before is not None or left_after is not None:
                problems.append(f"code {code_id}: uses went from {left_before} to {left_after}")
            continue
        taken += left_before - left_after
        if left_before - left_after != used:
            problems.append(f"code {code_id}: {left_before - left_after} uses taken, {used} recorded")
        if left_after < 0:
            problems.append(f"code {code_id}: {left_after} uses left")
    orders = after["orders"] - before["orders"]
    discounted = after["discounted_orders"] - before["discounted_orders"]
    limited = any(value is not None for value in before["uses"].values())
    if limited and taken != times_used:
        problems.append(f"{taken} uses taken, usage records say {times_used}")
    if times_used != discounted:
        problems.append(f"usage records say {times_used} uses, {discounted} discounted orders")
    if orders != checkouts or discounted != checkouts:
        problems.append(f"{checkouts} checkouts succeeded, {orders} orders ({discounted} discounted)")
    return {
        "uses_taken": taken if limited else None,
        "usage_records": records,
        "times_used": times_used,
        "orders": orders,
        "discounted_orders": discounted,
        "checkouts": checkouts,
        "problems": problems,
        "pass": not problems,
    }


# ----------------------------------------------------------------------------------------------- service


def service_sender(side: Side) -> Callable[[httpx.Client, int], tuple[float | None, str]]:
    """Check out cart n mod carts; return the latency and status."""
    paths = [f"/v2/carts/{cart}/checkout" for cart in side.carts]
    content = json.dumps(CHECKOUT_BODY).encode()
    headers = {"Content-Type": "application/json"}

    def send(client: httpx.Client, number: int) -> tuple[float | None, str]:
        started = time.perf_counter()
        try:
            response = client.post(paths[number % len(paths)], content=content, headers=headers)
        except httpx.HTTPError as error:
            return None, type(error).__name__
        return time.perf_counter() - started, str(response.status_code)

    return send


# --------------------------------------------------------------------------------------------- baseline


def _db_value(backend: str, value: Any) -> Any:
    """A value read back from a probe row, ready to be written again by the driver."""
    if backend == "postgresql" and isinstance(value, dict | list):
        return Json(value)
    return value


def baseline_sender(
    backend: str, store_id: str, side: Side, probe: dict[str, Any]
) -> Callable[[Any, int], tuple[float | None, str]]:
    """The database writes of one checkout as plain SQL in one transaction: lock the cart and the code,
    take one use (when the code has a limit), insert the order, its items and the usage record."""
    sqlite = backend == "sqlite"
    m = marker(backend)
    rows = probe["rows"]
    order_template = {key: _db_value(backend, value) for key, value in rows["order"].items()}
    item_templates = [{key: _db_value(backend, v) for key, v in item.items()} for item in rows["items"]]
    usage_template = dict(rows["usage"])
    lock = "" if sqlite else " FOR UPDATE"
    limited = side.scenario != "unlimited"

    def insert(table: str, columns: list[str]) -> str:
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([m] * len(columns))})"

    order_columns = list(order_template)
    item_columns = list(item_templates[0])
    usage_columns = list(usage_template)
    statements = {
        "cart": f"SELECT * FROM carts WHERE store_id = {m} AND id = {m}{lock}",
        "code": "SELECT * FROM promotion_codes WHERE {}" + lock,
        "consume": "UPDATE promotion_codes SET uses = uses - 1 WHERE {} AND uses >= 1",
        "order": insert("orders", order_columns),
        "items": insert("order_items", item_columns),
        "usage": insert("promotion_usages", usage_columns),
    }

    def send(conn: Any, number: int) -> tuple[float | None, str]:
        index = number % len(side.carts)
        cart_id, code_id = side.carts[index], side.code_ids[index]
        code_where, code_params = code_condition(backend, code_id, m)
        now = datetime.now(UTC)
        at: object = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
        order_id = str(uuid.uuid4())
        order = {**order_template, "id": order_id, "cart_id": cart_id, "created_at": at, "updated_at": at}
        items = [{**item, "id": str(uuid.uuid4()), "order_id": order_id} for item in item_templates]
        usage = {
            **usage_template,
            "id": str(uuid.uuid4()),
            "promotion_id": side.promotion_id,
            "code_id": code_id,
            "code": side.codes[index],
            "order_id": order_id,
            "used_on": at,
            "updated_at": at,
        }
        started = time.perf_counter()
        cursor = conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
            if cursor.execute(statements["cart"], (store_id, cart_id)).fetchone() is None:
                raise BenchError(f"baseline cart {cart_id} is missing")
            if cursor.execute(statements["code"].format(code_where), code_params).fetchone() is None:
                raise BenchError(f"baseline code {code_id} is missing")
            if limited:
                cursor.execute(statements["consume"].format(code_where), code_params)
                if cursor.rowcount != 1:
                    raise BenchError(f"baseline code {code_id} has no use left")
            cursor.execute(statements["order"], tuple(order[c] for c in order_columns))
            cursor.executemany(statements["items"], [tuple(i[c] for c in item_columns) for i in items])
            cursor.execute(statements["usage"], tuple(usage[c] for c in usage_columns))
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        return time.perf_counter() - started, "committed"

    return send


# ---------------------------------------------------------------------------------------------- backend


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


def measure_level(
    run: BackendRun,
    options: argparse.Namespace,
    level: int,
    sides: dict[str, Side],
    probe: dict[str, Any],
    pragmas: dict[str, int],
    first: dict[str, int],
) -> dict[str, Any]:
    """Service then baseline checkouts at one concurrency, each followed by its redemption check."""
    scenario = sides["service"].scenario

    def open_http() -> httpx.Client:
        return run.client()

    def open_db() -> Any:
        return baseline_connection(run.backend, run.database_url, pragmas)

    senders: dict[str, tuple[Callable[[], Any], Callable[[Any, int], tuple[float | None, str]], str]] = {
        "service": (open_http, service_sender(sides["service"]), "201"),
        "baseline": (
            open_db,
            baseline_sender(run.backend, run.store["store_id"], sides["baseline"], probe),
            "committed",
        ),
    }
    result: dict[str, Any] = {"concurrency": level}
    for side_name, (opener, sender, ok_status) in senders.items():
        side = sides[side_name]
        load = load_average()
        before = redemption_state(run, side)
        start = first[side_name]
        # One untimed request per client opens connections and fills caches.
        warm, outcome = warmed_level(
            level, options.checkout_requests, options.checkout_seconds, opener, sender, start
        )
        first[side_name] = start + level + sum(outcome.statuses.values())
        after = redemption_state(run, side)
        summary = outcome.summary(1, ok_status)
        summary.pop("codes_per_second", None)
        summary["warm_up_requests"] = sum(warm.statuses.values())
        summary["warm_up_errors"] = summary["warm_up_requests"] - warm.statuses[ok_status]
        summary["load_average_before"] = load
        summary["redemption"] = redemption_check(
            before, after, warm.statuses[ok_status] + outcome.statuses[ok_status]
        )
        if not summary["succeeded"]:
            raise BenchError(
                f"{scenario} {side_name} at concurrency {level}: none succeeded: {summary['statuses']}"
            )
        result[side_name] = summary
        latency = summary["latency"]
        check = summary["redemption"]
        log(
            f"{run.backend}: {scenario} {side_name} c={level}: {summary['requests_per_second']} checkouts/s, "
            f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms, {summary['errors']} errors, "
            f"uses check {pass_fail(check['pass'])} {'; '.join(check['problems'][:3])} (load {load[0]})"
        )
    service = result["service"]
    result["ratio"] = round(service["requests_per_second"] / result["baseline"]["requests_per_second"], 3)
    result["redemption_pass"] = service["redemption"]["pass"] and result["baseline"]["redemption"]["pass"]
    result["errors_pass"] = not service["errors"] and not service["warm_up_errors"]
    result["ratio_pass"] = result["ratio"] >= RATIO_TARGET if level == TARGET_CONCURRENCY else None
    return result


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """A fresh database and server, the carts of every scenario, then every scenario at every concurrency."""
    carts: int = options.checkout_carts
    with prepared_backend(backend, bin_dir, admin_url, max(1000, 2 * carts)) as run:
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(run.database_url)
            pragmas = service_pragmas if options.baseline_settings == "service" else {}
            run.result["sqlite_pragmas"] = {
                "service": service_pragmas,
                "baseline": pragmas or "sqlite3 defaults",
            }
        run.start_server()
        run.result["load_average_start"] = load_average()
        scenarios: dict[str, Any] = {}
        for scenario in options.checkout_scenarios:
            started = time.perf_counter()
            sides = {name: prepare_side(run, scenario, short, carts) for name, short in SIDES.items()}
            probe = probe_checkout(run, sides["service"])
            prepared = round(time.perf_counter() - started, 2)
            log(
                f"{backend}: {scenario}: {carts} carts a side in {prepared} s; an order has "
                f"{probe['order_items']} items, discount {probe['discount']}"
            )
            first = {"service": 0, "baseline": 0}
            levels = [
                measure_level(run, options, level, sides, probe, pragmas, first)
                for level in options.checkout_concurrency
            ]
            scenarios[scenario] = {
                "description": SCENARIO_TEXT[scenario],
                "carts_per_side": carts,
                "codes_per_side": len(set(sides["service"].code_ids)),
                "code_uses": None if scenario == "unlimited" else CODE_USES,
                "prepare_seconds": prepared,
                "order": {
                    "items": probe["order_items"],
                    "usages": probe["usages"],
                    "discount": probe["discount"],
                },
                "levels": levels,
            }
        run.result.update({"status": "ok", "scenarios": scenarios, "load_average_end": load_average()})
        return run.result


# ----------------------------------------------------------------------------------------------- output


def level_pass(level: dict[str, Any]) -> bool:
    """Every target of one level: no over-redemption on either side, no service errors, and the ratio at
    the target concurrency."""
    return bool(level["redemption_pass"] and level["errors_pass"] and level["ratio_pass"] is not False)


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        f"PromoForge checkout benchmark: {report['carts_per_side']} carts a side of {CUSTOM_LINES} custom "
        f"lines and one code, up to {report['requests_per_level']:,} checkouts or "
        f"{report['seconds_per_level']:.0f} s per level and side",
    )
    columns = [
        "backend",
        "scenario",
        "clients",
        "service/s",
        "baseline/s",
        "ratio",
        "p50/p95/p99 ms",
        "baseline p50/p99 ms",
        "errors",
        "uses check",
        "load",
        "result",
    ]
    rows: list[list[str]] = []
    verdicts: list[bool] = []
    loads: list[str] = []
    for name, outcome in report["backends"].items():
        if outcome.get("status") != "ok":
            rows.append(not_run_row(name, outcome))
            continue
        loads.append(
            f"{name}: load average {outcome['load_average_start']} at the start, "
            f"{outcome['load_average_end']} at the end (1, 5, 15 min)"
        )
        for scenario, measured in outcome["scenarios"].items():
            for level in measured["levels"]:
                service, baseline = level["service"], level["baseline"]
                sl, bl = service["latency"], baseline["latency"]
                verdicts.append(level_pass(level))
                rows.append(
                    [
                        name,
                        scenario,
                        str(level["concurrency"]),
                        f"{service['requests_per_second']:.1f}",
                        f"{baseline['requests_per_second']:.1f}",
                        f"{level['ratio']:.2f}",
                        f"{sl.get('p50_ms', 0):.0f}/{sl.get('p95_ms', 0):.0f}/{sl.get('p99_ms', 0):.0f}",
                        f"{bl.get('p50_ms', 0):.1f}/{bl.get('p99_ms', 0):.1f}",
                        str(service["errors"] + service["warm_up_errors"]),
                        "OK" if level["redemption_pass"] else "FAIL",
                        f"{service['load_average_before'][0]:.1f}",
                        pass_fail(level_pass(level)),
                    ]
                )
    lines.extend(render_columns(columns, rows))
    lines.append("")
    for scenario in report["scenarios"]:
        lines.append(f"{scenario}: {SCENARIO_TEXT[scenario]}")
    lines.extend(loads)
    lines.append(
        f"targets: service checkouts/s >= {RATIO_TARGET} x baseline at {TARGET_CONCURRENCY} clients; "
        "uses taken == usage records' times_used == discounted orders in every run; no errors"
    )
    lines.append(f"targets met: {sum(verdicts)} of {len(verdicts)} levels")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def scenario_list(text: str) -> list[str]:
    """Parse `hot,distinct,unlimited`."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"scenarios are {', '.join(SCENARIOS)}; got {text!r}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("checkout (POST /v2/carts/:id/checkout by concurrent clients)")
    group.add_argument(
        "--checkout-concurrency",
        type=concurrency_list,
        default=list(DEFAULT_CONCURRENCY),
        help="clients sending at once, one level after the other (default 1,16,64)",
    )
    group.add_argument(
        "--checkout-requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"checkouts per level, scenario and side (default {DEFAULT_REQUESTS:,})",
    )
    group.add_argument(
        "--checkout-seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="stop sending after this many seconds per level, scenario and side "
        f"(default {DEFAULT_SECONDS:.0f})",
    )
    group.add_argument(
        "--checkout-carts",
        type=int,
        default=DEFAULT_CARTS,
        help=f"carts per scenario and side that the checkouts go round (default {DEFAULT_CARTS})",
    )
    group.add_argument(
        "--checkout-scenarios",
        type=scenario_list,
        default=list(SCENARIOS),
        help="scenarios to run, in this order (default hot,distinct,unlimited)",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if min(options.checkout_requests, options.checkout_carts) < 1 or options.checkout_seconds <= 0:
        parser.error("--checkout-requests, --checkout-seconds and --checkout-carts must be positive")
    if options.checkout_carts > 9999:
        parser.error("--checkout-carts may be at most 9999")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file."""
    return {
        "concurrency": options.checkout_concurrency,
        "requests_per_level": options.checkout_requests,
        "seconds_per_level": options.checkout_seconds,
        "carts_per_side": options.checkout_carts,
        "scenarios": {name: SCENARIO_TEXT[name] for name in options.checkout_scenarios},
        "custom_lines_per_cart": CUSTOM_LINES,
        "baseline_settings": options.baseline_settings,
        "targets": {
            "service_vs_baseline_min": RATIO_TARGET,
            "at_concurrency": TARGET_CONCURRENCY,
            "over_redemption": 0,
            "errors": 0,
        },
    }


BENCHMARK = Benchmark(
    name="checkout",
    description="promoforge POST /v2/carts/:id/checkout by concurrent clients vs plain DB-API writes",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
