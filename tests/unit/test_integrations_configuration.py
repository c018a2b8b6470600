"""Integration configurations (integrations §2.5, §3.2, §3.3): the rules of each type, PUT merging with
masked echoes, what responses and events show, and the plain/secret split storage keeps."""

from __future__ import annotations

import json
from dataclasses import replace
from ipaddress import ip_address

import pytest

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.configuration import (
    Configuration,
    IntegrationType,
    SqsConfiguration,
    StompAddress,
    StompConfiguration,
    WebhookConfiguration,
    destination_targets,
    event_configuration,
    join_configuration,
    mask,
    merge_configuration,
    needs_private_target,
    parse_configuration,
    parse_integration_type,
    public_configuration,
    split_configuration,
)
from promoforge.domain.integrations.destinations import NO_PRIVATE_TARGETS
from promoforge.domain.integrations.signing import SigningSecret

WEBHOOK = IntegrationType.WEBHOOK
STOMP = IntegrationType.STOMP
SQS = IntegrationType.AWS_SQS
SPEC_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SQS_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/epcc-external-queue"
KEY_ID = "ASIAJLVYNHUWCPKOPSYQ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ADDRESS_RULE = "addresses entries must be stomp://host:port or stomp+ssl://host:port"


def _problems(integration_type: IntegrationType, raw: object) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        parse_configuration(integration_type, raw)
    assert {problem.title for problem in raised.value.problems} == {"Validation Error"}
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def _merge_problems(
    stored: Configuration, raw: object, new_type: IntegrationType | None = None
) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        merge_configuration(stored, raw, new_type=new_type)
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def _webhook(**extra: object) -> WebhookConfiguration:
    configuration = parse_configuration(WEBHOOK, {"url": "https://erp.example.com/hooks/ep", **extra})
    assert isinstance(configuration, WebhookConfiguration)
    return configuration


def _stomp(**extra: object) -> StompConfiguration:
    raw = {"addresses": ["stomp+ssl://mq.example.com"], "destination": "/queue/events", **extra}
    configuration = parse_configuration(STOMP, raw)
    assert isinstance(configuration, StompConfiguration)
    return configuration


def _sqs() -> SqsConfiguration:
    raw = {
        "url": SQS_URL,
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": AWS_SECRET,
        "region": "eu-west-1",
    }
    configuration = parse_configuration(SQS, raw)
    assert isinstance(configuration, SqsConfiguration)
    return configuration


@pytest.mark.parametrize(
    ("value", "expected"),
    [("webhook", WEBHOOK), ("stomp", STOMP), ("aws_sqs", SQS), ("aws-sqs", SQS)],
)
def test_integration_types_and_the_aws_sqs_alias(value: str, expected: IntegrationType) -> None:
    assert parse_integration_type(value, "data.integration_type") is expected


@pytest.mark.parametrize("value", ["Webhook", "sqs", "aws_SQS", "", None, 1])
def test_other_integration_types_are_a_422(value: object) -> None:
    with pytest.raises(IntegrationInvalid) as raised:
        parse_integration_type(value, "data.integration_type")
    [problem] = raised.value.problems
    assert (problem.source, problem.detail) == (
        "data.integration_type",
        "integration_type must be one of webhook, aws_sqs, stomp",
    )


# ---- webhook --------------------------------------------------------------------------------------------


