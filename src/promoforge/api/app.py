"""The ASGI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from promoforge import __version__
from promoforge.api.body import RequestGuard
from promoforge.api.errors import install_error_handlers
from promoforge.api.routes import (
    auth,
    carts,
    codes,
    files,
    health,
    integrations,
    jobs,
    metrics,
    orders,
    products,
    promotions,
)
from promoforge.api.telemetry import RequestTelemetry
from promoforge.bootstrap import Container, build
from promoforge.config import Settings
from promoforge.domain.health import ExpectedWorker
from promoforge.jobs.worker import Worker
from promoforge.observability.logs import configure_logging
from promoforge.observability.metrics import forget_this_process, instrument_pool

log = logging.getLogger("promoforge.api")

WORKER_STOP_SECONDS = 10.0
ROUTERS = (
    auth.router,
    promotions.router,
    codes.router,
    jobs.router,
    files.router,
    products.router,
    carts.router,
    orders.router,
    integrations.router,
    health.router,
    metrics.router,
)


def create_app(container: Container, *, run_worker: bool = False, owns_container: bool = False) -> FastAPI:
    """Build the application over a container; optionally run a job worker alongside it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            worker = Worker(
                container.db,
                container.settings,
                clock=container.clock,
                concurrency=container.settings.worker_concurrency,
                secrets=container.secrets,
            )
            worker.start()
            _app.state.job_worker = worker
            _app.state.expected_worker = ExpectedWorker(worker_id=worker.worker_id)
            log.info("job worker started (%d thread(s))", worker.concurrency)
        try:
            yield
        finally:
            if worker is not None:
                worker.stop(WORKER_STOP_SECONDS)
            if owns_container:
                container.close()
                forget_this_process()

    app = FastAPI(
        title="PromoForge",
        version=__version__,
        description="Promotions service speaking the Elastic Path Promotions Standard API (v2).",
        lifespan=lifespan,
    )
    bind_container(app, container)
    install_error_handlers(app, [route for router in ROUTERS for route in router.routes])
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RequestGuard, max_bytes=container.settings.max_body_bytes)
    # Added last, so outermost: it sees every answer, the guard's refusals included.
    app.add_middleware(RequestTelemetry, access_lines=container.settings.access_log)
    return app


def bind_container(app: FastAPI, container: Container) -> None:
    """Serve `app`'s requests from `container`; the body limit and log format stay those it was built with."""
    app.state.container = container
    # Without a worker of its own, readiness needs some other worker alive unless told not to expect one.
    app.state.expected_worker = ExpectedWorker() if container.settings.expect_worker else None
    instrument_pool(container.db.engine)


def app_from_environment() -> FastAPI:
    """Factory for uvicorn: settings from PROMOFORGE_* variables."""
    settings = Settings()
    if not logging.getLogger().handlers:  # a worker process spawned by uvicorn starts unconfigured
        configure_logging(settings.log_format)
    container = build(settings, worker_threads=settings.worker_concurrency if settings.run_worker else 0)
    return create_app(container, run_worker=container.settings.run_worker, owns_container=True)
