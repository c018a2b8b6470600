"""Integrations: webhook deliveries by one worker process, to a receiver in the benchmark's own process.

The service runs as one API process (`promoforge serve --workers 1 --no-worker`) and one `promoforge worker`
process beside it, with `PROMOFORGE_INTEGRATIONS_PRIVATE_TARGETS=allow` so that the store can allow-list
127.0.0.1. The receiver is a threaded HTTP server on loopback that records every delivery it gets (the body's
`id`, `triggered_by`, `attempt`, the integration, the payload's resource id, what it answered and when it
arrived). Four measurements, each with integrations of its own (the earlier ones are disabled first):

1. No event lost, none invented. N checkouts and cart changes, two webhook integrations observing
   `order.created` and `cart.updated`, the receiver answering 500 for the first T seconds and 200 after;
   requests that fail on purpose (all-or-nothing adds with an unknown product or code, checkouts of empty
   carts) and idempotent replays of checkouts among them; the worker is killed with SIGKILL half-way through
   and a new one started. Once no job is waiting any more: every job recorded reached each integration, every
   successful request's resource arrived, and nothing arrived for a failed request.
2. Latency: checkouts at a steady rate, from the 201 at the client to the delivery at the receiver.
3. Throughput: events queued with the worker stopped, then a worker started; deliveries per second.
4. The API process's CPU per checkout in a store with two integrations observing `order.created` against a
   store with none, in alternating batches (the worker stopped, so that only the API's own work counts).

The retry schedule (5 s, 5 min, 30 min, ...) would leave events of a 120 s outage waiting 5 minutes for their
third attempt; the worker runs with `PROMOFORGE_DELIVERY_RETRY_SCALE`, which multiplies every delay of the
schedule, so that a run ends in minutes. The report says which scale was used.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.benchmarks import hotpath
from bench.benchmarks.checkout import CHECKOUT_BODY
from bench.benchmarks.hotpath import Sample, checked, timed_batch
from bench.harness.api import HTTP_TIMEOUT_SECONDS, PROMOTION_BODY, access_token, expect
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.cpu import ProcessCpu
from bench.harness.databases import baseline_connection
from bench.harness.report import header_lines, render_columns
from bench.harness.server import WorkerProcess, run_cli
from bench.harness.timing import BenchError, log, percentile
from promoforge.domain.integrations.schedule import MAX_ATTEMPTS, RETRY_DELAYS_SECONDS

DEFAULT_EVENTS = 2000
DEFAULT_FAIL_SECONDS = 120.0
DEFAULT_LATENCY_RATE = 50.0
DEFAULT_LATENCY_SECONDS = 30.0
DEFAULT_QUEUED = 2500
DEFAULT_CPU_ROUNDS = 5
DEFAULT_CPU_CHECKOUTS = 40
CPU_WARM_UP = 10
# The default retry scale is the outage's length over this: 0.001 for 120 s. The schedule then spreads its
# ten attempts over about 2.3 outages (none is used up before the receiver is back, jitter included), and
# the event that waits longest after it is back waits about 0.6 to 0.7 of an outage.
RETRY_SCALE_PER_FAIL_SECOND = 1 / 120_000
# Every tenth request of the load fails on purpose.
FAILURE_EVERY = 10
# Unknown codes take attempts from the per-address allowance (30 a minute): stay well below it.
MAX_UNKNOWN_CODE_FAILURES = 20
# Every this many checkouts one carries an Idempotency-Key and is sent twice.
REPLAY_EVERY = 25
LATENCY_SENDERS = 4
FILL_THREADS = 2
THROUGHPUT_CARTS = 8
POLL_SECONDS = 0.2
# How long the no-loss check waits for the last delivery beyond what the scaled schedule needs.
RECOVERY_GRACE_SECONDS = 120.0
UNKNOWN_PRODUCT = "00000000-0000-4000-8000-00000000dead"
CODE = "IB-CODE"
OBSERVED = ("order.created", "cart.updated")
WAITING = ("pending", "processing")

# Targets.
LATENCY_P50_SECONDS = 0.5
LATENCY_P99_SECONDS = 2.0
THROUGHPUT_PER_SECOND = 300.0
CPU_OVERHEAD_MAX = 0.10


# ------------------------------------------------------------------------------------------------ receiver


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    integration: str
    job_id: str
    trigger: str
    resource: str
    attempt: int
    answered: int
    at: float


class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording every webhook; it answers 500 until `fail_until`
    (time.monotonic()), 200 afterwards."""

    def __init__(self) -> None:
        self.fail_until = 0.0
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        # Job ids answered 200, per integration.
        self._accepted: dict[str, set[str]] = {}
        self.unreadable = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the worker's connection pool expects
            # The answer goes out in two writes (head, body): with Nagle's algorithm the body would wait
            # for the ACK of the head, which the sender delays by up to 40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = 500 if arrived < receiver.fail_until else 200
                receiver.record(body, status, arrived)
                answer = b"failing on purpose" if status == 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # up to 16 attempts may connect at once

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    def url(self, path: str) -> str:
        """A plain-HTTP URL of this receiver (allow-listed as a private target)."""
        return f"http://127.0.0.1:{self.port}/{path}"

    def record(self, body: bytes, status: int, arrived: float) -> None:
        """Note one delivery (its body parsed), or count it unreadable."""
        try:
            document = json.loads(body)
            payload = document.get("payload", {})
            resource = payload.get("data", payload)
            delivery = Delivery(
                integration=str(document["integration"]["id"]),
                job_id=str(document["id"]),
                trigger=str(document["triggered_by"]),
                resource=str(resource.get("id")),
                attempt=int(document["attempt"]),
                answered=status,
                at=arrived,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            with self._lock:
                self.unreadable += 1
            return
        with self._lock:
            self._deliveries.append(delivery)
            if status == 200:
                self._accepted.setdefault(delivery.integration, set()).add(delivery.job_id)

    def accepted(self, integrations: Sequence[str]) -> int:
        """Distinct deliveries answered 200 so far for these integrations."""
        with self._lock:
            return sum(len(self._accepted.get(integration, ())) for integration in integrations)

    def deliveries(self, integrations: Sequence[str]) -> list[Delivery]:
        """What the receiver got so far for these integrations."""
        wanted = set(integrations)
        with self._lock:
            return [d for d in self._deliveries if d.integration in wanted]

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------------------------------------ database


class Jobs:
    """The integration tables read directly (autocommit, one statement at a time)."""

    def __init__(self, backend: str, connection: Any) -> None:
        self.backend = backend
        self.connection = connection
        self.mark = "?" if backend == "sqlite" else "%s"

    def rows(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        cursor = self.connection.execute(statement, tuple(parameters))
        return [tuple(row) for row in cursor.fetchall()]

    def _in(self, values: Sequence[str]) -> str:
        return ", ".join([self.mark] * len(values))

    def waiting(self, integrations: Sequence[str]) -> int:
        """Jobs of these integrations waiting for an attempt or in one."""
        statement = (
            f"SELECT count(*) FROM integration_jobs WHERE integration_id IN ({self._in(integrations)}) "
            f"AND status IN ('pending', 'processing')"
        )
        return int(self.rows(statement, integrations)[0][0])

    def processing(self, integrations: Sequence[str]) -> list[str]:
        """Jobs of these integrations that some worker holds now."""
        statement = (
            f"SELECT id FROM integration_jobs WHERE integration_id IN ({self._in(integrations)}) "
            "AND status = 'processing'"
        )
        return [str(row[0]) for row in self.rows(statement, integrations)]

    def jobs(self, integrations: Sequence[str]) -> list[tuple[str, str, str, int, str]]:
        """(job id, integration id, status, attempts, event id) of every job of these integrations."""
        statement = (
            "SELECT id, integration_id, status, attempts, event_id FROM integration_jobs "
            f"WHERE integration_id IN ({self._in(integrations)})"
        )
        return [
            (str(row[0]), str(row[1]), str(row[2]), int(row[3]), str(row[4]))
            for row in self.rows(statement, integrations)
        ]

    def logs(self, integrations: Sequence[str]) -> dict[str, int]:
        """Attempts logged for these integrations, and how many succeeded."""
        statement = (
            "SELECT count(*), coalesce(sum(CASE WHEN succeeded THEN 1 ELSE 0 END), 0) FROM integration_logs "
            f"WHERE integration_id IN ({self._in(integrations)})"
        )
        total, succeeded = self.rows(statement, integrations)[0]
        return {"attempts": int(total), "succeeded": int(succeeded)}

    def wait_until_delivered(self, integrations: Sequence[str], timeout: float) -> tuple[bool, float]:
        """Poll until no job of these integrations waits; whether that happened, and when (monotonic)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self.waiting(integrations) == 0:
                return True, now
            if now > deadline:
                return False, now
            time.sleep(POLL_SECONDS)


# ---------------------------------------------------------------------------------------------- the store


def cart_entries(code: bool = True) -> list[dict[str, Any]]:
    """Three custom lines and, unless told otherwise, the store's unlimited cart-level code."""
    entries: list[dict[str, Any]] = [
        {
            "type": "custom_item",
            "name": f"Item {k}",
            "sku": f"ib-item-{k}",
            "quantity": 1 + k,
            "price": {"amount": 1500 + 250 * k},
        }
        for k in range(3)
    ]
    if code:
        entries.append({"type": "promotion_item", "code": CODE})
    return entries


def fill_body(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An all-or-nothing add of the cart's lines and code (and one more entry, to make it fail)."""
    entries = cart_entries()
    if extra is not None:
        entries.append(extra)
    return {"data": entries, "options": {"add_all_or_nothing": True}}


def seed_store(client: httpx.Client) -> None:
    """A cart-level promotion with one unlimited code."""
    promotion = str(expect(client.post("/v2/promotions", json=PROMOTION_BODY), 201)["data"]["id"])
    codes = {"data": {"type": "promotion_codes", "consume_unit": "per_cart", "codes": [{"code": CODE}]}}
    expect(client.post(f"/v2/promotions/{promotion}/codes", json=codes), 201)


def on_threads(
    base_url: str,
    headers: dict[str, str],
    carts: Sequence[str],
    fill: Callable[[httpx.Client, str], str | None],
) -> dict[str, str]:
    """Run `fill` for each cart on a few threads, each with a client of its own; what it returned per cart."""
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def work(share: Sequence[str]) -> None:
        try:
            with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS) as client:
                for cart in share:
                    result = fill(client, cart)
                    if result is not None:
                        results[cart] = result
        except Exception as error:  # raised again in the calling thread
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(carts[index::FILL_THREADS],)) for index in range(FILL_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise BenchError(f"could not fill carts: {errors[0]}")
    return results


def fill_carts(base_url: str, headers: dict[str, str], carts: Sequence[str]) -> dict[str, str]:
    """Fill these carts (three lines and the code); return each cart's first line id."""
    body = json.dumps(fill_body()).encode()

    def fill(client: httpx.Client, cart: str) -> str:
        answer = client.post(
            f"/v2/carts/{cart}/items", content=body, headers={"Content-Type": "application/json"}
        )
        lines = [line for line in expect(answer, 201)["data"] if line["type"] == "custom_item"]
        return str(lines[0]["id"])

    return on_threads(base_url, headers, carts, fill)


def fill_hotpath_carts(base_url: str, headers: dict[str, str], carts: Sequence[str]) -> None:
    """Fill these carts as hotpath fills its checkout carts (its store seeded first)."""

    def fill(client: httpx.Client, cart: str) -> None:
        hotpath.fill_cart(client, cart)

    on_threads(base_url, headers, carts, fill)


def create_integrations(
    client: httpx.Client, receiver: Receiver, phase: str, observes: Sequence[str]
) -> list[str]:
    """Two enabled webhook integrations of this phase; their ids."""
    ids: list[str] = []
    for name in ("A", "B"):
        body = {
            "data": {
                "type": "integration",
                "name": f"{phase} {name}",
                "description": f"integrations bench, {phase}",
                "enabled": True,
                "observes": list(observes),
                "configuration": {"url": receiver.url(f"{phase}/{name}"), "secret_key": "bench-token"},
            }
        }
        ids.append(str(expect(client.post("/v2/integrations", json=body), 201)["data"]["id"]))
    return ids


def disable(client: httpx.Client, integrations: Sequence[str]) -> None:
    """Disable integrations of an earlier phase (their pending jobs, if any, are cancelled)."""
    for integration in integrations:
        body = {"data": {"type": "integration", "enabled": False}}
        expect(client.put(f"/v2/integrations/{integration}", json=body), 200)


@dataclass
class Plan:
    """What one backend run does, from the options."""

    events: int
    fail_seconds: float
    retry_scale: float
    latency_rate: float
    latency_seconds: float
    queued: int
    cpu_rounds: int
    cpu_checkouts: int

    @property
    def latency_checkouts(self) -> int:
        """Checkouts sent in the latency measurement."""
        return max(1, round(self.latency_rate * self.latency_seconds))

    def schedule(self) -> list[float]:
        """The retry schedule's delays as the worker runs it (before jitter)."""
        return [round(delay * self.retry_scale, 4) for delay in RETRY_DELAYS_SECONDS]

    def last_attempt_seconds(self) -> float:
        """When an event's tenth attempt falls, after its first, before jitter."""
        return sum(RETRY_DELAYS_SECONDS) * self.retry_scale


def plan_of(options: argparse.Namespace) -> Plan:
    """The plan of the options."""
    scale = options.integrations_retry_scale
    if scale is None:
        scale = min(1.0, max(1.0, options.integrations_fail_seconds) * RETRY_SCALE_PER_FAIL_SECOND)
    return Plan(
        events=options.integrations_events,
        fail_seconds=options.integrations_fail_seconds,
        retry_scale=scale,
        latency_rate=options.integrations_latency_rate,
        latency_seconds=options.integrations_latency_seconds,
        queued=options.integrations_queued,
        cpu_rounds=options.integrations_cpu_rounds,
        cpu_checkouts=options.integrations_cpu_checkouts,
    )


# ------------------------------------------------------------------------------------ 1. no event lost


@dataclass(frozen=True)
class Request:
    """One request of the no-loss load."""

    # fill, checkout, replay (a checkout sent again with its key), fail_product, fail_code, fail_empty
    kind: str
    cart: str
    key: str | None = None


EXPECTED_STATUS = {
    "fill": 201,
    "checkout": 201,
    "replay": 201,
    "fail_product": 404,
    "fail_code": 404,
    "fail_empty": 400,
}
FAILURE_KINDS = ("fail_product", "fail_empty", "fail_code")


def no_loss_requests(events: int) -> list[Request]:
    """Fills and checkouts making `events` events, with a failing request after every FAILURE_EVERY and a
    replay after every REPLAY_EVERY-th checkout."""
    fills, checkouts = (events + 1) // 2, events // 2
    requests: list[Request] = []
    failures = codes = 0
    succeeding = 0

    def failing() -> None:
        nonlocal failures, codes
        kind = FAILURE_KINDS[failures % len(FAILURE_KINDS)]
        if kind == "fail_code":
            if codes >= MAX_UNKNOWN_CODE_FAILURES:
                kind = "fail_product"
            else:
                codes += 1
        requests.append(Request(kind, f"ib-fail-{failures:05d}"))
        failures += 1

    for number in range(fills):
        cart = f"ib-ok-{number:05d}"
        steps = [Request("fill", cart)]
        if number < checkouts:
            key = f"ib-key-{number:05d}" if number % REPLAY_EVERY == REPLAY_EVERY - 1 else None
            steps.append(Request("checkout", cart, key))
            if key is not None:
                steps.append(Request("replay", cart, key))
        for step in steps:
            requests.append(step)
            if step.kind != "replay":
                succeeding += 1
                if succeeding % FAILURE_EVERY == 0:
                    failing()
    return requests


@dataclass
class Sent:
    """What one request of the load got."""

    request: Request
    status: int
    order: str | None = None


def send_request(client: httpx.Client, request: Request) -> Sent:
    """Send one request of the load."""
    path = f"/v2/carts/{request.cart}"
    if request.kind == "fill":
        answer = client.post(f"{path}/items", json=fill_body())
    elif request.kind in ("checkout", "replay", "fail_empty"):
        headers = {"Idempotency-Key": request.key} if request.key else {}
        answer = client.post(f"{path}/checkout", json=CHECKOUT_BODY, headers=headers)
    elif request.kind == "fail_product":
        answer = client.post(
            f"{path}/items", json=fill_body({"type": "cart_item", "id": UNKNOWN_PRODUCT, "quantity": 1})
        )
    else:
        code = f"IB-NO-SUCH-{uuid.uuid4().hex[:8]}".upper()
        answer = client.post(f"{path}/items", json=fill_body({"type": "promotion_item", "code": code}))
    order = None
    if answer.status_code == 201 and request.kind in ("checkout", "replay"):
        order = str(answer.json()["data"]["id"])
    return Sent(request, answer.status_code, order)


def no_loss(
    run: BackendRun, plan: Plan, receiver: Receiver, db: Jobs, workers: WorkerFleet
) -> tuple[dict[str, Any], list[str]]:
    """Measurement 1; its results and the integrations it created."""
    requests = no_loss_requests(plan.events)
    with run.client() as client:
        integrations = create_integrations(client, receiver, "no-loss", OBSERVED)
        started = time.monotonic()
        receiver.fail_until = started + plan.fail_seconds
        log(
            f"{run.backend}: no-loss: {len(requests)} requests for {plan.events} events; the receiver "
            f"answers 500 for {plan.fail_seconds:.0f} s; retry schedule x{plan.retry_scale:g}"
        )
        sent: list[Sent] = []
        kill: dict[str, Any] = {}
        events_sent = 0
        for request in requests:
            if not kill and events_sent >= plan.events // 2:
                kill = workers.kill_and_restart(db, integrations, started)
            outcome = send_request(client, request)
            sent.append(outcome)
            if request.kind in ("fill", "checkout") and outcome.status == 201:
                events_sent += 1
        load_seconds = time.monotonic() - started
    log(
        f"{run.backend}: no-loss: load sent in {load_seconds:.1f} s; waiting for the receiver to recover and "
        "every job to be delivered"
    )
    timeout = plan.fail_seconds + plan.last_attempt_seconds() * 1.2 + RECOVERY_GRACE_SECONDS
    recovered, at = db.wait_until_delivered(integrations, max(0.0, started + timeout - time.monotonic()))
    result = check_no_loss(plan, receiver, db, integrations, sent, started)
    result.update(
        {
            "requests": len(requests),
            "load_seconds": round(load_seconds, 2),
            "requests_per_second": round(len(requests) / load_seconds, 1),
            "fail_seconds": plan.fail_seconds,
            "kill": kill,
            "all_jobs_finished": recovered,
            "finished_after_receiver_recovered_seconds": round(at - receiver.fail_until, 2),
        }
    )
    result["met"] = bool(result["met"] and recovered)
    log(
        f"{run.backend}: no-loss: {result['events_recorded']} events recorded, lost {result['lost']}, "
        f"invented {result['invented']}, duplicates {result['duplicate_deliveries']}, last delivery "
        f"{result['last_delivery_after_recovery_seconds']} s after the receiver recovered"
    )
    return result, integrations


def check_no_loss(
    plan: Plan,
    receiver: Receiver,
    db: Jobs,
    integrations: Sequence[str],
    sent: Sequence[Sent],
    started: float,
) -> dict[str, Any]:
    """Compare what the requests did, what the database recorded and what the receiver got."""
    statuses: dict[str, dict[str, int]] = {}
    for outcome in sent:
        by_status = statuses.setdefault(outcome.request.kind, {})
        by_status[str(outcome.status)] = by_status.get(str(outcome.status), 0) + 1
    unexpected = sum(1 for o in sent if o.status != EXPECTED_STATUS[o.request.kind])
    ok_carts = {o.request.cart for o in sent if o.request.kind == "fill" and o.status == 201}
    checkouts = [o for o in sent if o.request.kind == "checkout" and o.status == 201]
    ok_orders = {o.order for o in checkouts if o.order is not None}
    replays = [o for o in sent if o.request.kind == "replay"]
    first_order = {o.request.key: o.order for o in checkouts if o.request.key}
    replays_same_order = sum(
        1 for o in replays if o.status == 201 and o.request.key and first_order.get(o.request.key) == o.order
    )
    failed_carts = {o.request.cart for o in sent if o.status != 201 or o.request.kind in FAILURE_KINDS}
    failed_carts -= ok_carts

    jobs = db.jobs(integrations)
    events_recorded = len({job[4] for job in jobs})
    expected_events = len(ok_carts) + len(ok_orders)
    deliveries = receiver.deliveries(integrations)
    per_integration: dict[str, dict[str, Any]] = {}
    lost = invented = 0
    missing_examples: list[str] = []
    invented_examples: list[str] = []
    for integration in integrations:
        mine = [job for job in jobs if job[1] == integration]
        job_ids = {job[0] for job in mine}
        got = [d for d in deliveries if d.integration == integration]
        accepted = [d for d in got if d.answered == 200]
        accepted_ids = {d.job_id for d in accepted}
        missing_jobs = job_ids - accepted_ids
        unknown_jobs = {d.job_id for d in got} - job_ids
        resources: dict[str, set[str]] = {key: set() for key in OBSERVED}
        ids_per_resource: dict[tuple[str, str], set[str]] = {}
        for delivery in accepted:
            resources.setdefault(delivery.trigger, set()).add(delivery.resource)
            ids_per_resource.setdefault((delivery.trigger, delivery.resource), set()).add(delivery.job_id)
        missing_carts = ok_carts - resources["cart.updated"]
        missing_orders = ok_orders - resources["order.created"]
        stray_carts = resources["cart.updated"] - ok_carts
        stray_orders = resources["order.created"] - ok_orders
        failed_delivered = failed_carts & resources["cart.updated"]
        twice = [key for key, ids in ids_per_resource.items() if len(ids) > 1]
        lost += len(missing_jobs) + len(missing_carts) + len(missing_orders)
        invented += len(unknown_jobs) + len(stray_carts) + len(stray_orders) + len(twice)
        missing_examples += sorted(missing_jobs)[:3] + sorted(missing_carts)[:3] + sorted(missing_orders)[:3]
        invented_examples += sorted(stray_carts)[:3] + sorted(stray_orders)[:3] + [str(k) for k in twice[:3]]
        attempts_seen = [d.attempt for d in got]
        status_of_jobs: dict[str, int] = {}
        for job in mine:
            status_of_jobs[job[2]] = status_of_jobs.get(job[2], 0) + 1
        last_accepted = max((d.at for d in accepted), default=started)
        per_integration[integration] = {
            "jobs_recorded": len(job_ids),
            "jobs_by_status": status_of_jobs,
            "delivered_distinct_ids": len(accepted_ids),
            "deliveries_answered_200": len(accepted),
            "duplicate_deliveries": len(accepted) - len(accepted_ids),
            "requests_answered_500": sum(1 for d in got if d.answered == 500),
            "highest_attempt_received": max(attempts_seen, default=0),
            "highest_attempt_recorded": max((job[3] for job in mine), default=0),
            "jobs_not_delivered": len(missing_jobs),
            "deliveries_of_unknown_jobs": len(unknown_jobs),
            "successful_carts_not_delivered": len(missing_carts),
            "orders_not_delivered": len(missing_orders),
            "carts_delivered_without_a_successful_request": len(stray_carts),
            "failed_request_carts_delivered": len(failed_delivered),
            "orders_delivered_not_answered_201": len(stray_orders),
            "resources_with_more_than_one_job": len(twice),
            "last_delivery_at_seconds": round(last_accepted - started, 2),
            "logs": db.logs([integration]),
        }
    invented += max(0, events_recorded - expected_events)
    lost += max(0, expected_events - events_recorded)
    last = max((d.at for d in deliveries if d.answered == 200), default=receiver.fail_until)
    return {
        "statuses": statuses,
        "unexpected_statuses": unexpected,
        "successful_cart_changes": len(ok_carts),
        "successful_checkouts": len(ok_orders),
        "idempotent_replays": len(replays),
        "replays_answered_with_the_first_order": replays_same_order,
        "failed_requests": sum(1 for o in sent if o.status != 201),
        "events_expected": expected_events,
        "events_recorded": events_recorded,
        "integrations": per_integration,
        "lost": lost,
        "invented": invented,
        "missing_examples": missing_examples[:10],
        "invented_examples": invented_examples[:10],
        "duplicate_deliveries": sum(p["duplicate_deliveries"] for p in per_integration.values()),
        "unreadable_deliveries": receiver.unreadable,
        "last_delivery_after_recovery_seconds": round(last - receiver.fail_until, 2),
        "retry_scale": plan.retry_scale,
        "met": lost == 0 and invented == 0 and unexpected == 0 and replays_same_order == len(replays),
    }


class WorkerFleet:
    """The run's one worker process at a time (a new one after a kill or a stop)."""

    def __init__(self, run: BackendRun, env: dict[str, str]) -> None:
        self.run = run
        self.env = env
        self.current: WorkerProcess | None = None
        self.started: list[dict[str, Any]] = []

    def start(self) -> WorkerProcess:
        """Start a worker and wait until it runs."""
        if self.current is not None:
            raise BenchError("a worker is running already")
        worker = WorkerProcess(self.run.bin_dir, self.env, self.run.temp_dir / "worker.log")
        worker.start()
        self.current = worker
        self.started.append(worker.describe())
        log(f"{self.run.backend}: worker pid {worker.pid} running")
        return worker

    def stop(self) -> None:
        """Stop the worker gracefully."""
        if self.current is not None:
            self.current.stop()
            self.current = None

    def kill_and_restart(self, db: Jobs, integrations: Sequence[str], started: float) -> dict[str, Any]:
        """SIGKILL the worker, note the jobs it held, start another."""
        if self.current is None:
            raise BenchError("no worker to kill")
        killed = self.current.pid
        at = time.monotonic()
        self.current.kill()
        self.current = None
        held = db.processing(integrations)
        self.start()
        log(f"{self.run.backend}: killed worker {killed} (SIGKILL) holding {len(held)} deliveries; restarted")
        return {
            "killed_pid": killed,
            "at_seconds": round(at - started, 2),
            "jobs_held_by_the_killed_worker": len(held),
            "restart_seconds": round(time.monotonic() - at, 2),
        }

    def log_tail(self) -> str:
        """The last lines of the workers' log."""
        return self.current.log_tail() if self.current is not None else ""


# ------------------------------------------------------------------------------------------- 2. latency


def latency(
    run: BackendRun, plan: Plan, receiver: Receiver, db: Jobs, carts: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """Measurement 2: checkouts at a steady rate, each order's delivery to each integration."""
    with run.client() as client:
        integrations = create_integrations(client, receiver, "latency", ("order.created",))
    receiver.fail_until = 0.0
    count = len(carts)
    log(f"{run.backend}: latency: {count} checkouts at {plan.latency_rate:g}/s")
    lock = threading.Lock()
    next_index = 0
    committed: dict[str, float] = {}
    errors: list[str] = []
    lateness: list[float] = []
    body = json.dumps(CHECKOUT_BODY).encode()
    headers = {**run.headers, "Content-Type": "application/json"}
    base_url = run.server.base_url if run.server is not None else ""
    started = time.monotonic() + 0.2

    def sender() -> None:
        nonlocal next_index
        with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS) as http:
            while True:
                with lock:
                    index = next_index
                    next_index += 1
                if index >= count:
                    return
                due = started + index / plan.latency_rate
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                sent_at = time.monotonic()
                answer = http.post(f"/v2/carts/{carts[index]}/checkout", content=body)
                arrived = time.monotonic()
                with lock:
                    lateness.append(sent_at - due)
                    if answer.status_code == 201:
                        committed[str(answer.json()["data"]["id"])] = arrived
                    else:
                        errors.append(f"{answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=sender) for _ in range(LATENCY_SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sending = time.monotonic() - started
    finished, _ = db.wait_until_delivered(integrations, 120.0)
    deliveries = [d for d in receiver.deliveries(integrations) if d.answered == 200]
    first: dict[tuple[str, str], float] = {}
    for delivery in deliveries:
        key = (delivery.integration, delivery.resource)
        first[key] = min(first.get(key, math.inf), delivery.at)
    samples = sorted(at - committed[order] for (_, order), at in first.items() if order in committed)
    missing = len(committed) * len(integrations) - len(samples)
    if not samples:
        raise BenchError(f"latency: no delivery arrived ({len(errors)} checkouts failed)")
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    result = {
        "rate_per_second": plan.latency_rate,
        "checkouts": count,
        "checkouts_answered_201": len(committed),
        "errors": len(errors),
        "error_examples": errors[:3],
        "sending_seconds": round(sending, 2),
        "achieved_rate_per_second": round(count / sending, 1),
        "sender_lateness_p99_ms": round(percentile(sorted(lateness), 0.99) * 1000, 1),
        "integrations": len(integrations),
        "samples": len(samples),
        "deliveries_missing": missing,
        "all_jobs_finished": finished,
        "negative_samples": sum(1 for s in samples if s < 0),
        "min_ms": round(samples[0] * 1000, 1),
        "p50_ms": round(p50 * 1000, 1),
        "p90_ms": round(percentile(samples, 0.9) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(samples[-1] * 1000, 1),
        "target_p50_ms": LATENCY_P50_SECONDS * 1000,
        "target_p99_ms": LATENCY_P99_SECONDS * 1000,
        "met_p50": p50 <= LATENCY_P50_SECONDS and missing == 0 and not errors,
        "met_p99": p99 <= LATENCY_P99_SECONDS and missing == 0 and not errors,
    }
    log(
        f"{run.backend}: latency: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms over {len(samples)} "
        f"deliveries at {result['achieved_rate_per_second']} checkouts/s"
    )
    return result, integrations


# ---------------------------------------------------------------------------------------- 3. throughput


def throughput(
    run: BackendRun,
    plan: Plan,
    receiver: Receiver,
    db: Jobs,
    workers: WorkerFleet,
    lines: dict[str, str],
) -> tuple[dict[str, Any], list[str]]:
    """Measurement 3: events queued with the worker stopped; then one worker delivers them all."""
    workers.stop()
    with run.client() as client:
        integrations = create_integrations(client, receiver, "throughput", ("cart.updated",))
    receiver.fail_until = 0.0
    carts = sorted(lines)
    log(f"{run.backend}: throughput: queueing {plan.queued} cart changes with no worker running")
    started = time.monotonic()
    failures: list[str] = []
    headers = {**run.headers, "Content-Type": "application/json"}
    base_url = run.server.base_url if run.server is not None else ""

    def queue(share: Sequence[int]) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS) as http:
            for number in share:
                cart = carts[number % len(carts)]
                quantity = 2 + (number // len(carts)) % 2
                body = json.dumps({"data": {"quantity": quantity}}).encode()
                answer = http.put(f"/v2/carts/{cart}/items/{lines[cart]}", content=body)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

    numbers = list(range(plan.queued))
    # Each thread keeps to carts of its own, so that no two requests wait for the same cart.
    threads = [
        threading.Thread(target=queue, args=([n for n in numbers if n % len(carts) % FILL_THREADS == k],))
        for k in range(FILL_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue_seconds = time.monotonic() - started
    if failures:
        raise BenchError(f"throughput: {len(failures)} cart changes failed: {failures[0]}")
    jobs = db.jobs(integrations)
    expected = len(jobs)
    events_recorded = len({job[4] for job in jobs})
    log(
        f"{run.backend}: throughput: {expected} deliveries queued in {queue_seconds:.1f} s; starting a worker"
    )
    worker = workers.start()
    worker_cpu = ProcessCpu(worker.pid)
    cpu_at_ready = worker_cpu.ns()
    deadline = time.monotonic() + 600.0
    while receiver.accepted(integrations) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    cpu_used = (worker_cpu.ns() - cpu_at_ready) / 1e9
    finished, finished_at = db.wait_until_delivered(integrations, 60.0)
    accepted = [d for d in receiver.deliveries(integrations) if d.answered == 200]
    distinct = {d.job_id for d in accepted}
    first = min(d.at for d in accepted)
    last = max(d.at for d in accepted)
    seconds = last - worker.ready_at
    rate = len(distinct) / seconds
    result = {
        "events_queued": plan.queued,
        "events_recorded": events_recorded,
        "deliveries_queued": expected,
        "queue_seconds": round(queue_seconds, 2),
        "worker_start_to_ready_seconds": round(worker.ready_at - worker.started_at, 2),
        "ready_to_first_delivery_seconds": round(first - worker.ready_at, 3),
        "ready_to_last_delivery_seconds": round(seconds, 2),
        "ready_to_all_jobs_finished_seconds": round(finished_at - worker.ready_at, 2),
        "delivered_distinct": len(distinct),
        "duplicate_deliveries": len(accepted) - len(distinct),
        "all_jobs_finished": finished,
        "deliveries_per_second": round(rate, 1),
        "deliveries_per_second_first_to_last": round((len(distinct) - 1) / max(last - first, 1e-9), 1),
        "deliveries_per_second_with_worker_start": round(len(distinct) / (last - worker.started_at), 1),
        "worker_cpu_ms_per_delivery": round(cpu_used * 1000 / max(1, len(distinct)), 3),
        "worker_cpu_share_of_one_core": round(cpu_used / seconds, 2),
        "target_per_second": THROUGHPUT_PER_SECOND,
        "met": rate >= THROUGHPUT_PER_SECOND
        and len(distinct) == expected == 2 * plan.queued
        and events_recorded == plan.queued
        and finished,
    }
    log(f"{run.backend}: throughput: {len(distinct)} deliveries in {seconds:.2f} s: {rate:.0f}/s")
    workers.stop()
    return result, integrations


# ----------------------------------------------------------------------------------------------- 4. CPU


@dataclass(frozen=True)
class CpuStore:
    """A store whose checkouts are timed: a client with its token, and its filled carts."""

    client: httpx.Client
    carts: list[str]


# The checkouts timed: hotpath's (the project's reference checkout) and this benchmark's own cart.
CART_KINDS = {
    "hotpath": "hotpath's checkout: 20 product lines, 5 codes, 50 automatic promotions that reach none",
    "simple": "three custom lines and one unlimited cart-level code",
}


def checkout_cpu(
    run: BackendRun, plan: Plan, receiver: Receiver, stores: dict[str, dict[str, CpuStore]]
) -> dict[str, Any]:
    """Measurement 4: the API process's CPU per checkout, in batches alternating between a store without
    integrations and one with two observing `order.created` (no worker runs: only the API's work counts);
    for each kind of cart."""
    if run.server is None:
        raise BenchError("server not started")
    cpu = ProcessCpu(run.server.pid)
    results: dict[str, Any] = {"cpu_clock": cpu.source}
    for kind, sides in stores.items():
        integrations = create_integrations(sides["two"].client, receiver, f"cpu-{kind}", ("order.created",))
        results[kind] = cpu_series(run, plan, cpu, kind, sides)
        disable(sides["two"].client, integrations)
    results["met"] = all(results[kind]["met"] for kind in stores)
    return results


def cpu_series(
    run: BackendRun, plan: Plan, cpu: ProcessCpu, kind: str, sides: dict[str, CpuStore]
) -> dict[str, Any]:
    """Warm both stores up, then a batch without integrations, and `rounds` times a batch with two and
    one without; each batch with two is compared with the mean of the batches just before and after it."""
    body = json.dumps(CHECKOUT_BODY).encode()
    json_headers = {"Content-Type": "application/json"}

    def sender(side: CpuStore) -> Callable[[int], None]:
        def send(number: int) -> None:
            path = f"/v2/carts/{side.carts[number]}/checkout"
            checked(side.client.post(path, content=body, headers=json_headers), 201)

        return send

    senders = {name: sender(side) for name, side in sides.items()}
    used = dict.fromkeys(sides, 0)
    for name, send in senders.items():
        for _ in range(CPU_WARM_UP):
            send(used[name])
            used[name] += 1
    timeline: list[tuple[str, Sample]] = []

    def batch(name: str) -> Sample:
        sample = timed_batch(cpu, senders[name], plan.cpu_checkouts, used[name])
        used[name] += plan.cpu_checkouts
        timeline.append((name, sample))
        return sample

    batch("none")
    for number in range(plan.cpu_rounds):
        observed_ms = batch("two").ms_per_request
        plain_ms = batch("none").ms_per_request
        log(
            f"{run.backend}: cpu ({kind}): round {number + 1}/{plan.cpu_rounds}: {observed_ms:.2f} ms per "
            f"checkout with two integrations, {plain_ms:.2f} ms with none"
        )
    rounds: list[dict[str, Any]] = []
    ratios: list[float] = []
    for index, (name, sample) in enumerate(timeline):
        if name != "two":
            continue
        around = statistics.fmean(
            [timeline[index - 1][1].ms_per_request, timeline[index + 1][1].ms_per_request]
        )
        ratio = sample.ms_per_request / around
        ratios.append(ratio)
        rounds.append(
            {
                **sample.document(),
                "without_integrations_ms_around": round(around, 4),
                "ratio": round(ratio, 4),
            }
        )
    none_ms = statistics.median(s.ms_per_request for n, s in timeline if n == "none")
    two_ms = statistics.median(s.ms_per_request for n, s in timeline if n == "two")
    overhead = statistics.median(ratios) - 1
    return {
        "cart": CART_KINDS[kind],
        "checkouts_per_batch": plan.cpu_checkouts,
        "rounds": plan.cpu_rounds,
        "warm_up_checkouts": CPU_WARM_UP,
        "without_integrations_ms": round(none_ms, 4),
        "with_two_integrations_ms": round(two_ms, 4),
        "extra_ms": round(two_ms - none_ms, 4),
        "overhead": round(overhead, 4),
        "overhead_min": round(min(ratios) - 1, 4),
        "overhead_max": round(max(ratios) - 1, 4),
        "batches_without_integrations": [sample.document() for name, sample in timeline if name == "none"],
        "batches_with_two_integrations": rounds,
        "target_overhead": CPU_OVERHEAD_MAX,
        "met": overhead <= CPU_OVERHEAD_MAX,
    }


# ---------------------------------------------------------------------------------------------- backend


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """The receiver, serving until the run ends."""
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.close()


def new_store(run: BackendRun, stack: ExitStack, name: str) -> httpx.Client:
    """Another store of the same database, and a client with its token (closed with `stack`)."""
    created = run_cli(
        run.bin_dir, run.env, "stores", "create", "--name", name, "--max-codes-per-promotion", "1000"
    )
    store = json.loads(created)
    if run.server is None:
        raise BenchError("server not started")
    client = httpx.Client(base_url=run.server.base_url, timeout=HTTP_TIMEOUT_SECONDS)
    stack.callback(client.close)
    token = access_token(client, store["client_id"], store["client_secret"])
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def allow_receiver(client: httpx.Client) -> None:
    """Let the store's integrations deliver to 127.0.0.1 (the server allows private targets)."""
    settings = {"data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32"]}}
    expect(client.put("/v2/promoforge/settings/integrations", json=settings), 200)


@dataclass(frozen=True)
class Seeded:
    """What the measurements check out or change, all filled before any integration exists."""

    latency_carts: list[str]
    throughput_lines: dict[str, str]
    cpu: dict[str, dict[str, CpuStore]]


def seed(run: BackendRun, plan: Plan, stack: ExitStack) -> Seeded:
    """The stores, their promotions and every cart the measurements use. The store `bench` takes the
    first three measurements and the simple carts' CPU with integrations; `bench-plain` the simple carts'
    CPU without; `bench-hot-none` and `bench-hot-two` hotpath's store for its checkout's CPU."""
    started = time.monotonic()
    bench = stack.enter_context(run.client())
    seed_store(bench)
    allow_receiver(bench)
    plain = new_store(run, stack, "bench-plain")
    seed_store(plain)
    cpu_carts = CPU_WARM_UP + (plan.cpu_rounds + 1) * plan.cpu_checkouts
    latency_carts = [f"ib-lat-{n:05d}" for n in range(plan.latency_checkouts)]
    simple_two = [f"ib-cpu-{n:05d}" for n in range(cpu_carts)]
    simple_none = [f"ib-cpu-plain-{n:05d}" for n in range(cpu_carts)]
    throughput_carts = [f"ib-tp-{n:02d}" for n in range(THROUGHPUT_CARTS)]
    base_url = str(bench.base_url)
    lines = fill_carts(base_url, run.headers, [*latency_carts, *simple_two, *throughput_carts])
    fill_carts(base_url, dict(plain.headers), simple_none)
    filled = len(lines) + len(simple_none)
    cpu: dict[str, dict[str, CpuStore]] = {
        "simple": {"none": CpuStore(plain, simple_none), "two": CpuStore(bench, simple_two)}
    }
    hot: dict[str, CpuStore] = {}
    for side in ("none", "two"):
        client = new_store(run, stack, f"bench-hot-{side}")
        if side == "two":
            allow_receiver(client)
        hotpath.seed(run, client, 0)
        carts = [hotpath.checkout_cart(n) for n in range(cpu_carts)]
        fill_hotpath_carts(base_url, dict(client.headers), carts)
        hot[side] = CpuStore(client, carts)
        filled += cpu_carts
    cpu = {"hotpath": hot, **cpu}
    run.result["seeding_seconds"] = round(time.monotonic() - started, 1)
    log(f"{run.backend}: {filled} carts filled in {run.result['seeding_seconds']} s (no integration yet)")
    return Seeded(latency_carts, {cart: lines[cart] for cart in throughput_carts}, cpu)


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """One API process and one worker process on a fresh database; the four measurements in turn."""
    plan = plan_of(options)
    with (
        prepared_backend(backend, bin_dir, admin_url, 1000) as run,
        running_receiver() as receiver,
        ExitStack() as stack,
    ):
        run.env["PROMOFORGE_INTEGRATIONS_PRIVATE_TARGETS"] = "allow"
        worker_env = {**run.env, "PROMOFORGE_DELIVERY_RETRY_SCALE": repr(plan.retry_scale)}
        run.result["service_settings"]["PROMOFORGE_INTEGRATIONS_PRIVATE_TARGETS"] = "allow"
        run.result["worker_settings"] = {"PROMOFORGE_DELIVERY_RETRY_SCALE": repr(plan.retry_scale)}
        run.result["retry_schedule_seconds"] = plan.schedule()
        run.start_server(serve_args=["--no-worker"], workers=1)
        workers = WorkerFleet(run, worker_env)
        stack.callback(workers.stop)
        try:
            seeded = seed(run, plan, stack)
            with baseline_connection(backend, run.database_url, {}) as connection:
                db = Jobs(backend, connection)
                workers.start()
                run.result["no_loss"], earlier = no_loss(run, plan, receiver, db, workers)
                with run.client() as client:
                    disable(client, earlier)
                run.result["latency"], earlier = latency(run, plan, receiver, db, seeded.latency_carts)
                with run.client() as client:
                    disable(client, earlier)
                run.result["throughput"], earlier = throughput(
                    run, plan, receiver, db, workers, seeded.throughput_lines
                )
                with run.client() as client:
                    disable(client, earlier)
                run.result["cpu"] = checkout_cpu(run, plan, receiver, seeded.cpu)
            run.result["workers"] = workers.started
        except Exception:
            log(f"{backend}: worker log tail:\n{workers.log_tail()}")
            raise
        run.result["status"] = "ok"
        return run.result


# ----------------------------------------------------------------------------------------------- output


def met_text(ok: bool | None) -> str:
    """met, missed, or - when not measured."""
    return "-" if ok is None else ("met" if ok else "missed")


@dataclass(frozen=True)
class Row:
    """One figure of the table: its label, how to read it from a backend's results, its target."""

    label: str
    value: Callable[[dict[str, Any]], str]
    target: str
    met: Callable[[dict[str, Any]], bool | None] = field(default=lambda _outcome: None)


ROWS = (
    Row(
        "events lost (recorded, not delivered to both)",
        lambda o: str(o["no_loss"]["lost"]),
        "0",
        lambda o: o["no_loss"]["lost"] == 0 and o["no_loss"]["all_jobs_finished"],
    ),
    Row(
        "events invented (for failed requests, or twice)",
        lambda o: str(o["no_loss"]["invented"]),
        "0",
        lambda o: o["no_loss"]["invented"] == 0,
    ),
    Row(
        "events recorded / successful requests",
        lambda o: f"{o['no_loss']['events_recorded']}/{o['no_loss']['events_expected']}",
        "equal",
        lambda o: o["no_loss"]["events_recorded"] == o["no_loss"]["events_expected"],
    ),
    Row(
        "duplicate deliveries (at least once)",
        lambda o: str(o["no_loss"]["duplicate_deliveries"]),
        "",
    ),
    Row(
        "last delivery after the receiver recovered",
        lambda o: f"{o['no_loss']['last_delivery_after_recovery_seconds']:.1f} s",
        "",
    ),
    Row(
        "latency p50: checkout 201 -> receiver",
        lambda o: f"{o['latency']['p50_ms']:.0f} ms",
        f"<= {LATENCY_P50_SECONDS * 1000:.0f} ms",
        lambda o: o["latency"]["met_p50"],
    ),
    Row(
        "latency p99",
        lambda o: f"{o['latency']['p99_ms']:.0f} ms",
        f"<= {LATENCY_P99_SECONDS * 1000:.0f} ms",
        lambda o: o["latency"]["met_p99"],
    ),
    Row(
        "throughput: deliveries/s, one worker",
        lambda o: f"{o['throughput']['deliveries_per_second']:.0f}",
        f">= {THROUGHPUT_PER_SECOND:.0f}",
        lambda o: o["throughput"]["met"],
    ),
    Row(
        "checkout CPU, 2 integrations vs none: hotpath's",
        lambda o: f"{o['cpu']['hotpath']['overhead'] * 100:+.1f} %",
        f"<= +{CPU_OVERHEAD_MAX * 100:.0f} %",
        lambda o: o["cpu"]["hotpath"]["met"],
    ),
    Row(
        "  ms per checkout: none / two integrations",
        lambda o: (
            f"{o['cpu']['hotpath']['without_integrations_ms']:.2f} / "
            f"{o['cpu']['hotpath']['with_two_integrations_ms']:.2f}"
        ),
        "",
    ),
    Row(
        "checkout CPU, 2 integrations vs none: 3-line cart",
        lambda o: f"{o['cpu']['simple']['overhead'] * 100:+.1f} %",
        f"<= +{CPU_OVERHEAD_MAX * 100:.0f} %",
        lambda o: o["cpu"]["simple"]["met"],
    ),
    Row(
        "  ms per checkout: none / two integrations",
        lambda o: (
            f"{o['cpu']['simple']['without_integrations_ms']:.2f} / "
            f"{o['cpu']['simple']['with_two_integrations_ms']:.2f}"
        ),
        "",
    ),
)


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        "PromoForge integrations benchmark: webhook deliveries from one worker process to a local receiver",
    )
    backends = ("sqlite", "postgresql")
    measured = {
        name: outcome
        for name in backends
        if (outcome := report["backends"].get(name, {})).get("status") == "ok"
    }
    columns = ["figure", "SQLite", "PostgreSQL", "target", "SQLite", "PostgreSQL"]
    rows: list[list[str]] = []
    met: list[bool] = []
    for row in ROWS:
        cells = [row.label]
        cells += [row.value(measured[name]) if name in measured else "-" for name in backends]
        cells.append(row.target)
        for name in backends:
            verdict = row.met(measured[name]) if name in measured else None
            if verdict is not None:
                met.append(verdict)
            cells.append(met_text(verdict) if row.target else "")
        rows.append(cells)
    lines.extend(render_columns(columns, rows))
    lines.append("")
    for name in backends:
        if name not in report["backends"]:
            continue
        outcome = report["backends"][name]
        if outcome.get("status") != "ok":
            lines.append(f"{name}: not run: {outcome.get('error', outcome.get('status', '?'))}")
            continue
        loss, lat, tp, cpu = outcome["no_loss"], outcome["latency"], outcome["throughput"], outcome["cpu"]
        kill = loss["kill"]
        attempts = sum(p["logs"]["attempts"] for p in loss["integrations"].values())
        lines.append(
            f"{name}: no-loss: {loss['requests']} requests in {loss['load_seconds']:.0f} s "
            f"({loss['successful_cart_changes']} cart changes, {loss['successful_checkouts']} checkouts, "
            f"{loss['idempotent_replays']} replays, {loss['failed_requests']} failing on purpose); receiver "
            f"500 for {loss['fail_seconds']:.0f} s; retry schedule x{loss['retry_scale']:g}; {attempts} "
            f"attempts logged; worker killed at {kill.get('at_seconds', '-')} s holding "
            f"{kill.get('jobs_held_by_the_killed_worker', '-')} deliveries"
        )
        lines.append(
            f"{name}: latency: {lat['checkouts']} checkouts at {lat['achieved_rate_per_second']}/s, "
            f"{lat['samples']} deliveries, p90 {lat['p90_ms']} ms, max {lat['max_ms']} ms; throughput: "
            f"{tp['deliveries_queued']} deliveries ({tp['events_queued']} events x 2 integrations) in "
            f"{tp['ready_to_last_delivery_seconds']} s from the worker's start-up "
            f"({tp['worker_start_to_ready_seconds']} s before it), the worker using "
            f"{tp['worker_cpu_share_of_one_core']:.0%} of a core, {tp['worker_cpu_ms_per_delivery']} ms "
            "a delivery"
        )
        spread = ", ".join(
            f"{kind} {cpu[kind]['overhead_min'] * 100:+.1f} to {cpu[kind]['overhead_max'] * 100:+.1f} %"
            for kind in CART_KINDS
        )
        lines.append(
            f"{name}: CPU: median of {cpu['hotpath']['rounds']} rounds of "
            f"{cpu['hotpath']['checkouts_per_batch']} checkouts each way; lowest-highest round: {spread}"
        )
    lines.append(f"targets: {sum(met)} of {len(met)} met")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("integrations (webhook deliveries from one worker process)")
    group.add_argument(
        "--integrations-events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"no-loss check: cart changes and checkouts, one event each (default {DEFAULT_EVENTS})",
    )
    group.add_argument(
        "--integrations-fail-seconds",
        type=float,
        default=DEFAULT_FAIL_SECONDS,
        help=f"no-loss check: the receiver answers 500 this long (default {DEFAULT_FAIL_SECONDS:g})",
    )
    group.add_argument(
        "--integrations-retry-scale",
        type=float,
        default=None,
        help="PROMOFORGE_DELIVERY_RETRY_SCALE of the worker (default: fail seconds / 120,000)",
    )
    group.add_argument(
        "--integrations-latency-rate",
        type=float,
        default=DEFAULT_LATENCY_RATE,
        help=f"latency: checkouts a second (default {DEFAULT_LATENCY_RATE:g})",
    )
    group.add_argument(
        "--integrations-latency-seconds",
        type=float,
        default=DEFAULT_LATENCY_SECONDS,
        help=f"latency: seconds of checkouts (default {DEFAULT_LATENCY_SECONDS:g})",
    )
    group.add_argument(
        "--integrations-queued",
        type=int,
        default=DEFAULT_QUEUED,
        help="throughput: events queued before the worker starts, two deliveries each "
        f"(default {DEFAULT_QUEUED})",
    )
    group.add_argument(
        "--integrations-cpu-rounds",
        type=int,
        default=DEFAULT_CPU_ROUNDS,
        help=f"checkout CPU: rounds of one batch each way (default {DEFAULT_CPU_ROUNDS})",
    )
    group.add_argument(
        "--integrations-cpu-checkouts",
        type=int,
        default=DEFAULT_CPU_CHECKOUTS,
        help=f"checkout CPU: checkouts per batch (default {DEFAULT_CPU_CHECKOUTS})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if options.integrations_events < 2:
        parser.error("--integrations-events must be at least 2")
    if options.integrations_fail_seconds < 0:
        parser.error("--integrations-fail-seconds must not be negative")
    scale = options.integrations_retry_scale
    if scale is not None and not 0 < scale <= 1:
        parser.error("--integrations-retry-scale must be above 0 and at most 1")
    if min(options.integrations_latency_rate, options.integrations_latency_seconds) <= 0:
        parser.error("--integrations-latency-rate and --integrations-latency-seconds must be positive")
    if (
        min(options.integrations_queued, options.integrations_cpu_rounds, options.integrations_cpu_checkouts)
        < 1
    ):
        parser.error("--integrations-queued, -cpu-rounds and -cpu-checkouts must be positive")
    plan = plan_of(options)
    if plan.retry_scale > 0 and plan.last_attempt_seconds() * 0.8 <= plan.fail_seconds:
        parser.error(
            f"with a retry scale of {plan.retry_scale:g} an event's {MAX_ATTEMPTS} attempts may all fall "
            f"within the {plan.fail_seconds:g} s the receiver fails: give a larger --integrations-retry-scale"
        )


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file."""
    plan = plan_of(options)
    return {
        "events": plan.events,
        "fail_seconds": plan.fail_seconds,
        "retry_scale": plan.retry_scale,
        "retry_schedule_seconds": plan.schedule(),
        "latency_rate_per_second": plan.latency_rate,
        "latency_seconds": plan.latency_seconds,
        "events_queued": plan.queued,
        "cpu_rounds": plan.cpu_rounds,
        "cpu_checkouts_per_batch": plan.cpu_checkouts,
        "service": "promoforge serve --workers 1 --no-worker, and one promoforge worker process",
        "cart": "three custom lines and one unlimited code of a cart-level fixed_discount promotion",
        "targets": {
            "lost": 0,
            "invented": 0,
            "latency_p50_ms": LATENCY_P50_SECONDS * 1000,
            "latency_p99_ms": LATENCY_P99_SECONDS * 1000,
            "deliveries_per_second": THROUGHPUT_PER_SECOND,
            "checkout_cpu_overhead": CPU_OVERHEAD_MAX,
        },
    }


BENCHMARK = Benchmark(
    name="integrations",
    description="promoforge integrations: no event lost or invented, delivery latency and throughput, "
    "checkout CPU with integrations",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