def test_a_webhook_gets_a_generated_signing_secret_unless_it_supplies_one() -> None:
    generated = _webhook()
    assert (generated.url, generated.secret_key) == ("https://erp.example.com/hooks/ep", None)
    assert len(generated.signing_secret.key) == 32
    assert _webhook().signing_secret != generated.signing_secret
    assert _webhook(signing_secret=SPEC_SECRET).signing_secret == SigningSecret.parse(SPEC_SECRET)
    assert _webhook(signing_secret=None).signing_secret != SigningSecret.parse(SPEC_SECRET)
    assert _problems(WEBHOOK, {"url": "https://a.example", "signing_secret": "whsec_short"}) == [
        (
            "data.configuration.signing_secret",
            "signing_secret must be whsec_ followed by the base64 of 24 to 64 random bytes",
        )
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://erp.example.com/hooks/ep?token=a%20b&x=1",
        "http://10.0.0.5:8080/hook",
        "HTTPS://ERP.EXAMPLE.COM/",
        "https://[2606:4700:4700::1111]:8443/",
        "https://127.0.0.1/",
        "https://docker_service/",
        "https://hooks.example.com./x",
        "https://a.example/" + "p" * (2048 - len("https://a.example/")),
    ],
)
def test_webhook_urls_that_pass_the_syntax_rules(url: str) -> None:
    assert _webhook(url=url).url == url


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (None, "url is required"),
        ("", "url is required"),
        (5, "url must be a string"),
        ("ftp://erp.example.com/", "url must use https"),
        ("//erp.example.com/", "url must use https"),
        ("erp.example.com/hook", "url must use https"),
        ("https:///hook", "url must have a host"),
        ("https://user:pw@erp.example.com/", "url must not contain user information"),
        ("https://@erp.example.com/", "url must not contain user information"),
        ("https://erp.example.com/#top", "url must not contain a fragment"),
        ("https://erp.example.com:0/", "url port must be from 1 to 65535"),
        ("https://erp.example.com:65536/", "url is not a valid URL"),
        ("https://erp.example.com:http/", "url is not a valid URL"),
        ("https://[::1/", "url is not a valid URL"),
        ("https://127.1/", "url host must be a DNS name or an IP address"),
        ("https://0x7f000001/", "url host must be a DNS name or an IP address"),
        ("https://bad_-.exa$mple/", "url host must be a DNS name or an IP address"),
        ("https://[fe80::1%25eth0]/", "url must not name an IPv6 zone"),
        ("https://exa%6dple.com/", "url host must be a DNS name or an IP address"),
        (
            "https://erp.example.com/a b",
            "url must not contain spaces, control or non-ASCII characters (percent-encode them)",
        ),
        (
            "https://erp.example.com/\r\nX: 1",
            "url must not contain spaces, control or non-ASCII characters (percent-encode them)",
        ),
        (
            "https://bücher.example/",
            "url must not contain spaces, control or non-ASCII characters (percent-encode them)",
        ),
        ("https://a.example/" + "p" * 2031, "url must be at most 2048 characters"),
    ],
)
def test_webhook_url_rules(url: object, detail: str) -> None:
    assert _problems(WEBHOOK, {"url": url}) == [("data.configuration.url", detail)]


@pytest.mark.parametrize(
    "secret_key", ["s3cr3t-shared-token", "a", "x" * 255, "with inner space", "~!@#$%^&*()"]
)
def test_secret_keys_of_printable_ascii_are_kept_verbatim(secret_key: str) -> None:
    assert _webhook(secret_key=secret_key).secret_key == secret_key


@pytest.mark.parametrize(
    ("secret_key", "detail"),
    [
        ("x" * 256, "secret_key must be 1 to 255 characters"),
        ("tab\there", "secret_key must be printable ASCII characters (0x20 to 0x7E)"),
        ("line\r\nX-Injected: 1", "secret_key must be printable ASCII characters (0x20 to 0x7E)"),
        ("clé", "secret_key must be printable ASCII characters (0x20 to 0x7E)"),
        (" padded", "secret_key must not start or end with a space"),
        ("padded ", "secret_key must not start or end with a space"),
        (12345, "secret_key must be a string"),
    ],
)
def test_secret_key_rules(secret_key: object, detail: str) -> None:
    assert _problems(WEBHOOK, {"url": "https://a.example", "secret_key": secret_key}) == [
        ("data.configuration.secret_key", detail)
    ]


def test_empty_or_null_secret_key_means_none_and_other_types_keys_are_ignored() -> None:
    assert _webhook(secret_key=None).secret_key is None
    assert _webhook(secret_key="").secret_key is None
    ignored = _webhook(addresses=["x"], aws_access_key_id="nope", password=7)
    assert public_configuration(ignored).keys() == {"url", "signing_secret"}


def test_every_problem_of_a_configuration_is_reported() -> None:
    assert _problems(WEBHOOK, {"url": "ftp://x", "secret_key": " x", "signing_secret": "nope"}) == [
        (
            "data.configuration.signing_secret",
            "signing_secret must be whsec_ followed by the base64 of 24 to 64 random bytes",
        ),
        ("data.configuration.url", "url must use https"),
        ("data.configuration.secret_key", "secret_key must not start or end with a space"),
    ]


@pytest.mark.parametrize("raw", [None, [], "https://a.example", 5])
def test_a_configuration_is_an_object(raw: object) -> None:
    assert _problems(WEBHOOK, raw) == [("data.configuration", "configuration must be an object")]


