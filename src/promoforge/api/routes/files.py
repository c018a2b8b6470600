"""Export downloads behind signed links (no token: the signature is the credential)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from promoforge.api.deps import ContainerDep
from promoforge.api.documents.common import error_responses
from promoforge.services import jobs

router = APIRouter(tags=["Export files"], responses=error_responses(400, 403, 404, 413, 422, 503))


@router.get(
    "/v2/files/{store_id}/{promotion_id}/{file_name}",
    summary="Download an export (the href from the job's file endpoint)",
    response_class=StreamingResponse,
    responses={200: {"description": "The CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def download_export(
    container: ContainerDep,
    store_id: Annotated[str, Path(max_length=64)],
    promotion_id: Annotated[str, Path(max_length=64)],
    file_name: Annotated[str, Path(max_length=128)],
    expires: Annotated[int, Query(alias="Expires", ge=0, le=2**40)],
    signature: Annotated[str, Query(alias="Signature", max_length=128)],
) -> StreamingResponse:
    """Stream the CSV with its size and a file name."""
    export = jobs.open_export(
        container.db,
        container.links,
        store_id=store_id,
        promotion_id=promotion_id,
        file_name=file_name,
        expires=expires,
        signature=signature,
        now=container.clock(),
    )
    return StreamingResponse(
        export.parts,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.name}"',
            "Content-Length": str(export.size),
            "Cache-Control": "private, no-store",
        },
    )
