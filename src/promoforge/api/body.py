"""Request bodies: a size limit, and well-formed UTF-8 JSON free of characters storage refuses."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoforge.api.deps import authenticate
from promoforge.api.documents.common import ErrorItem, encode
from promoforge.domain.errors import FieldProblem, InvalidInput, PayloadTooLarge

MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPES = ("application/json", "application/vnd.api+json")


class RequestGuard:
    """Refuse NUL characters in the path or query (no database stores them) and bodies above a size."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting `receive`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad_part = _part_with_nul(scope)
        if bad_part is not None:
            detail = f"{bad_part} must not contain NUL characters"
            await _send_error(send, 400, "Bad Request", detail, bad_part, code=InvalidInput.code)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    detail = f"request bodies may be at most {self.max_bytes} bytes"
                    await _send_error(send, 413, "Payload Too Large", detail, code=PayloadTooLarge.code)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(f"request bodies may be at most {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)


def _part_with_nul(scope: Scope) -> str | None:
    """Name the path or query parameter that holds a NUL character, if any."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or "\x00" in query:
        for key, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return key.replace("\x00", "") or "query"
        return "query"
    return None


async def _send_error(
    send: Send, status: int, title: str, detail: str, source: str | None = None, *, code: str
) -> None:
    item: ErrorItem = {"status": status, "title": title, "code": code, "detail": detail}
    if source:
        item["source"] = source
    body = encode({"errors": [item]})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _bad_body(detail: str, source: str = "data", title: str = "Bad Request") -> InvalidInput:
    return InvalidInput([FieldProblem(source, detail, title)])


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    raise ValueError(f"{name} is not a JSON value")


def check_json_values(document: Any) -> None:
    """Walk the document without recursion; refuse deep nesting, NUL and unpaired surrogates."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _bad_body(
                f"the JSON document is nested more than {MAX_JSON_DEPTH} levels deep", path or "data"
            )
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, float) and not math.isfinite(value):
            # 1e999 parses as infinity: no database column or JSON answer can hold it.
            raise _bad_body("a number is too large to represent", path or "data")
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, path)
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}.{index}" if path else str(index), depth + 1)
                for index, item in enumerate(value)
            )


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise _bad_body("text must not contain NUL characters", path or "data")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_body("text must not contain unpaired surrogate escapes", path or "data") from None


def parse_json_document(body: bytes, source: str = "data") -> Any:
    """Parse a JSON body, refusing what Python's parser allows but JSON or storage do not."""
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise _bad_body("the request body is not valid UTF-8", source) from None
    except (ValueError, RecursionError) as error:
        raise _bad_body(f"the request body is not valid JSON: {error}", source) from None
    check_json_values(document)
    return document


_UNPARSED: Any = object()


class JSONBodyRequest(Request):
    """A request whose `json()` is the checked document, parsed once."""

    _document: Any = _UNPARSED

    async def json(self) -> Any:
        """The body as a checked JSON document."""
        if self._document is _UNPARSED:
            self._document = parse_json_document(await self.body())
        return self._document


class JSONBodyRoute(APIRoute):
    """A route of the authenticated API: the caller is authenticated first (401 before anything about the
    request is judged), then the body, when present, must be JSON; it is parsed and checked once."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Hand the handler a `JSONBodyRequest` of an authenticated caller whose body is already checked."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            request = JSONBodyRequest(request.scope, request.receive)
            authenticate(request)
            body = await request.body()
            if body.strip():
                media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if media_type not in JSON_MEDIA_TYPES:
                    raise _bad_body(
                        "request bodies must be JSON: send Content-Type: application/json", "Content-Type"
                    )
                # Parsed here so that a refusal keeps its field; FastAPI would turn it into a bare 400.
                await request.json()
            return await handler(request)

        return checked
