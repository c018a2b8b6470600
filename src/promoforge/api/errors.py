"""Every failure as an EP `errors` document: the status of each domain error, and the handlers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match, Route

from promoforge.api.documents.common import MAX_ERROR_ITEMS, DocumentResponse, ErrorDocument, ErrorItem
from promoforge.api.documents.products.requests import clash_detail, clash_field, clash_meta
from promoforge.domain import errors as domain
from promoforge.domain.products import ProductClash
from promoforge.observability.logs import current_request
from promoforge.services.validation import field_problems

log = logging.getLogger("promoforge.api")

STATUS_BY_ERROR: dict[type[domain.DomainError], int] = {
    domain.InvalidInput: 400,
    domain.TooManyJobs: 400,
    domain.Unauthenticated: 401,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.CodeConflict: 409,
    domain.ProductConflict: 409,
    domain.WriteConflict: 409,
    domain.IntegrityConflict: 409,
    domain.PayloadTooLarge: 413,
    domain.SemanticError: 422,
    domain.CodesLimitExceeded: 422,
    domain.TooManyCodesToReenable: 422,
    domain.JobNotCancellable: 422,
    domain.NoFileToDownload: 422,
    domain.CodeSpaceTooSmall: 422,
    domain.ServiceUnavailable: 503,
    domain.CustomDiscountsEnabled: 422,
    domain.CartCurrencyMismatch: 400,
    domain.CartFull: 400,
    domain.CartTooLarge: 400,
    domain.CartExists: 409,
    domain.CartRuleBroken: 400,
    domain.BulkFailed: 400,
    domain.BothDiscountSettings: 422,
    domain.TooManyAttempts: 429,
    domain.CartEmpty: 400,
    domain.OrderStateConflict: 422,
    domain.IdempotencyKeyReused: 422,
}

_HTTP_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
}


def status_of(error: domain.DomainError) -> int:
    """Return the HTTP status for a domain error (its nearest listed class)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_item(
    status: int,
    title: str,
    detail: str = "",
    source: str | None = None,
    meta: dict[str, Any] | None = None,
    code: str | None = None,
) -> ErrorItem:
    """One entry of an `errors` array (`code`: the stable, machine-readable name of the error)."""
    item: ErrorItem = {"status": status, "title": title}
    if code:
        item["code"] = code
    if detail:
        item["detail"] = detail
    if source:
        item["source"] = source
    if meta:
        item["meta"] = meta
    return item


def error_response(
    status: int, items: list[ErrorItem], headers: dict[str, str] | None = None
) -> DocumentResponse:
    """An `errors` document: the first MAX_ERROR_ITEMS problems, with their total in `meta` past that."""
    document: ErrorDocument = {"errors": items[:MAX_ERROR_ITEMS]}
    if len(items) > MAX_ERROR_ITEMS:
        document["meta"] = {"total_errors": len(items)}
    return DocumentResponse(document, status_code=status, headers=headers)


def error_items(error: domain.DomainError) -> list[ErrorItem]:
    """The `errors` entries of one domain error (one per field problem where it has them)."""
    status = status_of(error)
    if isinstance(error, domain.InvalidInput | domain.SemanticError):
        return [error_item(status, p.title, p.detail, p.source, code=error.code) for p in error.problems]
    if isinstance(error, domain.BulkFailed):
        return [item for failed in error.errors for item in error_items(failed)]
    if isinstance(error, domain.ProductConflict) and error.clashes:
        return [_clash_item(status, error, clash) for clash in error.clashes]
    return [error_item(status, error.title, error.detail, error.source, error.meta, error.code)]


def domain_error_response(error: domain.DomainError) -> DocumentResponse:
    """Render a domain error."""
    status = status_of(error)
    if isinstance(error, domain.BulkFailed) and error.errors:
        status = status_of(error.errors[0])
    items = error_items(error)
    headers = {"WWW-Authenticate": 'Bearer realm="promoforge"'} if status == 401 else None
    if isinstance(error, domain.TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return error_response(status, items, headers)


def _clash_item(status: int, error: domain.ProductConflict, clash: ProductClash) -> ErrorItem:
    """One clashing product of a PUT (`data.<field>`) or an import (`data.<index>.<field>`)."""
    product = f"data.{clash.index}" if error.numbered else "data"
    where = f"data.{clash.other_index} of this request"
    return error_item(
        status,
        error.title,
        clash_detail(clash, where),
        f"{product}.{clash_field(clash)}",
        clash_meta(clash),
        error.code,
    )


async def _on_domain_error(_request: Request, error: Exception) -> DocumentResponse:
    assert isinstance(error, domain.DomainError)
    return domain_error_response(error)


async def _on_validation_error(_request: Request, error: Exception) -> DocumentResponse:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        location = tuple(item.get("loc", ()))
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        errors.append({**item, "loc": location})
    problems = field_problems(errors)
    items = [error_item(400, p.title, p.detail, p.source, code=domain.InvalidInput.code) for p in problems]
    return error_response(400, items)


def allowed_methods(routes: Sequence[BaseRoute], request: Request) -> list[str]:
    """Every method some route accepts on the request's path."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def _on_http_error(request: Request, error: Exception) -> DocumentResponse:
    assert isinstance(error, StarletteHTTPException)
    title = _HTTP_TITLES.get(error.status_code, "Error")
    detail = error.detail if isinstance(error.detail, str) and error.detail != title else ""
    headers = dict(error.headers) if error.headers else None
    if error.status_code == 405:
        # Starlette names the methods of the first route on the path only.
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app.state.routes, request))}
    code = title.lower().replace(" ", "_")
    return error_response(
        error.status_code, [error_item(error.status_code, title, detail, code=code)], headers
    )


async def _on_client_disconnect(request: Request, _error: Exception) -> DocumentResponse:
    # Nobody is left to read the answer; a client going away is no fault of ours.
    route = getattr(request.scope.get("route"), "path_format", request.url.path)
    log.info("client went away before sending its whole request: %s %s", request.method, route)
    detail = "the client disconnected before sending the whole request"
    return error_response(400, [error_item(400, "Bad Request", detail, code="client_disconnected")])


async def _on_unexpected(_request: Request, error: Exception) -> DocumentResponse:
    context = current_request.get()
    request_id = context.request_id if context is not None else str(uuid.uuid4())
    log.error("unhandled error (request %s)", request_id, exc_info=error)
    item = error_item(
        500, "Internal Server Error", "Something went wrong on our side.", code="internal_error"
    )
    item["request_id"] = request_id
    return error_response(500, [item])


def install_error_handlers(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Route every kind of failure to an `errors` document (`routes`: all of the app's, for `Allow`)."""
    app.state.routes = list(routes)
    app.add_exception_handler(domain.DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(ClientDisconnect, _on_client_disconnect)
    app.add_exception_handler(Exception, _on_unexpected)
