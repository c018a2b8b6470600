"""Integration configurations per `integration_type`: parsing, PUT merging, masking and the split into
plain and secret fields for storage (integrations §2.5, §3.2, §3.3, D-I7, D-I8, D-I37)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import ip_address
from typing import ClassVar
from urllib.parse import SplitResult, urlsplit

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.destinations import (
    DestinationVerdict,
    IPAddress,
    PrivateTargets,
    is_hostname,
    vet_destination,
)
from promoforge.domain.integrations.signing import SIGNING_SECRET_PREFIX, SigningSecret
from promoforge.domain.integrations.validation import Problems, problem


class IntegrationType(StrEnum):
    """How an integration delivers its events."""

    WEBHOOK = "webhook"
    AWS_SQS = "aws_sqs"
    STOMP = "stomp"


# I1's prose spells the SQS type with a hyphen; accepted and stored as `aws_sqs` (§2.2).
_TYPE_ALIASES = {"aws-sqs": IntegrationType.AWS_SQS}
INTEGRATION_TYPE_RULE = "integration_type must be one of webhook, aws_sqs, stomp"

MAX_URL_CHARS = 2048
MAX_SECRET_KEY_CHARS = 255
MAX_STOMP_ADDRESSES = 4
MAX_DESTINATION_CHARS = 255
MAX_STOMP_TEXT_CHARS = 255
MIN_AWS_KEY_ID_CHARS = 16
MAX_AWS_KEY_ID_CHARS = 128
MAX_AWS_SECRET_CHARS = 128
MAX_SQS_QUEUE_NAME_CHARS = 80
STOMP_DEFAULT_PORTS = {"stomp": 61613, "stomp+ssl": 61614}
HTTP_DEFAULT_PORTS = {"https": 443, "http": 80}
# Shown for a secret that is masked in responses (§3.3): values longer than this keep their last 4.
MASK_VISIBLE_AFTER = 8

_SQS_URL = re.compile(
    r"https://sqs\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com/"
    r"(?P<account>[0-9]{12})/(?P<queue>[A-Za-z0-9_-]+(?:\.fifo)?)"
)
_AWS_KEY_ID = re.compile(r"[A-Z0-9]+")
SQS_URL_RULE = "url must be https://sqs.<region>.amazonaws.com/<12-digit account id>/<queue name>"
STOMP_ADDRESS_RULE = "addresses entries must be stomp://host:port or stomp+ssl://host:port"


def parse_integration_type(value: object, source: str) -> IntegrationType:
    """The `integration_type` of a request; `aws-sqs` is read as `aws_sqs`."""
    if isinstance(value, str):
        if value in _TYPE_ALIASES:
            return _TYPE_ALIASES[value]
        try:
            return IntegrationType(value)
        except ValueError:
            pass
    raise IntegrationInvalid([problem(source, INTEGRATION_TYPE_RULE)])


@dataclass(frozen=True)
class WebhookConfiguration:
    """Where and how webhooks are POSTed."""

    integration_type: ClassVar[IntegrationType] = IntegrationType.WEBHOOK

    url: str
    secret_key: str | None = field(repr=False)
    signing_secret: SigningSecret


@dataclass(frozen=True)
class StompAddress:
    """One broker address; `stomp+ssl` is TLS, plain `stomp` only for allow-listed private targets."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """Whether the connection uses TLS."""
        return self.scheme == "stomp+ssl"

    @property
    def text(self) -> str:
        """The address as the API shows it, with its port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class StompConfiguration:
    """A STOMP broker (failover list) and the destination messages are sent to."""

    integration_type: ClassVar[IntegrationType] = IntegrationType.STOMP

    addresses: tuple[StompAddress, ...]
    destination: str
    username: str | None
    password: str | None = field(repr=False)
    virtual_host: str | None


@dataclass(frozen=True)
class SqsConfiguration:
    """An Amazon SQS queue and the credentials that may send to it."""

    integration_type: ClassVar[IntegrationType] = IntegrationType.AWS_SQS

    url: str
    aws_access_key_id: str = field(repr=False)
    aws_secret_access_key: str = field(repr=False)
    region: str

    @property
    def queue_name(self) -> str:
        """The queue's name, the last segment of its URL."""
        return self.url.rsplit("/", 1)[1]

    @property
    def fifo(self) -> bool:
        """Whether the queue is a FIFO queue (its name ends `.fifo`)."""
        return self.queue_name.endswith(".fifo")


