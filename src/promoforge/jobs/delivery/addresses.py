"""Resolving a destination to every address it has, within an attempt's deadline, for vetting."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address, IPv6Address, ip_address

IPAddress = IPv4Address | IPv6Address

# vet(host, port, every resolved address) -> (allowed, refusal text); the refusal text is the log's error
# detail ("Destination refused: <host> resolves to non-public address <ip>").
DestinationVetter = Callable[[str, int, list[IPAddress]], tuple[bool, str]]


class ResolutionFailed(Exception):
    """The host has no address: the resolver said so, or it answered nothing usable."""


class ResolutionTimedOut(Exception):
    """The resolver had not answered when the attempt's time was up."""


class Resolver:
    """Looks host names up on threads of its own, so that a hanging lookup cannot outlast an attempt."""

    def __init__(self, threads: int = 8) -> None:
        self._lookups = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="delivery-dns")

    def resolve(self, host: str, port: int, deadline: float) -> list[IPAddress]:
        """Every A and AAAA address of `host` in the resolver's order (an IP literal as it is)."""
        try:
            return [ip_address(host)]
        except ValueError:
            pass
        lookup = self._lookups.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            answers = lookup.result(timeout=max(deadline - time.monotonic(), 0.0))
        except TimeoutError:
            lookup.cancel()
            raise ResolutionTimedOut(host) from None
        except (OSError, UnicodeError) as exc:
            raise ResolutionFailed(f"{host} does not resolve ({reason_of(exc)})") from exc
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            address = ip_address(str(sockaddr[0]).partition("%")[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise ResolutionFailed(f"{host} has no address")
        return addresses

    def close(self) -> None:
        """Stop taking lookups; one still hanging ends on its own."""
        self._lookups.shutdown(wait=False, cancel_futures=True)


def endpoint(address: IPAddress, port: int) -> str:
    """`192.0.2.1:443` or `[2001:db8::1]:443`."""
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def reason_of(exc: BaseException) -> str:
    """A short human reason for a network error: the OS's text when it has one."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return str(exc.verify_message)
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def verifying_tls_context(context: ssl.SSLContext | None) -> ssl.SSLContext:
    """`context`, or the system's default trust; refused unless it verifies certificates and host names."""
    if context is None:
        context = ssl.create_default_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError("a delivery TLS context must verify certificates and host names")
    return context
