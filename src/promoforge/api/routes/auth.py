"""POST /oauth/access_token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from promoforge.api.body import parse_json_document
from promoforge.api.deps import ContainerDep
from promoforge.api.documents.auth.requests import TokenForm
from promoforge.api.documents.auth.responses import AccessToken, token_document
from promoforge.api.documents.common import DocumentResponse, error_responses
from promoforge.domain.errors import FieldProblem, InvalidInput
from promoforge.services import auth

router = APIRouter(tags=["Authentication"], responses=error_responses(400, 401, 413, 503))

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_FIELDS = ("grant_type", "client_id", "client_secret")


async def token_fields(request: Request) -> dict[str, str]:
    """Read grant_type, client_id and client_secret from a form (or JSON) body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    values: dict[str, Any]
    if media_type in _FORM_TYPES:
        form = await request.form()
        values = {key: form.get(key) for key in _FIELDS}
    elif media_type == "application/json":
        document = parse_json_document(await request.body(), source="body")
        values = document if isinstance(document, dict) else {}
    else:
        raise InvalidInput(
            [
                FieldProblem(
                    "Content-Type", "send the fields as application/x-www-form-urlencoded", "Bad Request"
                )
            ]
        )
    result: dict[str, str] = {}
    problems = []
    for key in _FIELDS:
        value = values.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > 512 or "\x00" in value:
            problems.append(FieldProblem(key, f"{key} must be a short string"))
            continue
        result[key] = value
    for required in ("grant_type", "client_id"):
        if required not in result and not any(p.source == required for p in problems):
            problems.append(FieldProblem(required, f"{required} is required", "required"))
    if problems:
        raise InvalidInput(problems)
    return result


@router.post(
    "/oauth/access_token",
    summary="Get an access token",
    description="Form fields grant_type (client_credentials or implicit), client_id and, for "
    "client_credentials, client_secret.",
    response_model=None,
    responses={200: {"model": AccessToken, "description": "A bearer token"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": TokenForm.model_json_schema()}},
        }
    },
)
def access_token(
    fields: Annotated[dict[str, str], Depends(token_fields)], container: ContainerDep
) -> DocumentResponse:
    """Exchange credentials for a bearer token (bare token fields, as EP returns them)."""
    token = auth.issue_token(
        container.db,
        container.tokens,
        grant_type=fields["grant_type"],
        client_id=fields["client_id"],
        client_secret=fields.get("client_secret"),
        now=container.clock(),
        ttl_seconds=container.settings.token_ttl_seconds,
    )
    return DocumentResponse(token_document(token), headers={"Cache-Control": "no-store"})