Configuration = WebhookConfiguration | StompConfiguration | SqsConfiguration

# Keys each type knows; any other key of a request is ignored (§2.2).
_REQUIRED_KEYS: dict[IntegrationType, tuple[str, ...]] = {
    IntegrationType.WEBHOOK: ("url",),
    IntegrationType.STOMP: ("addresses", "destination"),
    IntegrationType.AWS_SQS: ("url", "aws_access_key_id", "aws_secret_access_key", "region"),
}
_OPTIONAL_KEYS: dict[IntegrationType, tuple[str, ...]] = {
    IntegrationType.WEBHOOK: ("secret_key",),
    IntegrationType.STOMP: ("username", "password", "virtual_host"),
    IntegrationType.AWS_SQS: (),
}
# Secrets the API shows masked, so a PUT may echo them back masked (§2.5).
_MASKED_KEYS: dict[IntegrationType, tuple[str, ...]] = {
    IntegrationType.WEBHOOK: (),
    IntegrationType.STOMP: ("password",),
    IntegrationType.AWS_SQS: ("aws_access_key_id", "aws_secret_access_key"),
}


def mask(value: str) -> str:
    """A secret as responses show it: `*` for all but the last 4 characters, all `*` up to 8 characters
    (integrations §3.3)."""
    if len(value) <= MASK_VISIBLE_AFTER:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_signing_secret(secret: SigningSecret) -> str:
    """A signing secret with its `whsec_` prefix kept and its base64 part masked (integrations §3.3)."""
    return SIGNING_SECRET_PREFIX + mask(secret.text.removeprefix(SIGNING_SECRET_PREFIX))


# ---- parsing -------------------------------------------------------------------------------------------


def _is_absent(value: object) -> bool:
    """`null` and `""` both mean "no value" for a configuration key (§2.5)."""
    return value is None or value == ""


