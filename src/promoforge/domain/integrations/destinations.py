"""Where deliveries may go: the non-public address rule, local-only names and the store's allow-list of
private targets (integrations §8.1-8.3, D-I28, D-I29). Pure: the caller resolves names and passes the
addresses in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.messages import destination_refused
from promoforge.domain.integrations.validation import Problems, problem

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

MAX_PRIVATE_TARGETS = 50
MAX_HOSTNAME_CHARS = 253
# What a plain scheme must be replaced by when the target is not an allow-listed private one (§8.2).
TLS_SCHEME_FOR = {"http": "https", "stomp": "stomp+ssl"}

_UNSPECIFIED = "unspecified address"
_LINK_LOCAL = "link-local address"
_MULTICAST = "multicast address"

# The explicit table of §8.1; Python's `is_global` is only the catch-all after it (it calls multicast and
# some embedding prefixes global).
_REFUSED_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", _UNSPECIFIED),
        ("::/128", _UNSPECIFIED),
        ("127.0.0.0/8", "loopback address"),
        ("::1/128", "loopback address"),
        ("10.0.0.0/8", "private address"),
        ("172.16.0.0/12", "private address"),
        ("192.168.0.0/16", "private address"),
        ("fc00::/7", "unique local address"),
        ("100.64.0.0/10", "carrier-grade NAT address"),
        ("169.254.0.0/16", _LINK_LOCAL),
        ("fe80::/10", _LINK_LOCAL),
        ("192.0.0.0/24", "protocol assignment address"),
        ("192.0.2.0/24", "documentation address"),
        ("198.18.0.0/15", "benchmarking address"),
        ("198.51.100.0/24", "documentation address"),
        ("203.0.113.0/24", "documentation address"),
        ("2001:db8::/32", "documentation address"),
        ("100::/64", "discard address"),
        ("224.0.0.0/4", _MULTICAST),
        ("ff00::/8", _MULTICAST),
        ("240.0.0.0/4", "reserved address"),
        ("255.255.255.255/32", "broadcast address"),
        ("64:ff9b:1::/48", "local-use NAT64 address"),
    )
)
NEVER_OPENED_TEXT = "unspecified, link-local and multicast addresses are always refused"
# No allow-list entry ever opens these (§8.3).
_NEVER_OPENED = frozenset({_UNSPECIFIED, _LINK_LOCAL, _MULTICAST})
_NEVER_OPENED_NETWORKS = tuple(network for network, reason in _REFUSED_RANGES if reason in _NEVER_OPENED)
_NAT64 = IPv6Network("64:ff9b::/96")
_LOCAL_ONLY_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_BRACKETED = re.compile(r"\[([0-9a-fA-F:.]+)\](?::([0-9]{1,5}))?")


def normalize_host(host: str) -> str:
    """A host as compared with allow-list entries: lower case, no brackets or final dot, IPs compressed."""
    name = host.strip("[]").lower().removesuffix(".")
    try:
        return str(ip_address(name))
    except ValueError:
        return name


def is_hostname(host: str) -> bool:
    """Whether `host` is a DNS name (not an IP literal): dot-separated labels of letters, digits, `-`,
    `_`, the last one starting with a letter."""
    name = host.lower().removesuffix(".")
    if not name or len(name) > MAX_HOSTNAME_CHARS:
        return False
    labels = name.split(".")
    # A last label that starts with a digit is what inet_aton reads as a number ("127.1", "0x7f000001").
    if not labels[-1][:1].isalpha():
        return False
    return all(_LABEL.fullmatch(label) for label in labels)


def refused_hostname(host: str) -> bool:
    """Whether `host` is a local-only name refused unless allow-listed: localhost, *.localhost, *.local,
    *.internal, *.home.arpa (integrations §8.1)."""
    name = normalize_host(host)
    return name == "localhost" or name.endswith(_LOCAL_ONLY_SUFFIXES)


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96,
    6to4, or Teredo's server and client (integrations §8.1)."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    value = int(address)
    # `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible ones (RFC 4291).
    if 1 < value <= 0xFFFFFFFF or address in _NAT64:
        return (IPv4Address(value & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo
    return ()


def _own_refusal(address: IPAddress, *, catch_all: bool) -> str | None:
    for network, reason in _REFUSED_RANGES:
        if _holds(network, address):
            return reason
    if catch_all and not address.is_global:
        return "not globally routable"
    return None


def _refused_parts(address: IPAddress) -> list[tuple[IPAddress, str]]:
    """Each part of an address (itself, and any IPv4 it embeds) that the rule refuses, with the reason."""
    if isinstance(address, IPv4Address):
        reason = _own_refusal(address, catch_all=True)
        return [] if reason is None else [(address, reason)]
    embedded = embedded_ipv4(address)
    # An embedding prefix is judged by the IPv4 inside it, not by `is_global` (which calls 6to4 and
    # NAT64 global, and Teredo not): a DNS64 answer for a public host must pass.
    outer = _own_refusal(address, catch_all=not embedded)
    refused: list[tuple[IPAddress, str]] = [] if outer is None else [(address, outer)]
    for inner in embedded:
        reason = _own_refusal(inner, catch_all=True)
        if reason is not None:
            refused.append((inner, f"{reason} {inner} embedded in {address}"))
    return refused


def address_refusal(address: IPAddress) -> str | None:
    """Why an address is not a public delivery target, or None when it is (integrations §8.1)."""
    refused = _refused_parts(address)
    return refused[0][1] if refused else None


def never_opened(address: IPAddress) -> bool:
    """Whether an address (or an IPv4 it embeds) is unspecified, link-local or multicast: refused even
    when an allow-list entry covers it (integrations §8.3)."""
    return any(_is_never_opened(part) for part, _reason in _refused_parts(address))


def _is_never_opened(address: IPAddress) -> bool:
    return any(_holds(network, address) for network in _NEVER_OPENED_NETWORKS)


def _holds(network: IPNetwork, address: IPAddress) -> bool:
    return network.version == address.version and address in network


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    if isinstance(inner, IPv4Network) and isinstance(outer, IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, IPv6Network) and isinstance(outer, IPv6Network):
        return inner.subnet_of(outer)
    return False


@dataclass(frozen=True)
class HostTarget:
    """An allow-list entry naming one host, on one port or on any."""

    host: str
    port: int | None = None

    @property
    def text(self) -> str:
        """The entry as settings show it."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port is None else f"{shown}:{self.port}"


