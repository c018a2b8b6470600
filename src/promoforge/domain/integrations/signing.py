"""Standard Webhooks signing: `whsec_` secrets and the `webhook-signature` header (integrations §6.2-6.3)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from secrets import token_bytes

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.validation import problem

SIGNING_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
GENERATED_SECRET_BYTES = 32
# How long the previous secret keeps signing after a rotation (§6.3).
ROTATION_OVERLAP = timedelta(hours=24)
SIGNING_SECRET_RULE = (
    f"signing_secret must be {SIGNING_SECRET_PREFIX} followed by the base64 of "
    f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes"
)


@dataclass(frozen=True)
class SigningSecret:
    """One integration's HMAC key, shown to people as `whsec_<base64>`."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not MIN_SECRET_BYTES <= len(self.key) <= MAX_SECRET_BYTES:
            raise ValueError(f"a signing key has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")

    @classmethod
    def generate(cls) -> SigningSecret:
        """A new secret from the operating system's cryptographic source."""
        return cls(token_bytes(GENERATED_SECRET_BYTES))

    @classmethod
    def parse(cls, text: object, *, source: str = "data.configuration.signing_secret") -> SigningSecret:
        """The secret a client supplied; 422 unless `whsec_` + base64 of 24-64 bytes."""
        if not isinstance(text, str) or not text.startswith(SIGNING_SECRET_PREFIX):
            raise IntegrationInvalid([problem(source, SIGNING_SECRET_RULE)])
        try:
            key = base64.b64decode(text.removeprefix(SIGNING_SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise IntegrationInvalid([problem(source, SIGNING_SECRET_RULE)]) from None
        if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
            raise IntegrationInvalid([problem(source, SIGNING_SECRET_RULE)])
        return cls(key)

    @property
    def text(self) -> str:
        """The full `whsec_...` form."""
        return SIGNING_SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")


def signature(secret: SigningSecret, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` (integrations §6.2)."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[SigningSecret], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret, newest first, space-separated (§6.3)."""
    if not secrets:
        raise ValueError("a webhook is signed with at least one secret")
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets)


def signing_secrets_at(
    current: SigningSecret,
    previous: SigningSecret | None,
    previous_valid_until: datetime | None,
    now: datetime,
) -> tuple[SigningSecret, ...]:
    """The secrets a delivery at `now` is signed with: the current one, and the previous one during the
    24 hours after a rotation (integrations §6.3)."""
    if previous is None or previous_valid_until is None or now >= previous_valid_until:
        return (current,)
    return (current, previous)