def _has_control_characters(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def _split_url(text: str) -> SplitResult | None:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (reading it validates the port)
    except ValueError:
        return None
    return parts


def _host_problem(host: str | None) -> str | None:
    """Why a URL's host is unusable, or None."""
    if not host:
        return "must have a host"
    if "%" in host and ":" in host:
        return "must not name an IPv6 zone"
    try:
        ip_address(host)
    except ValueError:
        return None if is_hostname(host) else "host must be a DNS name or an IP address"
    return None


def _parse_webhook_url(value: object, source: str, problems: Problems) -> str | None:
    """A webhook `url` (§3.2, D-I37): absolute, https or http, a host, no user-info or fragment."""
    if _is_absent(value):
        problems.add(source, "url is required")
        return None
    if not isinstance(value, str):
        problems.add(source, "url must be a string")
        return None
    if len(value) > MAX_URL_CHARS:
        problems.add(source, f"url must be at most {MAX_URL_CHARS} characters")
        return None
    if any(not 0x20 < ord(char) < 0x7F for char in value):
        problems.add(
            source, "url must not contain spaces, control or non-ASCII characters (percent-encode them)"
        )
        return None
    parts = _split_url(value)
    if parts is None:
        problems.add(source, "url is not a valid URL")
        return None
    if parts.scheme not in HTTP_DEFAULT_PORTS:
        problems.add(source, "url must use https")
        return None
    if "@" in parts.netloc:
        problems.add(source, "url must not contain user information")
    if "#" in value:
        problems.add(source, "url must not contain a fragment")
    host_problem = _host_problem(parts.hostname)
    if host_problem is not None:
        problems.add(source, f"url {host_problem}")
    if parts.port == 0:
        problems.add(source, "url port must be from 1 to 65535")
    return value


def parse_stomp_address(text: str) -> StompAddress:
    """One `stomp://host[:port]` or `stomp+ssl://host[:port]` address; ValueError when it is not one."""
    if len(text) > MAX_URL_CHARS or any(not 0x20 < ord(char) < 0x7F for char in text):
        raise ValueError(STOMP_ADDRESS_RULE)
    parts = _split_url(text)
    if (
        parts is None
        or parts.scheme not in STOMP_DEFAULT_PORTS
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or "#" in text
        or parts.port == 0
        or _host_problem(parts.hostname) is not None
        or parts.hostname is None
    ):
        raise ValueError(STOMP_ADDRESS_RULE)
    port = parts.port if parts.port is not None else STOMP_DEFAULT_PORTS[parts.scheme]
    return StompAddress(parts.scheme, parts.hostname.removesuffix("."), port)


def _parse_secret_key(value: object, source: str, problems: Problems) -> str | None:
    """`secret_key` (§3.2): 1-255 printable ASCII characters, no space at either end; sent as a header."""
    if _is_absent(value):
        return None
    if not isinstance(value, str):
        problems.add(source, "secret_key must be a string")
        return None
    if len(value) > MAX_SECRET_KEY_CHARS:
        problems.add(source, f"secret_key must be 1 to {MAX_SECRET_KEY_CHARS} characters")
    elif any(not 0x20 <= ord(char) <= 0x7E for char in value):
        problems.add(source, "secret_key must be printable ASCII characters (0x20 to 0x7E)")
    elif value != value.strip(" "):
        problems.add(source, "secret_key must not start or end with a space")
    else:
        return value
    return None


def _parse_stomp_text(name: str, value: object, source: str, problems: Problems) -> str | None:
    """An optional STOMP header value: `username`, `password`, `virtual_host`."""
    if _is_absent(value):
        return None
    if not isinstance(value, str):
        problems.add(source, f"{name} must be a string")
    elif len(value) > MAX_STOMP_TEXT_CHARS:
        problems.add(source, f"{name} must be at most {MAX_STOMP_TEXT_CHARS} characters")
    elif _has_control_characters(value):
        # STOMP 1.2 does not escape CONNECT headers, so a line break would start a header of its own.
        problems.add(source, f"{name} must not contain control characters")
    else:
        return value
    return None


def _webhook(
    raw: Mapping[str, object], source: str, problems: Problems, signing_secret: SigningSecret | None
) -> WebhookConfiguration | None:
    found = len(problems.found)
    url = _parse_webhook_url(raw.get("url"), f"{source}.url", problems)
    secret_key = _parse_secret_key(raw.get("secret_key"), f"{source}.secret_key", problems)
    if url is None or signing_secret is None or len(problems.found) > found:
        return None
    return WebhookConfiguration(url=url, secret_key=secret_key, signing_secret=signing_secret)


def _stomp(raw: Mapping[str, object], source: str, problems: Problems) -> StompConfiguration | None:
    found = len(problems.found)
    addresses: list[StompAddress] = []
    value = raw.get("addresses")
    if value is None:
        problems.add(f"{source}.addresses", "addresses is required")
    elif not isinstance(value, list) or not 1 <= len(value) <= MAX_STOMP_ADDRESSES:
        problems.add(
            f"{source}.addresses",
            f"addresses must be an array of 1 to {MAX_STOMP_ADDRESSES} broker addresses",
        )
    else:
        for index, text in enumerate(value):
            try:
                if not isinstance(text, str):
                    raise ValueError(STOMP_ADDRESS_RULE)
                addresses.append(parse_stomp_address(text))
            except ValueError:
                problems.add(f"{source}.addresses.{index}", STOMP_ADDRESS_RULE)
    destination = raw.get("destination")
    if _is_absent(destination):
        problems.add(f"{source}.destination", "destination is required")
    elif (
        not isinstance(destination, str)
        or not 1 <= len(destination) <= MAX_DESTINATION_CHARS
        or not destination.startswith("/")
        or _has_control_characters(destination)
    ):
        problems.add(
            f"{source}.destination",
            f"destination must be 1 to {MAX_DESTINATION_CHARS} characters starting with /",
        )
    username = _parse_stomp_text("username", raw.get("username"), f"{source}.username", problems)
    password = _parse_stomp_text("password", raw.get("password"), f"{source}.password", problems)
    virtual_host = _parse_stomp_text(
        "virtual_host", raw.get("virtual_host"), f"{source}.virtual_host", problems
    )
    if password is not None and _is_absent(raw.get("username")):
        problems.add(f"{source}.password", "password needs a username")
    if len(problems.found) > found or not isinstance(destination, str):
        return None
    return StompConfiguration(
        addresses=tuple(addresses),
        destination=destination,
        username=username,
        password=password,
        virtual_host=virtual_host,
    )


def _sqs(raw: Mapping[str, object], source: str, problems: Problems) -> SqsConfiguration | None:
    found = len(problems.found)
    missing = {key for key in _REQUIRED_KEYS[IntegrationType.AWS_SQS] if _is_absent(raw.get(key))}
    for key in sorted(missing):
        problems.add(f"{source}.{key}", f"{key} is required")
    url = raw.get("url")
    matched = _SQS_URL.fullmatch(url) if isinstance(url, str) else None
    if "url" not in missing and (matched is None or len(matched.group("queue")) > MAX_SQS_QUEUE_NAME_CHARS):
        problems.add(f"{source}.url", SQS_URL_RULE)
    key_id = raw.get("aws_access_key_id")
    if "aws_access_key_id" not in missing and (
        not isinstance(key_id, str)
        or not MIN_AWS_KEY_ID_CHARS <= len(key_id) <= MAX_AWS_KEY_ID_CHARS
        or not _AWS_KEY_ID.fullmatch(key_id)
    ):
        problems.add(
            f"{source}.aws_access_key_id",
            f"aws_access_key_id must be {MIN_AWS_KEY_ID_CHARS} to {MAX_AWS_KEY_ID_CHARS} characters "
            "A-Z and 0-9",
        )
    secret = raw.get("aws_secret_access_key")
    if "aws_secret_access_key" not in missing and (
        not isinstance(secret, str) or len(secret) > MAX_AWS_SECRET_CHARS
    ):
        problems.add(
            f"{source}.aws_secret_access_key",
            f"aws_secret_access_key must be 1 to {MAX_AWS_SECRET_CHARS} characters",
        )
    region = raw.get("region")
    if "region" in missing:
        pass
    elif not isinstance(region, str):
        problems.add(f"{source}.region", "region must be an AWS region name")
    elif matched is not None and region != matched.group("region"):
        problems.add(f"{source}.region", f"region must equal the region in url ({matched.group('region')})")
    if (
        len(problems.found) > found
        or not isinstance(url, str)
        or not isinstance(key_id, str)
        or not isinstance(secret, str)
        or not isinstance(region, str)
    ):
        return None
    return SqsConfiguration(url=url, aws_access_key_id=key_id, aws_secret_access_key=secret, region=region)


def _configuration(
    integration_type: IntegrationType,
    raw: Mapping[str, object],
    source: str,
    problems: Problems,
    signing_secret: SigningSecret | None,
) -> Configuration | None:
    if integration_type is IntegrationType.WEBHOOK:
        return _webhook(raw, source, problems, signing_secret)
    if integration_type is IntegrationType.STOMP:
        return _stomp(raw, source, problems)
    return _sqs(raw, source, problems)


def _object(raw: object, source: str) -> Mapping[str, object]:
    if not isinstance(raw, dict):
        raise IntegrationInvalid([problem(source, "configuration must be an object")])
    return raw


def parse_configuration(
    integration_type: IntegrationType, raw: object, *, source: str = "data.configuration"
) -> Configuration:
    """A complete configuration for `integration_type` (integrations §3.2); a webhook without
    `signing_secret` gets a new one. Keys of other types are ignored."""
    fields = _object(raw, source)
    problems = Problems()
    signing_secret = None
    if integration_type is IntegrationType.WEBHOOK:
        supplied = fields.get("signing_secret")
        if _is_absent(supplied):
            signing_secret = SigningSecret.generate()
        else:
            signing_secret = problems.check(
                lambda: SigningSecret.parse(supplied, source=f"{source}.signing_secret")
            )
    configuration = _configuration(integration_type, fields, source, problems, signing_secret)
    problems.raise_if_any()
    assert configuration is not None
    return configuration


def _fields(configuration: Configuration) -> dict[str, object]:
    """The request keys of a stored configuration, with the real secrets."""
    if isinstance(configuration, WebhookConfiguration):
        return {"url": configuration.url, "secret_key": configuration.secret_key}
    if isinstance(configuration, StompConfiguration):
        return {
            "addresses": [address.text for address in configuration.addresses],
            "destination": configuration.destination,
            "username": configuration.username,
            "password": configuration.password,
            "virtual_host": configuration.virtual_host,
        }
    return {
        "url": configuration.url,
        "aws_access_key_id": configuration.aws_access_key_id,
        "aws_secret_access_key": configuration.aws_secret_access_key,
        "region": configuration.region,
    }


def merge_configuration(
    stored: Configuration,
    raw_update: object,
    *,
    new_type: IntegrationType | None,
    source: str = "data.configuration",
) -> Configuration:
    """The configuration after a W4 PUT (integrations §2.5, D-I7): keys not sent keep their value, `null`
    or `""` removes an optional key, a masked secret sent back keeps the stored one, `signing_secret` is
    ignored, and a change of type needs a complete configuration of the new type."""
    update = _object(raw_update, source)
    if new_type is not None and new_type is not stored.integration_type:
        without_secret = {key: value for key, value in update.items() if key != "signing_secret"}
        return parse_configuration(new_type, without_secret, source=source)
    integration_type = stored.integration_type
    current = _fields(stored)
    merged = dict(current)
    problems = Problems()
    for key in _REQUIRED_KEYS[integration_type] + _OPTIONAL_KEYS[integration_type]:
        if key not in update:
            continue
        value = update[key]
        stored_value = current[key]
        if _is_absent(value):
            if key in _REQUIRED_KEYS[integration_type]:
                problems.add(f"{source}.{key}", f"{key} is required and cannot be removed")
            merged[key] = None
        elif (
            key in _MASKED_KEYS[integration_type]
            and isinstance(stored_value, str)
            and value == mask(stored_value)
        ):
            merged[key] = stored_value
        else:
            merged[key] = value
    if (
        isinstance(stored, StompConfiguration)
        and merged["password"] is not None
        and merged["username"] is None
    ):
        if "username" in update:
            problems.add(f"{source}.username", "username cannot be removed while a password is set")
        else:
            problems.add(f"{source}.password", "password needs a username")
    problems.raise_if_any()
    signing_secret = stored.signing_secret if isinstance(stored, WebhookConfiguration) else None
    configuration = _configuration(integration_type, merged, source, problems, signing_secret)
    problems.raise_if_any()
    assert configuration is not None
    return configuration


# ---- showing and storing -------------------------------------------------------------------------------


def _without_none(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


def public_configuration(
    configuration: Configuration, *, reveal_signing_secret: bool = False
) -> dict[str, object]:
    """The configuration as API responses show it (integrations §3.3): AWS keys, `password` and
    `signing_secret` masked, `secret_key` as stored; the full signing secret only when W1 generated it or
    X1 rotated it."""
    if isinstance(configuration, WebhookConfiguration):
        secret = configuration.signing_secret
        return _without_none(
            {
                "url": configuration.url,
                "secret_key": configuration.secret_key,
                "signing_secret": secret.text if reveal_signing_secret else mask_signing_secret(secret),
            }
        )
    if isinstance(configuration, StompConfiguration):
        return _without_none(
            {
                "addresses": [address.text for address in configuration.addresses],
                "destination": configuration.destination,
                "username": configuration.username,
                "password": None if configuration.password is None else mask(configuration.password),
                "virtual_host": configuration.virtual_host,
            }
        )
    return {
        "url": configuration.url,
        "aws_access_key_id": mask(configuration.aws_access_key_id),
        "aws_secret_access_key": mask(configuration.aws_secret_access_key),
        "region": configuration.region,
    }


def event_configuration(configuration: Configuration) -> dict[str, object]:
    """The configuration inside `integration.*` event payloads: every secret masked, `secret_key` too
    (integrations §3.3, §7.1)."""
    shown = public_configuration(configuration)
    if isinstance(configuration, WebhookConfiguration) and configuration.secret_key is not None:
        shown["secret_key"] = mask(configuration.secret_key)
    return shown


def split_configuration(configuration: Configuration) -> tuple[dict[str, object], dict[str, str]]:
    """The configuration as storage keeps it: plain fields, and the secrets to encrypt (integrations §8.4)."""
    if isinstance(configuration, WebhookConfiguration):
        secrets = {"signing_secret": configuration.signing_secret.text}
        if configuration.secret_key is not None:
            secrets["secret_key"] = configuration.secret_key
        return {"url": configuration.url}, secrets
    if isinstance(configuration, StompConfiguration):
        plain = _without_none(
            {
                "addresses": [address.text for address in configuration.addresses],
                "destination": configuration.destination,
                "username": configuration.username,
                "virtual_host": configuration.virtual_host,
            }
        )
        password = {} if configuration.password is None else {"password": configuration.password}
        return plain, password
    return (
        {"url": configuration.url, "region": configuration.region},
        {
            "aws_access_key_id": configuration.aws_access_key_id,
            "aws_secret_access_key": configuration.aws_secret_access_key,
        },
    )


def _stored_text(fields: Mapping[str, object], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise ValueError(f"stored configuration key {key} is not a string")
    return value


def _stored_optional(fields: Mapping[str, object], key: str) -> str | None:
    return _stored_text(fields, key) if fields.get(key) is not None else None


def join_configuration(
    integration_type: IntegrationType, plain: Mapping[str, object], secrets: Mapping[str, str]
) -> Configuration:
    """The configuration from what `split_configuration` gave storage; ValueError on damaged data."""
    try:
        if integration_type is IntegrationType.WEBHOOK:
            return WebhookConfiguration(
                url=_stored_text(plain, "url"),
                secret_key=secrets.get("secret_key"),
                signing_secret=SigningSecret.parse(secrets["signing_secret"]),
            )
        if integration_type is IntegrationType.STOMP:
            addresses = plain["addresses"]
            if not isinstance(addresses, list):
                raise ValueError("stored STOMP addresses are not a list")
            return StompConfiguration(
                addresses=tuple(parse_stomp_address(str(text)) for text in addresses),
                destination=_stored_text(plain, "destination"),
                username=_stored_optional(plain, "username"),
                password=secrets.get("password"),
                virtual_host=_stored_optional(plain, "virtual_host"),
            )
        return SqsConfiguration(
            url=_stored_text(plain, "url"),
            aws_access_key_id=secrets["aws_access_key_id"],
            aws_secret_access_key=secrets["aws_secret_access_key"],
            region=_stored_text(plain, "region"),
        )
    except (KeyError, IntegrationInvalid) as error:
        raise ValueError(f"stored {integration_type} configuration is damaged: {error}") from None


# ---- destinations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryTarget:
    """One host a configuration delivers to, as the destination check needs it (integrations §8.1)."""

    host: str
    port: int
    # `http` or `stomp` when the connection has no TLS: allowed only to allow-listed private targets.
    plain_scheme: str | None
    # Where a save-time 422 about this target points, and the field name its detail starts with.
    source: str
    field: str

    @property
    def literal_address(self) -> IPAddress | None:
        """The address when the host is an IP literal (nothing to resolve), else None."""
        try:
            return ip_address(self.host)
        except ValueError:
            return None

    def vet(
        self, addresses: Sequence[IPAddress], *, allowed: PrivateTargets, private_targets_enabled: bool
    ) -> DestinationVerdict:
        """Judge this target given the addresses its host resolves to (integrations §8.1-8.3)."""
        return vet_destination(
            self.host,
            self.port,
            addresses,
            allowed=allowed,
            private_targets_enabled=private_targets_enabled,
            plain_scheme=self.plain_scheme,
            field=self.field,
        )


def needs_private_target(target: str | StompAddress) -> bool:
    """Whether a webhook URL or STOMP address uses a plain scheme (`http`, `stomp`), which only an
    allow-listed private target may receive (integrations §8.2)."""
    if isinstance(target, StompAddress):
        return not target.tls
    return urlsplit(target).scheme in ("http", "stomp")


def destination_targets(
    configuration: Configuration, *, source: str = "data.configuration"
) -> tuple[DeliveryTarget, ...]:
    """The hosts a configuration delivers to; none for SQS, whose host is fixed to AWS (§8.1)."""
    if isinstance(configuration, WebhookConfiguration):
        parts = urlsplit(configuration.url)
        assert parts.hostname is not None
        return (
            DeliveryTarget(
                host=parts.hostname.removesuffix("."),
                port=parts.port or HTTP_DEFAULT_PORTS[parts.scheme],
                plain_scheme="http" if parts.scheme == "http" else None,
                source=f"{source}.url",
                field="url",
            ),
        )
    if isinstance(configuration, StompConfiguration):
        return tuple(
            DeliveryTarget(
                host=address.host,
                port=address.port,
                plain_scheme=None if address.tls else "stomp",
                source=f"{source}.addresses.{index}",
                field="address",
            )
            for index, address in enumerate(configuration.addresses)
        )
    return ()