@dataclass(frozen=True)
class PrivateTargets:
    """A store's `allowed_private_targets`: networks whose addresses may be delivered to, and hosts that
    may be delivered to whatever they resolve to (integrations §8.3)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: tuple[HostTarget, ...] = ()

    @property
    def entries(self) -> tuple[str, ...]:
        """The entries as settings show and store them."""
        return tuple(str(network) for network in self.networks) + tuple(host.text for host in self.hosts)

    @property
    def is_empty(self) -> bool:
        """Whether the list opens nothing."""
        return not self.networks and not self.hosts

    def opens_address(self, address: IPAddress) -> bool:
        """Whether a network entry holds the address (never true for unspecified, link-local, multicast)."""
        if _is_never_opened(address):
            return False
        return any(_holds(network, address) for network in self.networks)

    def opens_host(self, host: str, port: int) -> bool:
        """Whether a host entry names this host (and this port, when the entry has one)."""
        name = normalize_host(host)
        return any(entry.host == name and entry.port in (None, port) for entry in self.hosts)


NO_PRIVATE_TARGETS = PrivateTargets()


def _entry_detail(entry: str) -> str:
    return f"{entry} is not a CIDR network or a hostname with an optional :port"


def _parse_port(text: str) -> int | None:
    if not text.isdigit() or not text.isascii():
        return None
    port = int(text)
    return port if 1 <= port <= 65535 else None


def _parse_entry(entry: str) -> IPNetwork | HostTarget | None:
    """One allow-list entry, or None when it is neither a network nor a host."""
    bracketed = _BRACKETED.fullmatch(entry)
    if bracketed is not None:
        try:
            literal = IPv6Address(bracketed.group(1))
        except ValueError:
            return None
        if bracketed.group(2) is None:
            return IPv6Network(literal)
        port = _parse_port(bracketed.group(2))
        return None if port is None else HostTarget(str(literal), port)
    try:
        return ip_network(entry, strict=False)
    except ValueError:
        pass
    host, colon, port_text = entry.partition(":")
    port = None
    if colon:
        port = _parse_port(port_text)
        if port is None:
            return None
    try:
        return HostTarget(str(IPv4Address(host)), port)
    except ValueError:
        pass
    if not is_hostname(host):
        return None
    return HostTarget(normalize_host(host), port)


def parse_private_targets(value: object, source: str) -> PrivateTargets:
    """A store's `allowed_private_targets` from its settings input: up to 50 CIDR networks or hostnames
    with an optional `:port` (`[v6]:port` for an IPv6 address with a port); duplicates dropped."""
    if not isinstance(value, list | tuple):
        raise IntegrationInvalid([problem(source, "allowed_private_targets must be an array of strings")])
    problems = Problems()
    if len(value) > MAX_PRIVATE_TARGETS:
        problems.add(source, f"allowed_private_targets can hold at most {MAX_PRIVATE_TARGETS} entries")
    networks: list[IPNetwork] = []
    hosts: list[HostTarget] = []
    for index, entry in enumerate(value):
        at = f"{source}.{index}"
        if not isinstance(entry, str):
            problems.add(at, "allowed_private_targets entries must be strings")
            continue
        parsed = _parse_entry(entry)
        if parsed is None:
            problems.add(at, _entry_detail(entry))
        elif isinstance(parsed, HostTarget):
            if parsed not in hosts:
                hosts.append(parsed)
        elif any(_within(parsed, never) for never in _NEVER_OPENED_NETWORKS):
            problems.add(at, f"{entry} can never be allowed: {NEVER_OPENED_TEXT}")
        elif parsed not in networks:
            networks.append(parsed)
    problems.raise_if_any()
    return PrivateTargets(tuple(networks), tuple(hosts))


@dataclass(frozen=True)
class DestinationVerdict:
    """Whether a delivery may go to a host: `private` when it passes only thanks to the allow-list (so a
    plain scheme may be used); `reason` is the delivery log's text and `detail` the save-time 422's."""

    allowed: bool
    private: bool
    reason: str = ""
    detail: str = ""
    refused_address: IPAddress | None = None


def vet_destination(
    host: str,
    port: int,
    addresses: Sequence[IPAddress],
    *,
    allowed: PrivateTargets,
    private_targets_enabled: bool,
    plain_scheme: str | None = None,
    field: str = "url",
) -> DestinationVerdict:
    """Judge a host and every address it resolves to (integrations §8.1-8.3). `addresses` may be empty
    for a name that does not resolve yet; `plain_scheme` is `http` or `stomp` when no TLS is used."""
    targets = allowed if private_targets_enabled else NO_PRIVATE_TARGETS
    host_opened = targets.opens_host(host, port)
    every_address_opened = bool(addresses)
    for address in addresses:
        refused = _refused_parts(address)
        if not refused:
            every_address_opened = False
            continue
        for part, _reason in refused:
            if _is_never_opened(part):
                return _refused_address(host, address, field, can_be_allowed=False)
            if not (host_opened or targets.opens_address(part)):
                return _refused_address(host, address, field, can_be_allowed=True)
    if refused_hostname(host) and not host_opened:
        return DestinationVerdict(
            allowed=False,
            private=False,
            reason=f"Destination refused: {host} is a local-only name",
            detail=f"{field} host {host} is a local-only name; add it to allowed_private_targets to use it",
        )
    private = host_opened or every_address_opened
    if plain_scheme is not None and not private:
        secure = TLS_SCHEME_FOR.get(plain_scheme, "TLS")
        return DestinationVerdict(
            allowed=False,
            private=False,
            reason=f"Destination refused: {host} is not an allow-listed private target, so {plain_scheme} "
            "cannot be used",
            detail=f"{field} must use {secure}: {plain_scheme} is only for allow-listed private targets",
        )
    return DestinationVerdict(allowed=True, private=private)


def _refused_address(
    host: str, address: IPAddress, field: str, *, can_be_allowed: bool
) -> DestinationVerdict:
    advice = "add it to allowed_private_targets to use it" if can_be_allowed else "it can never be allowed"
    return DestinationVerdict(
        allowed=False,
        private=False,
        reason=destination_refused(host, str(address)),
        detail=f"{field} resolves to a non-public address ({address}); {advice}",
        refused_address=address,
    )
