"""Health probes, outside the EP API and without authentication: live (the process answers) and ready."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from promoforge.api.deps import ContainerDep
from promoforge.domain.health import ExpectedWorker
from promoforge.services import health
from promoforge.storage.migrate import head_revision

router = APIRouter(prefix="/health", include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/live")
async def live() -> Response:
    """200 while the process answers requests at all."""
    return JSONResponse({"status": "live"}, headers=NO_STORE)


@router.get("/ready")
def ready(request: Request, container: ContainerDep) -> Response:
    """200 when the database answers at the expected schema and the expected worker beats; 503 with the
    failing checks otherwise."""
    expected: ExpectedWorker | None = request.app.state.expected_worker
    readiness = health.check_readiness(
        container.db, expected_revision=head_revision(), worker=expected, now=container.clock()
    )
    return JSONResponse(readiness.document(), status_code=200 if readiness.ready else 503, headers=NO_STORE)
