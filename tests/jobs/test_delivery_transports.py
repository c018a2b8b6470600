"""The delivery transports against real receivers: HTTP(S) servers on 127.0.0.1 and RabbitMQ's STOMP."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any

import pytest
import stomp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from promoforge.jobs.delivery.outcome import AttemptOutcome
from promoforge.jobs.delivery.stomp import StompSender
from promoforge.jobs.delivery.webhook import WebhookSender
from support import wait_for

SHORT = 0.5
NON_2XX = "Received a status code outside of 2xx range - treating webhook as a fail"
WEBHOOK_HEADERS = [
    ("Content-Type", "application/json"),
    ("User-Agent", "PromoForge-Integrations/0.1.0"),
    ("X-MOLTIN-SECRET-KEY", "s3cr3t-shared-token"),
    ("X-MOLTIN-INTEGRATION-TRIGGER", "order.created"),
    ("webhook-id", "5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11"),
    ("webhook-timestamp", "1795428542"),
    ("webhook-signature", "v1,w+RxeQZDAt6q8r9Vrndl2HLE1fQdNaH5f2FGf6T9g98="),
]
BODY = '{"id":"5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11","triggered_by":"order.created","attempt":1,"name":"Ünï"}'
RABBITMQ_STOMP = ("127.0.0.1", 61613)

Address = IPv4Address | IPv6Address


class Vets:
    """A `vet` callable that allows (or refuses) everything and remembers what it was asked."""

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal
        self.calls: list[tuple[str, int, list[Address]]] = []

    def __call__(self, host: str, port: int, addresses: list[Address]) -> tuple[bool, str]:
        self.calls.append((host, port, list(addresses)))
        return (self.refusal is None, self.refusal or "")


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- certificates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """A test CA with a server certificate for `localhost`, and a self-signed one; as PEM files."""

    ca_pem: bytes
    server_chain: Path
    server_key: Path
    self_signed_chain: Path
    self_signed_key: Path


def _certificate(
    name: str, key: ec.EllipticCurvePrivateKey, *, issuer: tuple[x509.Name, Any] | None, ca: bool
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    chain, key_file = path.with_suffix(".crt"), path.with_suffix(".key")
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return chain, key_file


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("certificates")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("PromoForge test CA", ca_key, issuer=None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate("localhost", server_key, issuer=(ca.subject, ca_key), ca=False)
    lone_key = ec.generate_private_key(ec.SECP256R1())
    lone = _certificate("localhost", lone_key, issuer=None, ca=False)
    server_chain, server_key_file = _write(folder / "server", server, server_key)
    lone_chain, lone_key_file = _write(folder / "self-signed", lone, lone_key)
    return Certificates(
        ca.public_bytes(serialization.Encoding.PEM), server_chain, server_key_file, lone_chain, lone_key_file
    )


def trusting(certificates: Certificates) -> ssl.SSLContext:
    """A client context that trusts the test CA (and verifies certificates and host names as usual)."""
    return ssl.create_default_context(cadata=certificates.ca_pem.decode())


def server_context(chain: Path, key: Path, server_names: list[str] | None = None) -> ssl.SSLContext:
    """A server context presenting `chain`; the SNI names clients send are appended to `server_names`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    if server_names is not None:

        def remember(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
            server_names.append(name or "")

        context.sni_callback = remember
    return context


# --- HTTP receivers -------------------------------------------------------------------------------------


@dataclass
class Received:
    """One request as the receiver read it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


Answer = Callable[[BaseHTTPRequestHandler, "Receiver"], None]


def respond(status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """An answer with `status`, `body` and `headers`."""

    def answer(handler: BaseHTTPRequestHandler, _receiver: Receiver) -> None:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def never_answer(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
    """Read the request, then say nothing until the test ends."""
    receiver.stopping.wait(10)


def drip_headers(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
    """Send the response head a byte every 0.1 s, as a receiver stretching out an attempt would."""
    with contextlib.suppress(OSError):
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 100:
            if receiver.stopping.wait(0.1):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()


def stream_forever(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
    """Answer 200 with a body of 10 GiB, written until the client goes away."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(10 * 1024**3))
    handler.end_headers()
    chunk = b"x" * 65536
    try:
        while not receiver.stopping.is_set():
            handler.wfile.write(chunk)
            receiver.streamed += len(chunk)
    except OSError:
        receiver.stream_broken.set()


@dataclass
class Receiver:
    """A real HTTP/1.1 server on 127.0.0.1 in a thread; each path answers as the test says."""

    tls: ssl.SSLContext | None = None
    ipv6: bool = False
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    streamed: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    stream_broken: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(Received("POST", self.path, list(self.headers.items()), body))
                receiver.answers.get(self.path, respond(404, b"no such path"))(self, receiver)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                receiver.connections += 1
                return True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        if self.ipv6:
            Server.address_family = socket.AF_INET6
        self.server = Server(("::1" if self.ipv6 else "127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(tls: ssl.SSLContext | None = None, *, ipv6: bool = False) -> Receiver:
        started.append(Receiver(tls, ipv6))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(receivers: Callable[..., Receiver]) -> Receiver:
    return receivers()


@pytest.fixture
def webhooks() -> Iterator[WebhookSender]:
    with WebhookSender() as sender:
        yield sender


def post(sender: WebhookSender, url: str, *, vet: Vets | None = None, timeout: float = 5.0) -> AttemptOutcome:
    return sender.send(url, BODY.encode(), WEBHOOK_HEADERS, vet=vet or Vets(), timeout=timeout)


# --- webhook tests --------------------------------------------------------------------------------------


def test_a_2xx_answer_succeeds_and_the_receiver_gets_exactly_the_body_and_headers(
    webhooks: WebhookSender, receiver: Receiver
) -> None:
    receiver.answers["/hooks/ep?x=1"] = respond(202, "accepted ✓".encode())
    vet = Vets()

    outcome = post(webhooks, receiver.url("/hooks/ep?x=1"), vet=vet)

    assert outcome == AttemptOutcome(
        succeeded=True,
        status_code=202,
        body="accepted ✓",
        error_detail="",
        retry_after=None,
        gone=False,
        processing_time=outcome.processing_time,
    )
    assert 0 < outcome.processing_time < 2 and round(outcome.processing_time, 4) == outcome.processing_time
    assert vet.calls == [("127.0.0.1", receiver.port, [ip_address("127.0.0.1")])]
    (request,) = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/hooks/ep?x=1", BODY.encode())
    assert request.headers == [
        ("Host", f"127.0.0.1:{receiver.port}"),
        *WEBHOOK_HEADERS,
        ("Content-Length", str(len(BODY.encode()))),
    ]


def test_an_ipv6_literal_is_connected_to_as_it_is(
    webhooks: WebhookSender, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers(ipv6=True)
    receiver.answers["/"] = respond(200)
    vet = Vets()

    outcome = post(webhooks, receiver.url("/", host="[::1]"), vet=vet)

    assert outcome.succeeded, outcome
    assert vet.calls == [("::1", receiver.port, [ip_address("::1")])]
    assert dict(receiver.requests[0].headers)["Host"] == f"[::1]:{receiver.port}"


def test_connections_are_kept_alive_between_attempts(webhooks: WebhookSender, receiver: Receiver) -> None:
    receiver.answers["/"] = respond(204)

    assert [post(webhooks, receiver.url("/")).status_code for _ in range(3)] == [204, 204, 204]
    assert receiver.connections == 1


def test_a_500_answer_fails_with_its_body(webhooks: WebhookSender, receiver: Receiver) -> None:
    receiver.answers["/"] = respond(500, b"Internal \xff error", (("Retry-After", "30"),))

    outcome = post(webhooks, receiver.url("/"))

    assert (outcome.succeeded, outcome.status_code, outcome.error_detail) == (False, 500, NON_2XX)
    assert outcome.body == "Internal \ufffd error"
    assert (outcome.retry_after, outcome.gone) == (None, False)


def test_a_redirect_fails_and_is_not_followed(
    webhooks: WebhookSender, receivers: Callable[..., Receiver]
) -> None:
    first, target = receivers(), receivers()
    target.answers["/elsewhere"] = respond(200)
    first.answers["/"] = respond(307, b"moved", (("Location", target.url("/elsewhere")),))

    outcome = post(webhooks, first.url("/"))

    assert (outcome.succeeded, outcome.status_code, outcome.error_detail) == (False, 307, NON_2XX)
    assert len(first.requests) == 1
    assert (target.connections, target.requests) == (0, [])


def test_410_gone_fails_for_good(webhooks: WebhookSender, receiver: Receiver) -> None:
    receiver.answers["/"] = respond(410, b"unsubscribed")

    outcome = post(webhooks, receiver.url("/"))

    assert (outcome.succeeded, outcome.status_code, outcome.gone) == (False, 410, True)
    assert outcome.error_detail == "Receiver answered 410 Gone - no more retries for this job"
    assert outcome.body == "unsubscribed"


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, "120"), (503, "Wed, 21 Oct 2026 07:28:00 GMT")], ids=["429", "503"]
)
def test_429_and_503_carry_their_retry_after(
    webhooks: WebhookSender, receiver: Receiver, status: int, retry_after: str
) -> None:
    receiver.answers["/"] = respond(status, b"slow down", (("Retry-After", retry_after),))

    outcome = post(webhooks, receiver.url("/"))

    assert (outcome.succeeded, outcome.status_code, outcome.error_detail) == (False, status, NON_2XX)
    assert (outcome.retry_after, outcome.gone) == (retry_after, False)


def test_a_receiver_that_never_answers_times_out(webhooks: WebhookSender, receiver: Receiver) -> None:
    receiver.answers["/"] = never_answer

    outcome = post(webhooks, receiver.url("/"), timeout=SHORT)

    assert outcome.error_detail == "No response within 0.5 seconds - treating webhook as a fail"
    assert (outcome.succeeded, outcome.status_code, outcome.body) == (False, 0, "")
    assert SHORT <= outcome.processing_time < SHORT + 0.5
    assert len(receiver.requests) == 1


def test_the_timeout_bounds_the_whole_attempt_not_each_read(
    webhooks: WebhookSender, receiver: Receiver
) -> None:
    receiver.answers["/"] = drip_headers

    outcome = post(webhooks, receiver.url("/"), timeout=SHORT)

    assert outcome.error_detail == "No response within 0.5 seconds - treating webhook as a fail"
    assert SHORT <= outcome.processing_time < SHORT + 0.5


def test_of_a_huge_answer_only_2_kib_is_read(webhooks: WebhookSender, receiver: Receiver) -> None:
    receiver.answers["/"] = stream_forever

    outcome = post(webhooks, receiver.url("/"), timeout=5.0)

    assert (outcome.succeeded, outcome.status_code, outcome.body) == (True, 200, "x" * 2048)
    assert outcome.processing_time < 1.0
    # The connection is closed rather than drained: the receiver's writes fail soon after.
    wait_for(receiver.stream_broken.is_set, timeout=5)
    assert receiver.streamed < 64 * 1024**2


def test_a_refused_connection_fails(webhooks: WebhookSender) -> None:
    port = closed_port()

    outcome = post(webhooks, f"http://127.0.0.1:{port}/")

    assert outcome.error_detail == f"Could not connect: 127.0.0.1:{port}: Connection refused"
    assert (outcome.succeeded, outcome.status_code, outcome.body) == (False, 0, "")


def test_a_host_that_does_not_resolve_fails(webhooks: WebhookSender) -> None:
    outcome = post(webhooks, "https://no-such-host.invalid/hooks")

    assert outcome.error_detail.startswith("Could not connect: no-such-host.invalid does not resolve")
    assert (outcome.succeeded, outcome.status_code) == (False, 0)


def test_a_refused_destination_gets_nothing(webhooks: WebhookSender, receiver: Receiver) -> None:
    refusal = "Destination refused: localhost resolves to non-public address 127.0.0.1"
    vet = Vets(refusal)

    outcome = post(webhooks, receiver.url("/", host="localhost"), vet=vet)

    assert outcome.error_detail == refusal
    assert (outcome.succeeded, outcome.status_code, outcome.body) == (False, 0, "")
    assert vet.calls == [("localhost", receiver.port, [ip_address("127.0.0.1")])]
    assert (receiver.connections, receiver.requests) == (0, [])


def test_https_connects_to_the_vetted_address_and_verifies_the_host_name(
    receivers: Callable[..., Receiver], certificates: Certificates
) -> None:
    server_names: list[str] = []
    receiver = receivers(server_context(certificates.server_chain, certificates.server_key, server_names))
    receiver.answers["/"] = respond(200, b"ok")

    with WebhookSender(tls_context=trusting(certificates)) as sender:
        outcome = post(sender, receiver.url("/", host="localhost"))
        # The certificate names localhost, not the address connected to.
        by_address = post(sender, receiver.url("/"))

    assert (outcome.succeeded, outcome.body) == (True, "ok")
    assert server_names[0] == "localhost"
    assert dict(receiver.requests[0].headers)["Host"] == f"localhost:{receiver.port}"
    assert by_address.error_detail.startswith(f"TLS verification failed: 127.0.0.1:{receiver.port}: ")
    assert "mismatch" in by_address.error_detail
    assert len(receiver.requests) == 1


def test_https_refuses_a_self_signed_certificate(
    webhooks: WebhookSender, receivers: Callable[..., Receiver], certificates: Certificates
) -> None:
    receiver = receivers(server_context(certificates.self_signed_chain, certificates.self_signed_key))
    receiver.answers["/"] = respond(200)

    outcome = post(webhooks, receiver.url("/", host="localhost"))

    assert outcome.error_detail.startswith("TLS verification failed: ")
    assert "self-signed certificate" in outcome.error_detail
    assert (outcome.succeeded, outcome.status_code) == (False, 0)
    assert receiver.requests == []


# --- STOMP ----------------------------------------------------------------------------------------------


def rabbitmq_listens() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(RABBITMQ_STOMP, timeout=1):
        return True
    return False


needs_rabbitmq = pytest.mark.skipif(not rabbitmq_listens(), reason="nothing listens on 127.0.0.1:61613")

# RabbitMQ declares a /queue/ destination on SEND as well as on SUBSCRIBE, with the same arguments: both
# name an expiry so that each test's queue goes away by itself.
QUEUE_HEADERS = {"x-expires": "30000"}
MESSAGE_HEADERS = {
    "content-type": "application/cloudevents+json; charset=utf-8",
    "x-moltin-integration-trigger": "promotion-code.exhausted",
    **QUEUE_HEADERS,
}


class Messages(stomp.ConnectionListener):  # type: ignore[misc]
    """Collects what a subscriber receives, and its receipts."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.receipts: list[str] = []

    def on_message(self, frame: Any) -> None:
        self.frames.append(frame)

    def on_receipt(self, frame: Any) -> None:
        self.receipts.append(frame.headers["receipt-id"])


@pytest.fixture
def queue() -> Iterator[tuple[str, Messages]]:
    """A unique /queue/ destination with a subscriber on it."""
    destination = f"/queue/promoforge-test-{uuid.uuid4().hex}"
    messages = Messages()
    subscriber = stomp.Connection12([RABBITMQ_STOMP], vhost="/", auto_decode=False)
    subscriber.set_listener("messages", messages)
    subscriber.connect("guest", "guest", wait=True)
    subscriber.subscribe(destination, id="1", headers={**QUEUE_HEADERS, "receipt": "subscribed"})
    wait_for(lambda: "subscribed" in messages.receipts, timeout=5)
    yield destination, messages
    subscriber.disconnect()


@pytest.fixture
def stomp_sender() -> Iterator[StompSender]:
    with StompSender() as sender:
        yield sender


def stomp_send(
    sender: StompSender,
    addresses: list[tuple[str, str, int]],
    destination: str = "/queue/unused",
    *,
    passcode: str = "guest",
    virtual_host: str | None = "/",
    vet: Vets | None = None,
    receipt: str | None = None,
    timeout: float = 5.0,
) -> AttemptOutcome:
    return sender.send(
        addresses,
        destination=destination,
        body=BODY.encode(),
        headers=MESSAGE_HEADERS,
        receipt=receipt or f"{uuid.uuid4()}:1",
        login="guest",
        passcode=passcode,
        virtual_host=virtual_host,
        vet=vet or Vets(),
        timeout=timeout,
    )


BROKER = ("stomp", *RABBITMQ_STOMP)


@needs_rabbitmq
def test_stomp_send_succeeds_on_the_brokers_receipt(
    stomp_sender: StompSender, queue: tuple[str, Messages]
) -> None:
    destination, messages = queue
    vet = Vets()
    receipt = f"{uuid.uuid4()}:1"

    outcome = stomp_send(stomp_sender, [BROKER], destination, vet=vet, receipt=receipt)

    assert outcome == AttemptOutcome(True, 0, "", "", None, False, outcome.processing_time)
    assert vet.calls == [("127.0.0.1", 61613, [ip_address("127.0.0.1")])]
    wait_for(lambda: len(messages.frames) == 1, timeout=5)
    (message,) = messages.frames
    assert message.body == BODY.encode()
    assert {name: message.headers.get(name) for name in [*MESSAGE_HEADERS, "persistent", "destination"]} == {
        **MESSAGE_HEADERS,
        "persistent": "true",
        "destination": destination,
    }
    assert message.headers["receipt"] == receipt


@needs_rabbitmq
def test_stomp_sessions_are_reused_and_replaced_after_an_error(
    stomp_sender: StompSender, queue: tuple[str, Messages]
) -> None:
    destination, messages = queue

    assert stomp_send(stomp_sender, [BROKER], destination).succeeded
    assert stomp_send(stomp_sender, [BROKER], destination).succeeded
    refused = stomp_send(stomp_sender, [BROKER], "/no-such-kind/of-destination")
    assert refused.error_detail == "STOMP broker returned ERROR: Unknown destination"
    assert refused.body.startswith("Unknown destination\n'/no-such-kind/of-destination' is not a valid")
    assert stomp_send(stomp_sender, [BROKER], destination).succeeded
    wait_for(lambda: len(messages.frames) == 3, timeout=5)


@needs_rabbitmq
def test_stomp_a_wrong_password_fails_with_the_brokers_error(stomp_sender: StompSender) -> None:
    outcome = stomp_send(stomp_sender, [BROKER], passcode="wrong")

    assert outcome.error_detail == "STOMP broker returned ERROR: Bad CONNECT"
    assert outcome.body == "Bad CONNECT\nAccess refused for user 'guest'"
    assert (outcome.succeeded, outcome.status_code) == (False, 0)


@needs_rabbitmq
def test_stomp_fails_over_to_the_next_address(stomp_sender: StompSender, queue: tuple[str, Messages]) -> None:
    destination, messages = queue
    vet = Vets()
    down = closed_port()

    outcome = stomp_send(stomp_sender, [("stomp", "127.0.0.1", down), BROKER], destination, vet=vet)

    assert outcome.succeeded, outcome
    assert [port for _, port, _ in vet.calls] == [down, 61613]
    wait_for(lambda: len(messages.frames) == 1, timeout=5)


def test_stomp_fails_when_no_address_takes_a_connection(stomp_sender: StompSender) -> None:
    first, second = closed_port(), closed_port()

    outcome = stomp_send(stomp_sender, [("stomp", "127.0.0.1", first), ("stomp", "127.0.0.1", second)])

    assert outcome.error_detail == (
        f"Could not connect: stomp://127.0.0.1:{first} (127.0.0.1:{first}): Connection refused; "
        f"stomp://127.0.0.1:{second} (127.0.0.1:{second}): Connection refused"
    )
    assert (outcome.succeeded, outcome.status_code) == (False, 0)


@pytest.fixture
def silent_listener() -> Iterator[socket.socket]:
    """A socket that listens and never accepts: connects succeed (the kernel's backlog), nothing answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener


def test_stomp_a_refused_destination_is_never_connected_to(
    stomp_sender: StompSender, silent_listener: socket.socket
) -> None:
    port = silent_listener.getsockname()[1]
    refusal = "Destination refused: broker.local resolves to non-public address 127.0.0.1"

    outcome = stomp_send(stomp_sender, [("stomp", "127.0.0.1", port)], vet=Vets(refusal))

    assert (outcome.succeeded, outcome.error_detail, outcome.body) == (False, refusal, "")
    with pytest.raises(BlockingIOError):
        silent_listener.accept()


def test_stomp_a_broker_that_never_answers_times_out(
    stomp_sender: StompSender, silent_listener: socket.socket
) -> None:
    port = silent_listener.getsockname()[1]

    outcome = stomp_send(stomp_sender, [("stomp", "127.0.0.1", port)], timeout=SHORT)

    assert outcome.error_detail == "No STOMP receipt within 0.5 seconds"
    assert SHORT <= outcome.processing_time < SHORT + 0.5


class FakeTlsBroker:
    """A minimal STOMP 1.2 broker over TLS: CONNECTED to any CONNECT, a RECEIPT for any SEND but to
    /refuse, which gets an ERROR (the connection staying open, as RabbitMQ leaves it)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.frames: list[bytes] = []
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                plain, _ = self.listener.accept()
                self.connections += 1
                threading.Thread(target=self._converse, args=(plain,), daemon=True).start()

    def _converse(self, plain: socket.socket) -> None:
        with contextlib.suppress(OSError), self.context.wrap_socket(plain, server_side=True) as conn:
            self._answer(conn)

    def _answer(self, conn: ssl.SSLSocket) -> None:
        buffered = b""
        while chunk := conn.recv(65536):
            buffered += chunk
            while b"\0" in buffered:
                frame, _, buffered = buffered.partition(b"\0")
                frame = frame.lstrip(b"\r\n")
                self.frames.append(frame)
                command, *lines = frame.split(b"\n\n", 1)[0].split(b"\n")
                headers = dict(line.split(b":", 1) for line in lines)
                if command in (b"CONNECT", b"STOMP"):
                    conn.sendall(b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0")
                elif headers.get(b"destination") == b"/refuse":
                    conn.sendall(b"ERROR\nmessage:Refused\ncontent-length:13\n\nNot for you.\n\0")
                elif b"receipt" in headers:
                    conn.sendall(b"RECEIPT\nreceipt-id:" + headers[b"receipt"] + b"\n\n\0")

    def close(self) -> None:
        self.listener.close()


def test_stomp_over_tls_verifies_the_brokers_host_name(certificates: Certificates) -> None:
    server_names: list[str] = []
    broker = FakeTlsBroker(server_context(certificates.server_chain, certificates.server_key, server_names))
    try:
        with StompSender(tls_context=trusting(certificates)) as sender:
            outcome = stomp_send(sender, [("stomp+ssl", "localhost", broker.port)], virtual_host=None)
            by_address = stomp_send(sender, [("stomp+ssl", "127.0.0.1", broker.port)])
    finally:
        broker.close()

    assert outcome.succeeded, outcome
    assert server_names[0] == "localhost"
    connect, send = broker.frames[:2]
    assert connect.startswith(b"STOMP\n") and b"\nhost:localhost\n" in connect
    assert send.startswith(b"SEND\n") and send.endswith(b"\n\n" + BODY.encode())
    assert by_address.error_detail.startswith(
        f"TLS verification failed: stomp+ssl://127.0.0.1:{broker.port} (127.0.0.1:{broker.port}): "
    )
    assert "mismatch" in by_address.error_detail


def test_stomp_sessions_are_pooled_and_replaced_after_an_error_or_a_refusal(
    certificates: Certificates,
) -> None:
    broker = FakeTlsBroker(server_context(certificates.server_chain, certificates.server_key))
    refusal = "Destination refused: localhost resolves to non-public address 127.0.0.1"
    address = [("stomp+ssl", "localhost", broker.port)]
    try:
        with StompSender(tls_context=trusting(certificates)) as sender:
            first, second = stomp_send(sender, address), stomp_send(sender, address)
            assert broker.connections == 1
            error = stomp_send(sender, address, "/refuse")
            after_error = stomp_send(sender, address)
            assert broker.connections == 2
            refused = stomp_send(sender, address, vet=Vets(refusal))
            after_refusal = stomp_send(sender, address)
            assert broker.connections == 3
    finally:
        broker.close()

    assert first.succeeded and second.succeeded and after_error.succeeded and after_refusal.succeeded
    assert (error.succeeded, error.error_detail, error.body) == (
        False,
        "STOMP broker returned ERROR: Refused",
        "Refused\nNot for you.",
    )
    assert (refused.succeeded, refused.error_detail) == (False, refusal)


def test_stomp_over_tls_refuses_a_self_signed_certificate(
    stomp_sender: StompSender, certificates: Certificates
) -> None:
    broker = FakeTlsBroker(server_context(certificates.self_signed_chain, certificates.self_signed_key))
    try:
        outcome = stomp_send(stomp_sender, [("stomp+ssl", "localhost", broker.port)])
    finally:
        broker.close()

    assert outcome.error_detail.startswith("TLS verification failed: ")
    assert "self-signed certificate" in outcome.error_detail
    assert broker.frames == []


def test_stomp_a_tls_failure_then_a_working_address_succeeds(certificates: Certificates) -> None:
    untrusted = FakeTlsBroker(server_context(certificates.self_signed_chain, certificates.self_signed_key))
    trusted = FakeTlsBroker(server_context(certificates.server_chain, certificates.server_key))
    try:
        with StompSender(tls_context=trusting(certificates)) as sender:
            outcome = stomp_send(
                sender, [("stomp+ssl", "localhost", untrusted.port), ("stomp+ssl", "localhost", trusted.port)]
            )
    finally:
        untrusted.close()
        trusted.close()

    assert outcome.succeeded, outcome
    assert untrusted.frames == [] and len(trusted.frames) >= 2


def test_elapsed_time_is_measured_from_the_start_of_the_attempt(stomp_sender: StompSender) -> None:
    started = time.monotonic()
    outcome = stomp_send(stomp_sender, [("stomp", "127.0.0.1", closed_port())])
    assert 0 <= outcome.processing_time <= time.monotonic() - started
