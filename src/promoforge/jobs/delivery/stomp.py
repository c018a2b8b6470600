"""STOMP delivery: one persistent SEND with a receipt, to the first broker address that takes the connection.

stomp.py does the framing and the protocol. Its transport is subclassed for what it cannot do itself: open
the socket to the address that was vetted while TLS verifies the broker's host name (stomp.py would look
the name up again and verify the certificate for whatever it connected to), and never block this thread on
a broker: every socket runs in stomp.py's non-blocking mode, so that the sender only ever waits, up to the
attempt's deadline, for what the broker has answered.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import stomp.listener
import stomp.protocol
import stomp.transport
import stomp.utils

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
    AttemptOutcome,
    answer_text,
    could_not_connect,
    elapsed,
    failed,
    no_receipt_within,
    stomp_error,
    tls_verification_failed,
)

# (scheme, host, port), scheme "stomp" (plain TCP) or "stomp+ssl" (TLS).
StompAddress = tuple[str, str, int]
SCHEMES = ("stomp", "stomp+ssl")
# What CONNECT offers; the broker picks one. stomp.py's 1.2 header escaping is also valid 1.1 for the
# headers sent here (no carriage returns).
ACCEPTED_VERSIONS = "1.1,1.2"
# A pooled connection unused for longer is closed rather than reused: without heart-beats a connection
# silently dropped by a firewall would only show as a missing receipt.
IDLE_SECONDS = 30.0
IDLE_CONNECTIONS_PER_KEY = 2
MAX_POOL_KEYS = 32
# How long close() waits for brokers to acknowledge DISCONNECT before dropping the connections.
CLOSE_GRACE_SECONDS = 1.0
RECEIVE_BYTES = 16384
# Characters that would end a header line or a frame: refused in unescaped CONNECT headers.
FRAME_BREAKERS = ("\n", "\r", "\0")


class _TlsHandshakeFailed(Exception):
    """The broker's certificate or TLS handshake was refused."""


class _TimedOut(Exception):
    """The attempt's time ran out before the broker answered."""


class _Refused(Exception):
    """An attempt that ends before any SEND, with its error detail and the broker's answer if any."""

    def __init__(self, detail: str, answer: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.answer = answer


class _PinnedTransport(stomp.transport.Transport):  # type: ignore[misc]
    """stomp.py's transport, connected to one vetted address, with TLS verified for the broker's host name."""

    def __init__(
        self,
        *,
        address: IPAddress,
        port: int,
        hostname: str,
        tls_context: ssl.SSLContext | None,
        virtual_host: str,
        connect_deadline: float,
    ) -> None:
        super().__init__(
            host_and_ports=[(str(address), port)],
            # stomp.py would otherwise add 127.0.0.1 for a name it takes for this machine.
            prefer_localhost=False,
            try_loopback_connect=False,
            reconnect_attempts_max=1,
            vhost=virtual_host,
            auto_decode=False,
        )
        self._address = address
        self._port = port
        self._hostname = hostname
        self._tls_context = tls_context
        self._connect_deadline = connect_deadline

    def attempt_connection(self) -> None:
        """Connect to the pinned address (and TLS handshake) by the connect deadline, then go non-blocking."""
        sock = socket.create_connection((str(self._address), self._port), timeout=self._time_left())
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls_context is not None:
                sock.settimeout(self._time_left())
                try:
                    sock = self._tls_context.wrap_socket(sock, server_hostname=self._hostname)
                except ssl.SSLError as exc:
                    raise _TlsHandshakeFailed(reason_of(exc)) from exc
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        # What stomp.py's own TLS branch sets up: its I/O thread then does all reading and writing.
        self.send_queue = stomp.utils.PollableQueue()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.send_queue, selectors.EVENT_READ)
        self.sel.register(sock, selectors.EVENT_READ)
        self.blocking = False
        self.socket = sock
        self.current_host_and_port = (str(self._address), self._port)

    def receive(self) -> bytes | None:
        """What the socket has; None when nothing yet, b"" at its end (which also stops the I/O thread)."""
        sock = self.socket
        if sock is None:
            data = b""
        else:
            try:
                data = sock.recv(RECEIVE_BYTES)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return None
            except (OSError, ValueError):
                # ValueError: the TLS layer was already shut down by abort().
                data = b""
        if not data:
            # stomp.py's non-blocking read loop does not stop at the end of the stream by itself.
            self.running = False
        return data

    def abort(self) -> None:
        """End the connection now; the I/O thread sees the end of the stream and cleans up."""
        sock = self.socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _time_left(self) -> float:
        left = self._connect_deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


