"""Webhook delivery: one POST to a vetted address of the receiver, bounded in time and in what it reads.

Built on httpcore (the engine under httpx) rather than httpx or urllib3: its network-backend interface lets
every connection be opened to the address that was vetted while the URL, the Host header, SNI and
certificate verification keep the host name, and lets each socket operation wait only for what is left of
the attempt's deadline. httpx would need its transport taken apart for the first; urllib3 bounds each read,
not the attempt, so a receiver answering a byte at a time could hold an attempt for ever.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpcore

from promoforge.jobs.delivery.addresses import (
    DestinationVetter,
    IPAddress,
    ResolutionFailed,
    ResolutionTimedOut,
    Resolver,
    endpoint,
    reason_of,
    verifying_tls_context,
)
from promoforge.jobs.delivery.outcome import (
    ANSWER_LIMIT_BYTES,
    GONE,
    NON_2XX_STATUS,
    AttemptOutcome,
    answer_text,
    could_not_connect,
    elapsed,
    failed,
    no_response_within,
    tls_verification_failed,
)

DEFAULT_PORTS = {"http": 80, "https": 443}
# Below the idle timeouts of common servers (Node's is 5 s), so that a pooled connection is seldom closed by
# the receiver just as a request goes out on it (a POST is never re-sent within an attempt).
KEEPALIVE_SECONDS = 4.0
IDLE_CONNECTIONS_PER_POOL = 4
# Headers the sender sets itself: the Host is the URL's, the length the body's.
OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
# Characters left as they are in a request target; anything else (spaces, non-ASCII) is percent-encoded.
TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"

# The monotonic time by which the attempt running in this thread must end.
_attempt_deadline: ContextVar[float | None] = ContextVar("webhook_attempt_deadline", default=None)


def _time_left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """The wait allowed for one socket operation: `timeout`, cut to what is left of the attempt."""
    deadline = _attempt_deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the attempt's time is up")
    return left if timeout is None else min(timeout, left)


class _TlsHandshakeFailed(httpcore.ConnectError):
    """A failed TLS handshake, told apart from a failed TCP connect (which moves on to the next address)."""


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every operation ends by the current attempt's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max_bytes` bytes; b"" at the end of the stream."""
        try:
            self._sock.settimeout(_time_left(timeout, httpcore.ReadTimeout))
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(reason_of(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(reason_of(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """All of `buffer`, each send waiting only for what is left of the attempt."""
        remaining = memoryview(buffer)
        try:
            while remaining:
                self._sock.settimeout(_time_left(timeout, httpcore.WriteTimeout))
                remaining = remaining[self._sock.send(remaining) :]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(reason_of(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(reason_of(exc)) from exc

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        """The TLS stream over this socket, its certificate verified for `server_hostname` (also the SNI)."""
        try:
            self._sock.settimeout(_time_left(timeout, httpcore.ConnectTimeout))
            return _DeadlineStream(ssl_context.wrap_socket(self._sock, server_hostname=server_hostname))
        except TimeoutError as exc:
            self.close()
            raise httpcore.ConnectTimeout(reason_of(exc)) from exc
        except ssl.SSLError as exc:
            self.close()
            raise _TlsHandshakeFailed(reason_of(exc)) from exc
        except OSError as exc:
            self.close()
            raise httpcore.ConnectError(reason_of(exc)) from exc
        except httpcore.ConnectTimeout:
            self.close()
            raise

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a stream: whether it is readable while idle, the socket, the TLS object."""
        if info == "is_readable":
            return _is_readable(self._sock)
        if info == "socket":
            return self._sock
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock._sslobj  # type: ignore[attr-defined]
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "client_addr":
            return self._sock.getsockname()
        return None


def _is_readable(sock: socket.socket) -> bool:
    """Whether a read would not block: on an idle HTTP/1.1 connection, the receiver has closed it."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens every connection to one vetted address, whatever host the URL names."""

    def __init__(self, address: IPAddress) -> None:
        self._address = address

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.NetworkStream:
        """A TCP connection to the pinned address on `port`; `host` is deliberately not looked up."""
        try:
            sock = socket.create_connection(
                (str(self._address), port), timeout=_time_left(timeout, httpcore.ConnectTimeout)
            )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(reason_of(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(reason_of(exc)) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _DeadlineStream(sock)


@dataclass(frozen=True)
class _Target:
    """Where a webhook URL points: scheme, host (IDNA, no brackets), port and request target."""

    scheme: str
    host: str
    port: int
    target: str

    @property
    def host_header(self) -> str:
        """The Host header: the host name, with the port when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> httpcore.URL:
        """The URL httpcore is given: the host name, never the address connected to."""
        return httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=self.target)


def _parse(url: str) -> _Target:
    """The parts of an http(s) URL that a request needs; ValueError for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    host = parts.hostname
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    target = quote(parts.path or "/", safe=TARGET_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=TARGET_SAFE)
    return _Target(scheme, host, parts.port or DEFAULT_PORTS[scheme], target)


@dataclass
class _Pool:
    """One connection pool and how many attempts are using it now."""

    connections: httpcore.ConnectionPool
    users: int = 0


# (scheme, host, port, address): a pool never serves another host name (its TLS sessions were verified for
# this one) nor another address (the one it connects to was vetted for this host).
_PoolKey = tuple[str, str, int, IPAddress]


class WebhookSender:
    """Posts webhook bodies; one per worker process, keeping a connection pool per host and vetted address."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, max_pools: int = 64) -> None:
        self._tls_context = verifying_tls_context(tls_context)
        self._max_pools = max_pools
        self._resolver = Resolver()
        self._pools: OrderedDict[_PoolKey, _Pool] = OrderedDict()
        self._lock = threading.Lock()

    def send(
        self,
        url: str,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        *,
        vet: DestinationVetter,
        timeout: float = 10.0,
    ) -> AttemptOutcome:
        """POST `body` to `url` once (no redirects), if `vet` allows every address the host has."""
        started = time.monotonic()
        deadline = started + timeout
        target = _parse(url)
        try:
            addresses = self._resolver.resolve(target.host, target.port, deadline)
        except ResolutionTimedOut:
            return failed(no_response_within(timeout), started=started, now=time.monotonic())
        except ResolutionFailed as exc:
            return failed(could_not_connect(str(exc)), started=started, now=time.monotonic())
        allowed, refusal = vet(target.host, target.port, addresses)
        if not allowed:
            return failed(refusal, started=started, now=time.monotonic())
        request_headers = [("Host", target.host_header)]
        request_headers += [(name, value) for name, value in headers if name.lower() not in OWN_HEADERS]
        token = _attempt_deadline.set(deadline)
        try:
            return self._post(target, addresses, body, request_headers, started=started, timeout=timeout)
        finally:
            _attempt_deadline.reset(token)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.connections.close()
        self._resolver.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(
        self,
        target: _Target,
        addresses: list[IPAddress],
        body: bytes,
        headers: list[tuple[str, str]],
        *,
        started: float,
        timeout: float,
    ) -> AttemptOutcome:
        """Try the vetted addresses in order until one takes the connection; its answer is the outcome."""
        deadline = started + timeout
        unreachable: list[str] = []
        for index, address in enumerate(addresses):
            where = endpoint(address, target.port)
            # Each address left gets an equal share of the time for its connect and TLS handshake, so that
            # one that drops packets cannot use up the attempt before the others are tried.
            connect_timeout = max(deadline - time.monotonic(), 0.0) / (len(addresses) - index)
            key = (target.scheme, target.host, target.port, address)
            pool = self._take(key)
            answer = bytearray()
            status = 0
            retry_after: str | None = None
            try:
                with pool.connections.stream(
                    "POST",
                    target.url,
                    headers=headers,
                    content=body,
                    extensions={
                        "timeout": {
                            "connect": connect_timeout,
                            "read": timeout,
                            "write": timeout,
                            "pool": timeout,
                        },
                        "sni_hostname": target.host,
                    },
                ) as response:
                    status = response.status
                    retry_after = _header(response.headers, b"retry-after") if status in (429, 503) else None
                    _read_answer(response, answer)
            except _TlsHandshakeFailed as exc:
                detail = tls_verification_failed(f"{where}: {exc}")
                return failed(detail, started=started, now=time.monotonic())
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                if isinstance(exc, httpcore.ConnectTimeout) and time.monotonic() >= deadline:
                    return failed(no_response_within(timeout), started=started, now=time.monotonic())
                unreachable.append(f"{where}: {exc}")
                continue
            except httpcore.TimeoutException:
                # After the status line a partial answer is still worth logging with its status.
                return _ended(status, answer, no_response_within(timeout), started=started)
            except (httpcore.NetworkError, httpcore.RemoteProtocolError) as exc:
                detail = could_not_connect(f"{where}: {exc or type(exc).__name__}")
                return _ended(status, answer, detail, started=started)
            finally:
                self._give_back(key)
            return _answered(status, answer, retry_after, started=started)
        return failed(could_not_connect("; ".join(unreachable)), started=started, now=time.monotonic())

    def _take(self, key: _PoolKey) -> _Pool:
        """The pool for `key` (created if need be), counted as in use; idle pools over the limit close."""
        retired: list[_Pool] = []
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = _Pool(
                    httpcore.ConnectionPool(
                        ssl_context=self._tls_context,
                        max_connections=None,
                        max_keepalive_connections=IDLE_CONNECTIONS_PER_POOL,
                        keepalive_expiry=KEEPALIVE_SECONDS,
                        retries=0,
                        network_backend=_PinnedBackend(key[3]),
                    )
                )
                self._pools[key] = pool
            self._pools.move_to_end(key)
            pool.users += 1
            for other_key, other in list(self._pools.items()):
                if len(self._pools) <= self._max_pools:
                    break
                if other.users == 0:
                    retired.append(self._pools.pop(other_key))
        for old in retired:
            old.connections.close()
        return pool

    def _give_back(self, key: _PoolKey) -> None:
        """Count one attempt fewer using the pool of `key`."""
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                pool.users -= 1


def _read_answer(response: httpcore.Response, answer: bytearray) -> None:
    """Read the body into `answer` until its end or 2,048 bytes; what follows is never read."""
    for chunk in response.iter_stream():
        answer += chunk[: ANSWER_LIMIT_BYTES - len(answer)]
        if len(answer) >= ANSWER_LIMIT_BYTES:
            return


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header `name` (lower case), or None."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _answered(status: int, answer: bytearray, retry_after: str | None, *, started: float) -> AttemptOutcome:
    """The outcome of a complete answer: 2xx succeeds, 410 is gone, anything else fails."""
    return AttemptOutcome(
        succeeded=200 <= status <= 299,
        status_code=status,
        body=answer_text(bytes(answer)),
        error_detail="" if 200 <= status <= 299 else GONE if status == 410 else NON_2XX_STATUS,
        retry_after=retry_after,
        gone=status == 410,
        processing_time=elapsed(started, time.monotonic()),
    )


def _ended(status: int, answer: bytearray, detail: str, *, started: float) -> AttemptOutcome:
    """A failure that ended the answer early, with whatever status and body had arrived."""
    return AttemptOutcome(
        succeeded=False,
        status_code=status,
        body=answer_text(bytes(answer)),
        error_detail=detail,
        retry_after=None,
        gone=False,
        processing_time=elapsed(started, time.monotonic()),
    )
