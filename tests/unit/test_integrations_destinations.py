"""Where deliveries may go (integrations §8.1-8.3): the non-public address rule in every IPv6 disguise,
local-only names, and what the store's allow-list opens, and never opens."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.destinations import (
    NO_PRIVATE_TARGETS,
    HostTarget,
    IPAddress,
    PrivateTargets,
    address_refusal,
    embedded_ipv4,
    never_opened,
    parse_private_targets,
    refused_hostname,
    vet_destination,
)

REFUSED_V4 = [
    "0.0.0.0/8",
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
]
REFUSED_V6 = [
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "2001:db8::/32",
    "100::/64",
    "ff00::/8",
    "64:ff9b:1::/48",
]
NEVER_OPENED = ["0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "::/128", "fe80::/10", "ff00::/8"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "9.9.9.9", "2001:4860:4860::8888", "151.101.1.69"]
MASK_32 = 0xFFFFFFFF
NEVER = "unspecified, link-local and multicast addresses are always refused"


def _mapped(address: IPv4Address, _suffix: int) -> IPv6Address:
    return IPv6Address(0xFFFF << 32 | int(address))


def _compatible(address: IPv4Address, _suffix: int) -> IPv6Address:
    return IPv6Address(int(address))


def _nat64(address: IPv4Address, _suffix: int) -> IPv6Address:
    return IPv6Address(0x0064FF9B << 96 | int(address))


def _sixtofour(address: IPv4Address, suffix: int) -> IPv6Address:
    return IPv6Address(0x2002 << 112 | int(address) << 80 | suffix & (1 << 80) - 1)


def _teredo_client(address: IPv4Address, suffix: int) -> IPv6Address:
    server = int(IPv4Address("8.8.8.8"))
    return IPv6Address(0x20010000 << 96 | server << 64 | (suffix & MASK_32) << 32 | ~int(address) & MASK_32)


def _teredo_server(address: IPv4Address, suffix: int) -> IPv6Address:
    client = ~int(IPv4Address("1.1.1.1")) & MASK_32
    return IPv6Address(0x20010000 << 96 | int(address) << 64 | (suffix & MASK_32) << 32 | client)


def _plain(address: IPv4Address, _suffix: int) -> IPv4Address:
    return address


FORMS: list[Callable[[IPv4Address, int], IPAddress]] = [
    _plain,
    _mapped,
    _compatible,
    _nat64,
    _sixtofour,
    _teredo_client,
    _teredo_server,
]


def _inside(network: str) -> st.SearchStrategy[IPAddress]:
    parsed = ip_network(network)
    return st.integers(int(parsed.network_address), int(parsed.broadcast_address)).map(
        lambda value: IPv6Address(value) if parsed.version == 6 else IPv4Address(value)
    )


def _vet(address: IPAddress, allowed: PrivateTargets = NO_PRIVATE_TARGETS, *, enabled: bool = True) -> bool:
    verdict = vet_destination(
        "hooks.example.com", 443, [address], allowed=allowed, private_targets_enabled=enabled
    )
    return verdict.allowed


def _opening(network: str) -> PrivateTargets:
    return PrivateTargets(networks=(ip_network(network),))


@given(
    range_=st.sampled_from(REFUSED_V4),
    data=st.data(),
    form=st.sampled_from(FORMS),
    suffix=st.integers(0, (1 << 80) - 1),
)
def test_a_refused_ipv4_in_any_form_is_refused_unless_the_list_opens_it(
    range_: str, data: st.DataObject, form: Callable[[IPv4Address, int], IPAddress], suffix: int
) -> None:
    inner = data.draw(_inside(range_))
    assert isinstance(inner, IPv4Address)
    # `::` and `::1` are not the IPv4-compatible forms of 0.0.0.0 and 0.0.0.1 (RFC 4291).
    assume(form is not _compatible or int(inner) > 1)
    address = form(inner, suffix)
    assert address_refusal(address) is not None
    assert not _vet(address)
    opened = range_ not in NEVER_OPENED
    assert _vet(address, _opening(range_)) is opened
    assert never_opened(address) is not opened
    # The operator's switch off: whatever the store listed is ignored.
    assert not _vet(address, _opening(range_), enabled=False)
    # A list opening something else does not help.
    assert not _vet(address, _opening("198.51.100.7/32" if range_ != "198.51.100.0/24" else "10.9.9.9/32"))
    # A host entry opens its host whatever it resolves to, except what is never opened.
    listed_host = PrivateTargets(hosts=(HostTarget("rabbit.internal", 61613),))
    by_name = vet_destination(
        "rabbit.internal", 61613, [address], allowed=listed_host, private_targets_enabled=True
    )
    assert by_name.allowed is opened
    refused = vet_destination(
        "hooks.example.com", 443, [address], allowed=NO_PRIVATE_TARGETS, private_targets_enabled=True
    )
    assert (
        refused.reason == f"Destination refused: hooks.example.com resolves to non-public address {address}"
    )


@given(range_=st.sampled_from(REFUSED_V6), data=st.data())
def test_a_refused_ipv6_address_is_refused_unless_the_list_opens_it(range_: str, data: st.DataObject) -> None:
    address = data.draw(_inside(range_))
    assert address_refusal(address) is not None
    assert not _vet(address)
    assert _vet(address, _opening(range_)) is (range_ not in NEVER_OPENED)


@pytest.mark.parametrize("public", PUBLIC)
def test_public_addresses_pass(public: str) -> None:
    address = ip_address(public)
    assert address_refusal(address) is None
    verdict = vet_destination(
        "hooks.example.com", 443, [address], allowed=NO_PRIVATE_TARGETS, private_targets_enabled=False
    )
    assert (verdict.allowed, verdict.private, verdict.reason, verdict.detail) == (True, False, "", "")


@pytest.mark.parametrize("public", [text for text in PUBLIC if ":" not in text])
@pytest.mark.parametrize("form", FORMS)
def test_public_ipv4_passes_in_every_ipv6_form(
    public: str, form: Callable[[IPv4Address, int], IPAddress]
) -> None:
    # A DNS64 resolver answers 64:ff9b::/96 addresses for public hosts: those must be deliverable.
    address = form(IPv4Address(public), 0x1234)
    assert address_refusal(address) is None, address
    assert _vet(address)


def test_embedded_ipv4_unwraps_each_form() -> None:
    assert embedded_ipv4(IPv6Address("::ffff:127.0.0.1")) == (IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(IPv6Address("::7f00:1")) == (IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(IPv6Address("64:ff9b::7f00:1")) == (IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(IPv6Address("2002:7f00:1::")) == (IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2")) == (
        IPv4Address("65.54.227.120"),
        IPv4Address("192.0.2.45"),
    )
    assert embedded_ipv4(IPv6Address("2606:4700:4700::1111")) == ()


@pytest.mark.parametrize(
    "text",
    [
        "64:ff9b::7f00:1",  # Python 3.11 calls these two global
        "2002:7f00:1::",
        "64:ff9b:1::808:808",  # local-use NAT64, even around a public address
        "2001:10::1",  # ORCHID: only Python's is_global catches it
        "::ffff:169.254.169.254",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo client in documentation space
    ],
)
def test_addresses_python_alone_would_let_through_are_refused(text: str) -> None:
    assert address_refusal(ip_address(text)) is not None


def test_ipv6_loopback_is_opened_by_its_entry_and_unspecified_never() -> None:
    listed = parse_private_targets(["::1/128"], "data.allowed_private_targets")
    assert _vet(ip_address("::1"), listed)
    assert never_opened(ip_address("::"))
    assert not never_opened(ip_address("::1"))
    assert address_refusal(ip_address("::1")) == "loopback address"


def test_unspecified_link_local_and_multicast_are_never_opened() -> None:
    everything = PrivateTargets(
        networks=(IPv4Network("0.0.0.0/0"), IPv6Network("::/0")),
        hosts=(HostTarget("metadata.internal"), HostTarget("169.254.169.254")),
    )
    for text in (
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
    ):
        address = ip_address(text)
        for host in ("metadata.internal", "169.254.169.254", "hooks.example.com"):
            verdict = vet_destination(host, 80, [address], allowed=everything, private_targets_enabled=True)
            assert not verdict.allowed
            assert verdict.refused_address == address
            assert verdict.detail.endswith("; it can never be allowed")
    # ...while the same list opens loopback and private space.
    assert _vet(ip_address("127.0.0.1"), everything)
    assert _vet(ip_address("fd00::1"), everything)


def test_refusal_texts_name_the_host_and_the_address() -> None:
    verdict = vet_destination(
        "erp.example.com",
        443,
        [ip_address("93.184.216.34"), ip_address("127.0.0.1")],
        allowed=NO_PRIVATE_TARGETS,
        private_targets_enabled=True,
    )
    assert not verdict.allowed
    assert verdict.reason == "Destination refused: erp.example.com resolves to non-public address 127.0.0.1"
    assert verdict.detail == (
        "url resolves to a non-public address (127.0.0.1); add it to allowed_private_targets to use it"
    )
    assert verdict.refused_address == ip_address("127.0.0.1")
    stomp = vet_destination(
        "broker.example.com",
        61614,
        [ip_address("::1")],
        allowed=NO_PRIVATE_TARGETS,
        private_targets_enabled=True,
        field="address",
    )
    assert stomp.detail.startswith("address resolves to a non-public address (::1);")


def test_every_address_must_pass_and_http_needs_every_address_private_and_listed() -> None:
    listed = _opening("10.0.0.0/8")
    public, private = ip_address("93.184.216.34"), ip_address("10.1.2.3")
    mixed = vet_destination(
        "app.example.com", 443, [public, private], allowed=listed, private_targets_enabled=True
    )
    assert (mixed.allowed, mixed.private) == (True, False)
    both_private = vet_destination(
        "app.example.com",
        80,
        [private, ip_address("10.9.9.9")],
        allowed=listed,
        private_targets_enabled=True,
        plain_scheme="http",
    )
    assert (both_private.allowed, both_private.private) == (True, True)
    over_http = vet_destination(
        "app.example.com",
        80,
        [public, private],
        allowed=listed,
        private_targets_enabled=True,
        plain_scheme="http",
    )
    assert not over_http.allowed
    assert over_http.detail == "url must use https: http is only for allow-listed private targets"
    assert over_http.reason == (
        "Destination refused: app.example.com is not an allow-listed private target, so http cannot be used"
    )
    plain_stomp = vet_destination(
        "mq.example.com",
        61613,
        [public],
        allowed=listed,
        private_targets_enabled=True,
        plain_scheme="stomp",
        field="address",
    )
    assert plain_stomp.detail == "address must use stomp+ssl: stomp is only for allow-listed private targets"


def test_a_host_entry_opens_that_host_on_its_port_whatever_it_resolves_to() -> None:
    listed = parse_private_targets(["rabbit.internal:61613", "localhost"], "data.allowed_private_targets")
    loopback = [ip_address("127.0.0.1"), ip_address("::1")]
    on_port = vet_destination(
        "rabbit.internal",
        61613,
        [ip_address("10.0.0.5")],
        allowed=listed,
        private_targets_enabled=True,
        plain_scheme="stomp",
    )
    assert (on_port.allowed, on_port.private) == (True, True)
    other_port = vet_destination(
        "rabbit.internal", 61614, [ip_address("10.0.0.5")], allowed=listed, private_targets_enabled=True
    )
    assert not other_port.allowed
    any_port = vet_destination(
        "LOCALHOST.", 8080, loopback, allowed=listed, private_targets_enabled=True, plain_scheme="http"
    )
    assert (any_port.allowed, any_port.private) == (True, True)
    # A name that does not resolve yet is judged on the name alone.
    unresolved = vet_destination("rabbit.internal", 61613, [], allowed=listed, private_targets_enabled=True)
    assert (unresolved.allowed, unresolved.private) == (True, True)
    switched_off = vet_destination("localhost", 8080, loopback, allowed=listed, private_targets_enabled=False)
    assert not switched_off.allowed


def test_local_only_names_are_refused_unless_listed_even_when_unresolved() -> None:
    for name in (
        "localhost",
        "LOCALHOST.",
        "app.localhost",
        "printer.local",
        "metadata.google.internal",
        "nas.home.arpa",
    ):
        assert refused_hostname(name), name
        verdict = vet_destination(name, 443, [], allowed=NO_PRIVATE_TARGETS, private_targets_enabled=True)
        assert not verdict.allowed
        assert verdict.reason == f"Destination refused: {name} is a local-only name"
        assert (
            verdict.detail
            == f"url host {name} is a local-only name; add it to allowed_private_targets to use it"
        )
    for name in ("localhost.example.com", "local", "internal.example.com", "example.com", "notlocalhost"):
        assert not refused_hostname(name), name
    public_name = vet_destination(
        "hooks.example.com", 443, [], allowed=NO_PRIVATE_TARGETS, private_targets_enabled=True
    )
    assert (public_name.allowed, public_name.private) == (True, False)


def test_allow_list_entries_parse_to_networks_and_hosts() -> None:
    targets = parse_private_targets(
        [
            "127.0.0.1/32",
            "::1/128",
            "localhost",
            "rabbit.internal:61613",
            "10.0.0.1/8",
            "192.168.1.20",
            "[fd00::1]",
            "[::1]:8080",
            "127.0.0.1:8080",
            "Rabbit.Internal:61613",
            "::1:8080",
        ],
        "data.allowed_private_targets",
    )
    assert targets.entries == (
        "127.0.0.1/32",
        "::1/128",
        "10.0.0.0/8",
        "192.168.1.20/32",
        "fd00::1/128",
        # Without brackets this is an IPv6 address, not ::1 on port 8080.
        "::1:8080/128",
        "localhost",
        "rabbit.internal:61613",
        "[::1]:8080",
        "127.0.0.1:8080",
    )
    assert targets.opens_host("[::1]", 8080) and targets.opens_host("0:0::1", 8080)
    assert not targets.opens_host("::1", 8081)
    assert parse_private_targets(targets.entries, "x") == targets


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        ("http://localhost", "http://localhost is not a CIDR network or a hostname with an optional :port"),
        ("localhost:0", "localhost:0 is not a CIDR network or a hostname with an optional :port"),
        ("localhost:65536", "localhost:65536 is not a CIDR network or a hostname with an optional :port"),
        ("bad host", "bad host is not a CIDR network or a hostname with an optional :port"),
        ("-bad.example", "-bad.example is not a CIDR network or a hostname with an optional :port"),
        ("127.1", "127.1 is not a CIDR network or a hostname with an optional :port"),
        ("[::1]:x", "[::1]:x is not a CIDR network or a hostname with an optional :port"),
        ("10.0.0.0/33", "10.0.0.0/33 is not a CIDR network or a hostname with an optional :port"),
        ("", " is not a CIDR network or a hostname with an optional :port"),
        (
            "169.254.0.0/16",
            f"169.254.0.0/16 can never be allowed: {NEVER}",
        ),
        (
            "ff02::1",
            f"ff02::1 can never be allowed: {NEVER}",
        ),
    ],
)
def test_bad_allow_list_entries_are_a_422_at_their_index(entry: str, detail: str) -> None:
    with pytest.raises(IntegrationInvalid) as raised:
        parse_private_targets(["localhost", entry], "data.allowed_private_targets")
    [problem] = raised.value.problems
    assert (problem.source, problem.detail, problem.title) == (
        "data.allowed_private_targets.1",
        detail,
        "Validation Error",
    )


def test_the_allow_list_holds_at_most_50_entries_and_must_be_an_array() -> None:
    fifty = [f"10.0.0.{index}" for index in range(50)]
    assert len(parse_private_targets(fifty, "s").entries) == 50
    with pytest.raises(IntegrationInvalid) as raised:
        parse_private_targets([*fifty, "10.0.1.0/24"], "s")
    assert [p.detail for p in raised.value.problems] == [
        "allowed_private_targets can hold at most 50 entries"
    ]
    for value in ("localhost", None, {"a": 1}):
        with pytest.raises(IntegrationInvalid) as raised:
            parse_private_targets(value, "s")
        assert raised.value.problems[0].detail == "allowed_private_targets must be an array of strings"
    with pytest.raises(IntegrationInvalid) as raised:
        parse_private_targets(["localhost", 5], "s")
    assert (raised.value.problems[0].source, raised.value.problems[0].detail) == (
        "s.1",
        "allowed_private_targets entries must be strings",
    )