# ---- stomp ----------------------------------------------------------------------------------------------


def test_stomp_addresses_default_their_port_by_scheme_and_keep_their_order() -> None:
    configuration = _stomp(
        addresses=[
            "stomp://127.0.0.1:61613",
            "stomp+ssl://B-1.mq.us-east-1.amazonaws.com",
            "stomp://[::1]",
            "STOMP://rabbit/",
        ],
        username="guest",
        password="guest",
        virtual_host="/",
        url="ignored",
    )
    assert configuration.addresses == (
        StompAddress("stomp", "127.0.0.1", 61613),
        StompAddress("stomp+ssl", "b-1.mq.us-east-1.amazonaws.com", 61614),
        StompAddress("stomp", "::1", 61613),
        StompAddress("stomp", "rabbit", 61613),
    )
    assert [address.text for address in configuration.addresses] == [
        "stomp://127.0.0.1:61613",
        "stomp+ssl://b-1.mq.us-east-1.amazonaws.com:61614",
        "stomp://[::1]:61613",
        "stomp://rabbit:61613",
    ]
    assert [address.tls for address in configuration.addresses] == [False, True, False, False]
    assert (configuration.username, configuration.password, configuration.virtual_host) == (
        "guest",
        "guest",
        "/",
    )


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        ({"destination": "/queue/a"}, [("data.configuration.addresses", "addresses is required")]),
        (
            {"addresses": [], "destination": "/queue/a"},
            [("data.configuration.addresses", "addresses must be an array of 1 to 4 broker addresses")],
        ),
        (
            {"addresses": ["stomp://a"] * 5, "destination": "/queue/a"},
            [("data.configuration.addresses", "addresses must be an array of 1 to 4 broker addresses")],
        ),
        (
            {"addresses": "stomp://a", "destination": "/queue/a"},
            [("data.configuration.addresses", "addresses must be an array of 1 to 4 broker addresses")],
        ),
        (
            {"addresses": ["amqp://a", "stomp://", "stomp://u:p@a", "stomp://a/vhost"], "destination": "/q"},
            [(f"data.configuration.addresses.{index}", ADDRESS_RULE) for index in range(4)],
        ),
        (
            {"addresses": ["stomp://a?x=1", 7, "stomp://a:0", "stomp://a#f"], "destination": "/q"},
            [(f"data.configuration.addresses.{index}", ADDRESS_RULE) for index in range(4)],
        ),
        ({"addresses": ["stomp://a"]}, [("data.configuration.destination", "destination is required")]),
        (
            {"addresses": ["stomp://a"], "destination": "queue/a"},
            [("data.configuration.destination", "destination must be 1 to 255 characters starting with /")],
        ),
        (
            {"addresses": ["stomp://a"], "destination": "/" + "q" * 255},
            [("data.configuration.destination", "destination must be 1 to 255 characters starting with /")],
        ),
        (
            {"addresses": ["stomp://a"], "destination": "/queue/a\nreceipt:x"},
            [("data.configuration.destination", "destination must be 1 to 255 characters starting with /")],
        ),
        (
            {"addresses": ["stomp://a"], "destination": "/queue/a", "password": "secret"},
            [("data.configuration.password", "password needs a username")],
        ),
        (
            {"addresses": ["stomp://a"], "destination": "/queue/a", "username": "guest\npasscode:x"},
            [("data.configuration.username", "username must not contain control characters")],
        ),
        (
            {"addresses": ["stomp://a"], "destination": "/queue/a", "virtual_host": "v" * 256},
            [("data.configuration.virtual_host", "virtual_host must be at most 255 characters")],
        ),
    ],
)
def test_stomp_rules(raw: dict[str, object], problems: list[tuple[str, str]]) -> None:
    assert _problems(STOMP, raw) == problems


# ---- aws_sqs --------------------------------------------------------------------------------------------


def test_an_sqs_configuration_and_its_queue() -> None:
    configuration = _sqs()
    assert (configuration.queue_name, configuration.fifo) == ("epcc-external-queue", False)
    fifo = parse_configuration(
        SQS,
        {
            "url": "https://sqs.us-gov-west-1.amazonaws.com/000000000000/orders.fifo",
            "aws_access_key_id": "A" * 128,
            "aws_secret_access_key": "s",
            "region": "us-gov-west-1",
        },
    )
    assert isinstance(fifo, SqsConfiguration) and fifo.fifo


