"""Every metric the service exports (Prometheus), defined once, and their exposition.

Values live in memory, or with PROMETHEUS_MULTIPROC_DIR set before this module is first imported (as
`serve` and `worker` do) in files that all the processes of a host share, so that a scrape of any API
process adds up every API and worker process. Labels are bounded: route templates, never raw paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

from promoforge.domain.health import QueuedJobs
from promoforge.domain.jobs import JobType
from promoforge.observability.metrics_directory import MULTIPROCESS_VARIABLE

SERVICE = CollectorRegistry(auto_describe=True)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

HTTP_REQUESTS = Counter(
    "promoforge_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=SERVICE,
)
HTTP_REQUEST_SECONDS = Histogram(
    "promoforge_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=SERVICE,
)
JOB_RUNS = Counter(
    "promoforge_job_runs",
    "Runs of claimed jobs by type and outcome (completed, failed, cancelled, retried, handed_back, lost).",
    ["job_type", "outcome"],
    registry=SERVICE,
)
JOB_RUN_SECONDS = Histogram(
    "promoforge_job_run_duration_seconds",
    "Time one worker spent on one claimed job, by type.",
    ["job_type"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=SERVICE,
)
CODES_GENERATED = Counter("promoforge_codes_generated", "Codes written by generation jobs.", registry=SERVICE)
CODES_EXPORTED = Counter(
    "promoforge_codes_exported", "Codes written to completed export files.", registry=SERVICE
)
CODE_APPLICATIONS = Counter(
    "promoforge_code_applications",
    "Codes shoppers tried to add to carts, by outcome (applied, refused, throttled).",
    ["outcome"],
    registry=SERVICE,
)
CHECKOUTS = Counter(
    "promoforge_checkouts",
    "Checkouts by outcome (ordered; repeated: an Idempotency-Key retry that returned the first order).",
    ["outcome"],
    registry=SERVICE,
)
CODE_USES_CONSUMED = Counter(
    "promoforge_code_uses_consumed", "Uses of codes consumed by checkouts.", registry=SERVICE
)
INTEGRATION_ATTEMPTS = Counter(
    "promoforge_integration_attempts",
    "Integration delivery attempts by type and outcome (succeeded, retrying, failed, discarded).",
    ["integration_type", "outcome"],
    registry=SERVICE,
)
INTEGRATION_ATTEMPT_SECONDS = Histogram(
    "promoforge_integration_attempt_duration_seconds",
    "Time one delivery attempt took, from its start to its outcome, by integration type.",
    ["integration_type"],
    registry=SERVICE,
)
DB_CONNECTIONS_IN_USE = Gauge(
    "promoforge_db_connections_in_use",
    "Database connections checked out of the pools of running processes.",
    multiprocess_mode="livesum",
    registry=SERVICE,
)
DB_POOL_SIZE = Gauge(
    "promoforge_db_pool_size",
    "Connections the pools of running processes keep (each may open as many again when busy).",
    multiprocess_mode="livesum",
    registry=SERVICE,
)

CODE_APPLIED, CODE_REFUSED, CODE_THROTTLED = "applied", "refused", "throttled"
CHECKOUT_ORDERED, CHECKOUT_REPEATED = "ordered", "repeated"
for _outcome in (CODE_APPLIED, CODE_REFUSED, CODE_THROTTLED):
    CODE_APPLICATIONS.labels(_outcome)
for _outcome in (CHECKOUT_ORDERED, CHECKOUT_REPEATED):
    CHECKOUTS.labels(_outcome)


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    method = method if method in HTTP_METHODS else "OTHER"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(method, route).observe(seconds)


def record_job_run(job_type: str, outcome: str, seconds: float) -> None:
    """Count one job run and its duration."""
    JOB_RUNS.labels(job_type, outcome).inc()
    JOB_RUN_SECONDS.labels(job_type).observe(seconds)


def record_code_applications(outcome: str, count: int = 1) -> None:
    """Count codes that were applied, refused or throttled."""
    if count > 0:
        CODE_APPLICATIONS.labels(outcome).inc(count)


def record_checkout(*, repeated: bool, uses_consumed: int) -> None:
    """Count a checkout and the code uses it consumed (none for a repeat)."""
    CHECKOUTS.labels(CHECKOUT_REPEATED if repeated else CHECKOUT_ORDERED).inc()
    if uses_consumed > 0 and not repeated:
        CODE_USES_CONSUMED.inc(uses_consumed)


def record_delivery_attempt(integration_type: str, outcome: str, seconds: float) -> None:
    """Count one delivery attempt and how long it took."""
    INTEGRATION_ATTEMPTS.labels(integration_type, outcome).inc()
    INTEGRATION_ATTEMPT_SECONDS.labels(integration_type).observe(seconds)


def forget_this_process() -> None:
    """Drop this process's live gauges from the shared directory (it is stopping)."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def instrument_pool(engine: Engine) -> None:
    """Track the connections `engine`'s pool keeps and lends (once per engine)."""
    if event.contains(engine, "checkout", _connection_lent):
        return
    size = getattr(engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.inc(size())
    event.listen(engine, "checkout", _connection_lent)
    event.listen(engine, "checkin", _connection_returned)


def _connection_lent(*_: Any) -> None:
    DB_CONNECTIONS_IN_USE.inc()


def _connection_returned(*_: Any) -> None:
    DB_CONNECTIONS_IN_USE.dec()


class _JobQueueCollector(Collector):
    """The job queue as one query saw it during this scrape."""

    def __init__(self, queue: Sequence[QueuedJobs]) -> None:
        self.queue = {entry.job_type: entry for entry in queue}

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "promoforge_job_queue_depth", "Jobs waiting for a worker, by type.", labels=["job_type"]
        )
        age = GaugeMetricFamily(
            "promoforge_job_queue_age_seconds",
            "Age of the oldest job waiting for a worker, by type (0 when none waits).",
            labels=["job_type"],
        )
        running = GaugeMetricFamily(
            "promoforge_jobs_running",
            "Jobs a worker holds (processing or cancelling), by type.",
            labels=["job_type"],
        )
        for job_type in JobType:
            entry = self.queue.get(job_type.value, QueuedJobs(job_type.value, 0, 0, 0.0))
            depth.add_metric([job_type.value], entry.pending)
            age.add_metric([job_type.value], entry.oldest_pending_seconds)
            running.add_metric([job_type.value], entry.running)
        yield from (depth, age, running)


def exposition(queue: Sequence[QueuedJobs] | None) -> bytes:
    """Every metric in the Prometheus text format: of all this host's processes in multi-process mode, of
    this process otherwise; the job queue gauges when `queue` is given."""
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get(MULTIPROCESS_VARIABLE):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(SERVICE)
    if queue is not None:
        registry.register(_JobQueueCollector(queue))
    return generate_latest(registry)