class _BrokerEvents(stomp.listener.ConnectionListener):  # type: ignore[misc]
    """What a connection's broker has said so far, for a sender waiting with a deadline."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.connected_version: str | None = None
        self.receipts: set[str] = set()
        self.error: Any = None
        self.closed = False

    def on_connected(self, frame: Any) -> None:
        with self._changed:
            # A broker that ignores accept-version speaks 1.0 and answers without a version.
            self.connected_version = frame.headers.get("version", "1.0")
            self._changed.notify_all()

    def on_receipt(self, frame: Any) -> None:
        with self._changed:
            self.receipts.add(frame.headers.get("receipt-id", ""))
            self._changed.notify_all()

    def on_error(self, frame: Any) -> None:
        with self._changed:
            if self.error is None:
                self.error = frame
            self._changed.notify_all()

    def on_disconnected(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def has_connected(self) -> bool:
        """Whether CONNECTED has arrived."""
        return self.connected_version is not None

    def take_receipt(self, receipt: str) -> bool:
        """Whether the receipt `receipt` has arrived (it is then forgotten)."""
        with self._changed:
            if receipt in self.receipts:
                self.receipts.discard(receipt)
                return True
            return False

    def wait_until(self, settled: Callable[[], bool], deadline: float) -> bool:
        """Wait until `settled()` holds, the broker errs or the connection ends, or the deadline passes."""
        with self._changed:
            return self._changed.wait_for(
                lambda: settled() or self.error is not None or self.closed,
                timeout=max(deadline - time.monotonic(), 0.0),
            )


class _Protocol(stomp.protocol.Protocol12):  # type: ignore[misc]
    """stomp.py's STOMP 1.2 protocol over a transport of ours (its Connection12 would build its own)."""

    def __init__(self, transport: _PinnedTransport) -> None:
        super().__init__(transport)
        # Protocol12 puts its version in accept-version; 1.1 brokers are accepted too.
        self.version = ACCEPTED_VERSIONS

    def set_receipt(self, receipt_id: str, value: Any) -> None:
        """What stomp.py's connection classes provide to the protocol for DISCONNECT receipts."""
        self.transport.set_receipt(receipt_id, value)


class _BrokerConnection:
    """One STOMP session with a broker, at one vetted address."""

    def __init__(self, transport: _PinnedTransport, hostname: str, port: int, address: IPAddress) -> None:
        self.transport = transport
        self.events = _BrokerEvents()
        self.protocol = _Protocol(transport)
        transport.set_listener("delivery-events", self.events)
        self.hostname = hostname
        self.port = port
        self.address = address
        self.last_used = time.monotonic()

    def usable(self) -> bool:
        """Connected, and nothing has gone wrong on it."""
        return (
            self.events.connected_version is not None
            and self.events.error is None
            and not self.events.closed
            and self.transport.is_connected()
        )

    def close(self) -> None:
        """Drop the connection."""
        self.transport.abort()


_PoolKey = tuple[tuple[StompAddress, ...], str | None, str | None, str | None]