def test_sqs_requires_all_four_keys() -> None:
    assert _problems(SQS, {"url": "", "aws_access_key_id": None}) == [
        ("data.configuration.aws_access_key_id", "aws_access_key_id is required"),
        ("data.configuration.aws_secret_access_key", "aws_secret_access_key is required"),
        ("data.configuration.region", "region is required"),
        ("data.configuration.url", "url is required"),
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"url": "http://sqs.eu-west-1.amazonaws.com/123456789012/q"}, "url"),
        ({"url": "https://sqs.eu-west-1.amazonaws.com/123456789/q"}, "url"),
        ({"url": "https://sqs.eu-west-1.example.com/123456789012/q"}, "url"),
        ({"url": "https://sqs.eu-west-1.amazonaws.com/123456789012/q/x"}, "url"),
        ({"url": "https://sqs.eu-west-1.amazonaws.com/123456789012/" + "q" * 81}, "url"),
        ({"url": "https://sqs.eu-west-1.amazonaws.com/123456789012/bad.name"}, "url"),
        ({"aws_access_key_id": KEY_ID.lower()}, "aws_access_key_id"),
        ({"aws_access_key_id": "A" * 15}, "aws_access_key_id"),
        ({"aws_access_key_id": "A" * 129}, "aws_access_key_id"),
        ({"aws_secret_access_key": "s" * 129}, "aws_secret_access_key"),
        ({"region": "us-east-1"}, "region"),
        ({"region": 5}, "region"),
    ],
)
def test_sqs_rules(change: dict[str, object], problem: str) -> None:
    raw = {
        "url": SQS_URL,
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": AWS_SECRET,
        "region": "eu-west-1",
    }
    [(source, detail)] = _problems(SQS, {**raw, **change})
    assert source == f"data.configuration.{problem}"
    expected = {
        "url": "url must be https://sqs.<region>.amazonaws.com/<12-digit account id>/<queue name>",
        "aws_access_key_id": "aws_access_key_id must be 16 to 128 characters A-Z and 0-9",
        "aws_secret_access_key": "aws_secret_access_key must be 1 to 128 characters",
        "region": "region must equal the region in url (eu-west-1)"
        if change.get("region") != 5
        else "region must be an AWS region name",
    }
    assert detail == expected[problem]


# ---- masking --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (KEY_ID, "****************PSYQ"),
        (AWS_SECRET, "*" * 36 + "EKEY"),
        ("123456789", "*****6789"),
        ("12345678", "********"),
        ("guest", "*****"),
        ("", ""),
    ],
)
def test_mask_keeps_the_last_4_only_above_8_characters(value: str, masked: str) -> None:
    assert mask(value) == masked


def test_responses_mask_every_secret_but_secret_key_and_events_mask_that_too() -> None:
    webhook = _webhook(secret_key="s3cr3t-shared-token", signing_secret=SPEC_SECRET)
    assert public_configuration(webhook) == {
        "url": "https://erp.example.com/hooks/ep",
        "secret_key": "s3cr3t-shared-token",
        "signing_secret": "whsec_****************************************Hh8=",
    }
    assert public_configuration(webhook, reveal_signing_secret=True)["signing_secret"] == SPEC_SECRET
    assert event_configuration(webhook) == {
        "url": "https://erp.example.com/hooks/ep",
        "secret_key": "***************oken",
        "signing_secret": "whsec_****************************************Hh8=",
    }
    stomp = _stomp(username="guest", password="guest-password", virtual_host="/")
    assert (
        public_configuration(stomp)
        == event_configuration(stomp)
        == {
            "addresses": ["stomp+ssl://mq.example.com:61614"],
            "destination": "/queue/events",
            "username": "guest",
            "password": "**********word",
            "virtual_host": "/",
        }
    )
    assert public_configuration(_stomp()) == {
        "addresses": ["stomp+ssl://mq.example.com:61614"],
        "destination": "/queue/events",
    }
    assert (
        public_configuration(_sqs())
        == event_configuration(_sqs())
        == {
            "url": SQS_URL,
            "aws_access_key_id": "****************PSYQ",
            "aws_secret_access_key": "*" * 36 + "EKEY",
            "region": "eu-west-1",
        }
    )


def test_no_secret_shows_in_a_repr() -> None:
    for configuration, secrets in (
        (_webhook(secret_key="s3cr3t-shared-token"), ["s3cr3t-shared-token"]),
        (_stomp(username="guest", password="hunter2-hunter2"), ["hunter2-hunter2"]),
        (_sqs(), [KEY_ID, AWS_SECRET]),
    ):
        for secret in secrets:
            assert secret not in repr(configuration)


