"""Who a request comes from, as far as limits count it: one IPv4 address, or one IPv6 /64 network."""

from __future__ import annotations

import ipaddress

IPV6_CLIENT_PREFIX = 64  # an IPv6 subscriber is routinely given a whole /64, so it counts as one client


def client_network(host: str) -> str:
    """The client a peer address counts as: IPv4 as it is, IPv6 by its /64; anything else as its text."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network)
    return str(address)
