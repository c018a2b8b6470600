"""Per request: an id (X-Request-ID), a count and duration by route template, and in json mode one access
line; the outcomes of code applications and checkouts as the API sees them."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

from fastapi import Depends
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoforge.api.documents.carts.requests import AddItemsRequest
from promoforge.domain.errors import (
    BulkFailed,
    CodeNotApplicable,
    CustomDiscountsEnabled,
    DomainError,
    TooManyAttempts,
)
from promoforge.observability import metrics
from promoforge.observability.logs import RequestLogContext, current_request
from promoforge.services.carts import CodeToApply, NewLine
from promoforge.services.checkout import OrderView

access_log = logging.getLogger("promoforge.access")

REQUEST_ID_HEADER = b"x-request-id"
# A client's id is kept when it is short and plain; anything else is replaced rather than logged.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_from(scope: Scope) -> str:
    """The client's X-Request-ID when acceptable, else a new one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            if ACCEPTED_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v2/carts/{cartID}`), never the raw path."""
    route = scope.get("route")
    template: object = getattr(route, "path_format", None)
    return template if isinstance(template, str) else metrics.UNMATCHED_ROUTE


class RequestTelemetry:
    """Outermost middleware: request id in and out, request metrics, and the access line when asked."""

    def __init__(self, app: ASGIApp, *, access_lines: bool) -> None:
        self.app = app
        self.access_lines = access_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its log context and account for it once answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestLogContext(request_id_from(scope))
        token = current_request.set(context)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, context.request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            metrics.record_request(method, route, status, seconds)
            if self.access_lines:
                duration_ms = round(seconds * 1000, 2)
                fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
                access_log.info("%s %s %d %.2f ms", method, route, status, duration_ms, extra=fields)
            current_request.reset(token)


class CodeApplicationTally:
    """Counts the codes of one add-to-cart request as applied, refused or throttled."""

    def __init__(self, entries: Sequence[NewLine]) -> None:
        self.codes = sum(isinstance(entry, CodeToApply) for entry in entries)

    def finished(self, errors: Sequence[DomainError], *, applied: bool = True) -> None:
        """The request succeeded (a bulk one perhaps in part): its code errors are the codes not applied."""
        throttled = sum(isinstance(error, TooManyAttempts) for error in errors)
        refused = sum(_is_code_refusal(error) for error in errors)
        metrics.record_code_applications(metrics.CODE_THROTTLED, throttled)
        metrics.record_code_applications(metrics.CODE_REFUSED, refused)
        if applied:
            metrics.record_code_applications(metrics.CODE_APPLIED, self.codes - throttled - refused)

    def failed(self, error: Exception) -> None:
        """The request failed whole: its codes were throttled or refused, or (in an all-or-nothing bulk
        request, through another entry) not applied without a fault of their own."""
        if isinstance(error, BulkFailed):
            self.finished(error.errors, applied=False)
        elif isinstance(error, TooManyAttempts):
            metrics.record_code_applications(metrics.CODE_THROTTLED, self.codes)
        elif isinstance(error, DomainError) and not error.transient:
            metrics.record_code_applications(metrics.CODE_REFUSED, self.codes)


def _is_code_refusal(error: DomainError) -> bool:
    """An entry's error that only a code entry can have."""
    return isinstance(error, CodeNotApplicable | CustomDiscountsEnabled)


async def code_application_tally(body: AddItemsRequest) -> AsyncIterator[CodeApplicationTally]:
    """Dependency of the add-to-cart route: a tally it completes with `finished`; counts a failed request."""
    tally = CodeApplicationTally(body.entries())
    try:
        yield tally
    except Exception as error:
        tally.failed(error)
        raise


CodeTallyDep = Annotated[CodeApplicationTally, Depends(code_application_tally)]


def record_checkout(view: OrderView) -> None:
    """Count a checkout and the code uses it consumed."""
    consumed = sum(usage.times_used for usage in view.usages)
    metrics.record_checkout(repeated=view.repeated, uses_consumed=consumed)
