"""What counts as one client for the limits: an IPv4 address, an IPv6 /64."""

from __future__ import annotations

import pytest

from promoforge.domain.clients import client_network


@pytest.mark.parametrize(
    ("host", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1%eth0", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_a_host_counts_as_its_client(host: str, client: str) -> None:
    assert client_network(host) == client


def test_two_ipv6_networks_are_two_clients() -> None:
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