# ---- PUT merging ----------------------------------------------------------------------------------------


def test_a_webhook_put_merges_key_by_key_and_ignores_signing_secret() -> None:
    stored = _webhook(secret_key="old-token")
    renamed = merge_configuration(stored, {"url": "https://new.example.com/h"}, new_type=None)
    assert renamed == WebhookConfiguration("https://new.example.com/h", "old-token", stored.signing_secret)
    rekeyed = merge_configuration(
        stored, {"secret_key": "new-token", "signing_secret": SPEC_SECRET}, new_type=WEBHOOK
    )
    assert rekeyed == WebhookConfiguration(stored.url, "new-token", stored.signing_secret)
    assert merge_configuration(stored, {"secret_key": None}, new_type=None) == replace(
        stored, secret_key=None
    )
    assert merge_configuration(stored, {"secret_key": ""}, new_type=None) == replace(stored, secret_key=None)
    assert merge_configuration(stored, {}, new_type=None) == stored
    assert merge_configuration(stored, public_configuration(stored), new_type=None) == stored
    assert _merge_problems(stored, {"url": None}) == [
        ("data.configuration.url", "url is required and cannot be removed")
    ]
    assert _merge_problems(stored, {"url": "http://x.example/#f", "secret_key": "\x00"}) == [
        ("data.configuration.url", "url must not contain a fragment"),
        ("data.configuration.secret_key", "secret_key must be printable ASCII characters (0x20 to 0x7E)"),
    ]
    assert _merge_problems(stored, None) == [("data.configuration", "configuration must be an object")]


def test_a_masked_secret_sent_back_keeps_the_stored_one() -> None:
    stomp = _stomp(username="guest", password="guest")
    assert merge_configuration(stomp, {"password": "*****"}, new_type=None) == stomp
    assert merge_configuration(stomp, public_configuration(stomp), new_type=None) == stomp
    assert merge_configuration(stomp, {"password": "****"}, new_type=None) == replace(stomp, password="****")
    sqs = _sqs()
    shown = public_configuration(sqs)
    assert merge_configuration(sqs, shown, new_type=None) == sqs
    assert merge_configuration(sqs, {"aws_secret_access_key": "other"}, new_type=None) == replace(
        sqs, aws_secret_access_key="other"
    )
    assert _merge_problems(sqs, {"aws_access_key_id": "****************XXXX"}) == [
        ("data.configuration.aws_access_key_id", "aws_access_key_id must be 16 to 128 characters A-Z and 0-9")
    ]


def test_stomp_put_removes_optional_keys_but_not_a_username_a_password_needs() -> None:
    stored = _stomp(username="guest", password="guest", virtual_host="/")
    assert merge_configuration(
        stored, {"virtual_host": None, "password": ""}, new_type=None
    ) == StompConfiguration(stored.addresses, stored.destination, "guest", None, None)
    assert merge_configuration(stored, {"username": None, "password": None}, new_type=None) == replace(
        stored, username=None, password=None
    )
    assert _merge_problems(stored, {"username": None}) == [
        ("data.configuration.username", "username cannot be removed while a password is set")
    ]
    assert _merge_problems(_stomp(), {"password": "secret"}) == [
        ("data.configuration.password", "password needs a username")
    ]
    assert _merge_problems(stored, {"addresses": None, "destination": ""}) == [
        ("data.configuration.addresses", "addresses is required and cannot be removed"),
        ("data.configuration.destination", "destination is required and cannot be removed"),
    ]
    replaced = merge_configuration(
        stored, {"addresses": ["stomp+ssl://a.example", "stomp+ssl://b.example"]}, new_type=None
    )
    assert isinstance(replaced, StompConfiguration)
    assert [address.host for address in replaced.addresses] == ["a.example", "b.example"]


def test_sqs_put_keeps_url_and_region_in_step() -> None:
    stored = _sqs()
    moved_url = "https://sqs.us-east-1.amazonaws.com/123456789012/epcc-external-queue"
    assert _merge_problems(stored, {"url": moved_url}) == [
        ("data.configuration.region", "region must equal the region in url (us-east-1)")
    ]
    moved = merge_configuration(stored, {"url": moved_url, "region": "us-east-1"}, new_type=None)
    assert isinstance(moved, SqsConfiguration)
    assert (moved.region, moved.aws_access_key_id) == ("us-east-1", KEY_ID)
    assert _merge_problems(stored, {"region": None}) == [
        ("data.configuration.region", "region is required and cannot be removed")
    ]