class StompSender:
    """Sends STOMP messages, waiting for the broker's receipt; keeps idle sessions per broker and login."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._tls_context = verifying_tls_context(tls_context)
        self._resolver = Resolver()
        self._idle: OrderedDict[_PoolKey, list[_BrokerConnection]] = OrderedDict()
        self._lock = threading.Lock()

    def send(
        self,
        addresses: Sequence[StompAddress],
        *,
        destination: str,
        body: bytes,
        headers: Mapping[str, str],
        receipt: str,
        login: str | None,
        passcode: str | None,
        virtual_host: str | None,
        vet: DestinationVetter,
        timeout: float = 10.0,
    ) -> AttemptOutcome:
        """SEND `body` to `destination` persistently; a success once the broker's RECEIPT arrives."""
        started = time.monotonic()
        deadline = started + timeout
        for scheme, _host, _port in addresses:
            if scheme not in SCHEMES:
                raise ValueError(f"not a STOMP scheme: {scheme!r}")
        for value in (login, passcode, virtual_host):
            if value is not None and any(breaker in value for breaker in FRAME_BREAKERS):
                raise ValueError("login, passcode and virtual host must be single-line")
        key: _PoolKey = (tuple(addresses), login, passcode, virtual_host)
        frame_headers = {**headers, "persistent": "true", "receipt": receipt}

        def outcome(detail: str, answer: str = "") -> AttemptOutcome:
            return failed(detail, started=started, now=time.monotonic(), body=answer)

        try:
            pooled = self._take_idle(key)
            if pooled is not None:
                if self._may_reuse(pooled, vet, deadline):
                    sent = self._send_on(pooled, destination, body, frame_headers, receipt, deadline)
                    # A session that the broker had ended while it sat idle: once more, on a new connection.
                    if sent is not None:
                        return self._finish(key, pooled, sent, started=started, timeout=timeout)
                pooled.close()
            connection = self._connect(
                addresses,
                login=login,
                passcode=passcode,
                virtual_host=virtual_host,
                vet=vet,
                deadline=deadline,
            )
        except _Refused as refusal:
            return outcome(refusal.detail, refusal.answer)
        except (ResolutionTimedOut, _TimedOut):
            return outcome(no_receipt_within(timeout))
        sent = self._send_on(connection, destination, body, frame_headers, receipt, deadline)
        return self._finish(key, connection, sent, started=started, timeout=timeout)

    def close(self) -> None:
        """DISCONNECT every idle session, waiting briefly for the brokers, then drop them."""
        with self._lock:
            connections = [connection for idle in self._idle.values() for connection in idle]
            self._idle.clear()
        for connection in connections:
            # The connection is dropped below whatever goes wrong here.
            with contextlib.suppress(Exception):
                connection.protocol.disconnect()
        grace_ends = time.monotonic() + CLOSE_GRACE_SECONDS
        for connection in connections:
            connection.events.wait_until(lambda: False, grace_ends)
            connection.close()
        self._resolver.close()

    def __enter__(self) -> StompSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connect(
        self,
        addresses: Sequence[StompAddress],
        *,
        login: str | None,
        passcode: str | None,
        virtual_host: str | None,
        vet: DestinationVetter,
        deadline: float,
    ) -> _BrokerConnection:
        """A CONNECTED session with the first address (in order) that takes one; _Refused otherwise."""
        unreachable: list[str] = []
        tls_failures = 0
        for index, (scheme, host, port) in enumerate(addresses):
            try:
                resolved = self._resolver.resolve(host, port, deadline)
            except ResolutionFailed as exc:
                unreachable.append(str(exc))
                continue
            allowed, refusal = vet(host, port, resolved)
            if not allowed:
                raise _Refused(refusal)
            for address in resolved:
                where = f"{scheme}://{host}:{port} ({endpoint(address, port)})"
                # An equal share of the time left for each address's connect and handshake.
                share = max(deadline - time.monotonic(), 0.0) / (len(addresses) - index)
                transport = _PinnedTransport(
                    address=address,
                    port=port,
                    hostname=host,
                    tls_context=self._tls_context if scheme == "stomp+ssl" else None,
                    virtual_host=virtual_host or host,
                    connect_deadline=min(time.monotonic() + share, deadline),
                )
                connection = _BrokerConnection(transport, host, port, address)
                try:
                    transport.start()
                except _TlsHandshakeFailed as exc:
                    unreachable.append(f"{where}: {exc}")
                    tls_failures += 1
                    continue
                except OSError as exc:
                    unreachable.append(f"{where}: {reason_of(exc)}")
                    continue
                events = connection.events
                connection.protocol.connect(login, passcode, wait=False)
                events.wait_until(events.has_connected, deadline)
                if events.error is not None:
                    connection.close()
                    raise _Refused(*_error_texts(events.error))
                if events.connected_version in ("1.1", "1.2") and connection.usable():
                    return connection
                # Read before closing: our own close ends the stream too, and is no sign of the broker's.
                closed_by_broker = events.closed
                connection.close()
                if events.connected_version is not None:
                    raise _Refused(could_not_connect(f"{where}: the broker speaks STOMP 1.0 only"))
                if not closed_by_broker:
                    raise _TimedOut
                unreachable.append(f"{where}: the broker closed the connection")
        if unreachable and tls_failures == len(unreachable):
            raise _Refused(tls_verification_failed("; ".join(unreachable)))
        raise _Refused(could_not_connect("; ".join(unreachable)))

    def _may_reuse(self, connection: _BrokerConnection, vet: DestinationVetter, deadline: float) -> bool:
        """Whether a pooled session's host still resolves to its address, all addresses passing `vet`."""
        try:
            resolved = self._resolver.resolve(connection.hostname, connection.port, deadline)
        except ResolutionFailed:
            return False
        except ResolutionTimedOut:
            connection.close()
            raise
        allowed, refusal = vet(connection.hostname, connection.port, resolved)
        if not allowed:
            connection.close()
            raise _Refused(refusal)
        return connection.address in resolved

    def _send_on(
        self,
        connection: _BrokerConnection,
        destination: str,
        body: bytes,
        headers: dict[str, str],
        receipt: str,
        deadline: float,
    ) -> bool | None:
        """True on its receipt, False on ERROR or at the deadline, None if the session ended."""
        try:
            connection.protocol.send(destination, body, headers=dict(headers))
        except Exception:
            # The session ended under us (stomp.py has torn its send queue down).
            return None
        events = connection.events
        events.wait_until(lambda: receipt in events.receipts, deadline)
        if events.take_receipt(receipt):
            return True
        if events.error is None and events.closed:
            return None
        return False

    def _finish(
        self,
        key: _PoolKey,
        connection: _BrokerConnection,
        sent: bool | None,
        *,
        started: float,
        timeout: float,
    ) -> AttemptOutcome:
        """The outcome of a SEND; a session that took it goes back to the pool, any other is dropped."""
        now = time.monotonic()
        if sent:
            self._give_back(key, connection)
            return AttemptOutcome(
                succeeded=True,
                status_code=0,
                body="",
                error_detail="",
                retry_after=None,
                gone=False,
                processing_time=elapsed(started, now),
            )
        connection.close()
        error = connection.events.error
        if error is not None:
            detail, answer = _error_texts(error)
            return failed(detail, started=started, now=now, body=answer)
        if sent is None:
            where = (
                f"{connection.hostname}:{connection.port} ({endpoint(connection.address, connection.port)})"
            )
            return failed(
                could_not_connect(f"{where}: the broker closed the connection"), started=started, now=now
            )
        return failed(no_receipt_within(timeout), started=started, now=now)

    def _take_idle(self, key: _PoolKey) -> _BrokerConnection | None:
        """A pooled session for `key` that is still open and was used recently; stale ones are dropped."""
        stale: list[_BrokerConnection] = []
        found = None
        with self._lock:
            idle = self._idle.get(key, [])
            while idle and found is None:
                connection = idle.pop()
                if connection.usable() and time.monotonic() - connection.last_used < IDLE_SECONDS:
                    found = connection
                else:
                    stale.append(connection)
        for connection in stale:
            connection.close()
        return found

    def _give_back(self, key: _PoolKey, connection: _BrokerConnection) -> None:
        """Pool a session that just worked; beyond the limits the oldest are dropped."""
        connection.last_used = time.monotonic()
        dropped: list[_BrokerConnection] = []
        with self._lock:
            idle = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            idle.append(connection)
            while len(idle) > IDLE_CONNECTIONS_PER_KEY:
                dropped.append(idle.pop(0))
            while len(self._idle) > MAX_POOL_KEYS:
                _, oldest = self._idle.popitem(last=False)
                dropped.extend(oldest)
        for old in dropped:
            old.close()


def _error_texts(frame: Any) -> tuple[str, str]:
    """The error detail and the logged body of an ERROR frame: its message header, then its body."""
    message = str(frame.headers.get("message", ""))
    body = bytes(frame.body or b"").rstrip(b"\r\n")
    answer = answer_text(message.encode() + (b"\n" + body if message and body else body))
    return stomp_error(message or answer.partition("\n")[0]), answer
