"""GET /metrics: the Prometheus text format, behind a bearer token when PROMOFORGE_METRICS_TOKEN is set."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from promoforge.api.deps import ContainerDep
from promoforge.domain.errors import Unauthenticated
from promoforge.domain.health import QueuedJobs
from promoforge.observability import metrics
from promoforge.services import monitoring

log = logging.getLogger("promoforge.api")
router = APIRouter(include_in_schema=False)
_bearer = HTTPBearer(auto_error=False)


async def metrics_caller(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the scrape in when no token is configured, or when it brings the configured one."""
    expected = container.settings.metrics_token
    if expected is None:
        return
    given = credentials.credentials.strip() if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise Unauthenticated("GET /metrics needs the metrics token: send Authorization: Bearer <token>")


@router.get("/metrics", dependencies=[Depends(metrics_caller)])
def scrape(container: ContainerDep) -> Response:
    """Every metric of this host's processes, and the job queue as the database has it now."""
    queue: list[QueuedJobs] | None
    try:
        queue = monitoring.job_queue(container.db, now=container.clock())
    except Exception:  # the process metrics matter most when the database is in trouble
        log.warning("could not read the job queue for /metrics", exc_info=True)
        queue = None
    return Response(metrics.exposition(queue), media_type=CONTENT_TYPE_LATEST)