def test_a_type_change_needs_a_complete_new_configuration() -> None:
    stored = _webhook(secret_key="t")
    raw = {"addresses": ["stomp+ssl://mq.example.com"], "destination": "/queue/events"}
    changed = merge_configuration(stored, raw, new_type=STOMP)
    assert changed == _stomp()
    assert _merge_problems(stored, {"destination": "/queue/events"}, new_type=STOMP) == [
        ("data.configuration.addresses", "addresses is required")
    ]
    back = merge_configuration(
        changed, {"url": "https://x.example", "signing_secret": SPEC_SECRET}, new_type=WEBHOOK
    )
    assert isinstance(back, WebhookConfiguration)
    assert back.secret_key is None
    assert back.signing_secret != SigningSecret.parse(SPEC_SECRET)


# ---- storage split --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "configuration",
    [
        _webhook(secret_key="s3cr3t-shared-token"),
        _webhook(),
        _stomp(username="guest", password="guest-password", virtual_host="/"),
        _stomp(),
        _sqs(),
    ],
    ids=["webhook", "webhook-bare", "stomp", "stomp-bare", "sqs"],
)
def test_storage_keeps_secrets_apart_and_gets_the_same_configuration_back(
    configuration: Configuration,
) -> None:
    plain, secrets = split_configuration(configuration)
    assert (
        join_configuration(configuration.integration_type, json.loads(json.dumps(plain)), secrets)
        == configuration
    )
    text = json.dumps(plain)
    for secret in secrets.values():
        assert secret not in text
    if isinstance(configuration, WebhookConfiguration):
        assert secrets["signing_secret"] == configuration.signing_secret.text
        assert ("secret_key" in secrets) is (configuration.secret_key is not None)
    if isinstance(configuration, SqsConfiguration):
        assert set(secrets) == {"aws_access_key_id", "aws_secret_access_key"}


def test_damaged_stored_configurations_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="damaged"):
        join_configuration(WEBHOOK, {"url": "https://a.example"}, {})
    with pytest.raises(ValueError, match="not a list"):
        join_configuration(STOMP, {"addresses": "stomp://a", "destination": "/q"}, {})
    with pytest.raises(ValueError, match="damaged"):
        join_configuration(SQS, {"url": SQS_URL, "region": "eu-west-1"}, {"aws_access_key_id": KEY_ID})


# ---- destinations ---------------------------------------------------------------------------------------


def test_plain_schemes_need_a_private_target() -> None:
    assert needs_private_target("http://10.0.0.5/hook")
    assert not needs_private_target("https://erp.example.com/")
    assert needs_private_target("stomp://127.0.0.1:61613")
    assert not needs_private_target("stomp+ssl://mq.example.com")
    assert needs_private_target(StompAddress("stomp", "a", 1))
    assert not needs_private_target(StompAddress("stomp+ssl", "a", 1))


def test_destination_targets_of_each_type() -> None:
    [https] = destination_targets(_webhook(url="https://ERP.example.com./hooks"))
    assert (https.host, https.port, https.plain_scheme, https.source, https.field) == (
        "erp.example.com",
        443,
        None,
        "data.configuration.url",
        "url",
    )
    assert https.literal_address is None
    [http] = destination_targets(_webhook(url="http://[::1]:8080/hooks"))
    assert (http.host, http.port, http.plain_scheme, http.literal_address) == (
        "::1",
        8080,
        "http",
        ip_address("::1"),
    )
    refused = http.vet([ip_address("::1")], allowed=NO_PRIVATE_TARGETS, private_targets_enabled=True)
    assert (
        refused.detail
        == "url resolves to a non-public address (::1); add it to allowed_private_targets to use it"
    )
    stomp = destination_targets(_stomp(addresses=["stomp+ssl://mq.example.com", "stomp://10.0.0.5:1234"]))
    assert [(t.host, t.port, t.plain_scheme, t.source, t.field) for t in stomp] == [
        ("mq.example.com", 61614, None, "data.configuration.addresses.0", "address"),
        ("10.0.0.5", 1234, "stomp", "data.configuration.addresses.1", "address"),
    ]
    assert destination_targets(_sqs()) == ()
