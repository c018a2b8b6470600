"""Standard Webhooks signing: the spec's test vector, secret forms, and the two signatures of a rotation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.signing import (
    SigningSecret,
    signature,
    signature_header,
    signing_secrets_at,
)

VECTOR_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
VECTOR_ID = "5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11"
VECTOR_TIME = 1795428542
VECTOR_BODY = b'{"id":"5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11","triggered_by":"promotion.deleted","attempt":1}'
VECTOR_SIGNATURE = "v1,w+RxeQZDAt6q8r9Vrndl2HLE1fQdNaH5f2FGf6T9g98="


def test_the_spec_test_vector() -> None:
    secret = SigningSecret.parse(VECTOR_SECRET)
    assert secret.key == bytes(range(32))
    assert secret.text == VECTOR_SECRET
    assert signature(secret, VECTOR_ID, VECTOR_TIME, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_signature_covers_id_timestamp_and_every_body_byte() -> None:
    secret = SigningSecret.parse(VECTOR_SECRET)
    assert signature(secret, VECTOR_ID, VECTOR_TIME + 1, VECTOR_BODY) != VECTOR_SIGNATURE
    assert signature(secret, VECTOR_ID.upper(), VECTOR_TIME, VECTOR_BODY) != VECTOR_SIGNATURE
    assert signature(secret, VECTOR_ID, VECTOR_TIME, VECTOR_BODY + b" ") != VECTOR_SIGNATURE


def test_a_rotation_signs_with_the_new_secret_first_then_the_old() -> None:
    old = SigningSecret.parse(VECTOR_SECRET)
    new = SigningSecret.generate()
    header = signature_header([new, old], VECTOR_ID, VECTOR_TIME, VECTOR_BODY)
    first, second = header.split(" ")
    assert first == signature(new, VECTOR_ID, VECTOR_TIME, VECTOR_BODY)
    assert second == VECTOR_SIGNATURE
    assert signature_header([old], VECTOR_ID, VECTOR_TIME, VECTOR_BODY) == VECTOR_SIGNATURE
    with pytest.raises(ValueError, match="at least one"):
        signature_header([], VECTOR_ID, VECTOR_TIME, VECTOR_BODY)


def test_the_previous_secret_signs_for_24_hours_only() -> None:
    current, previous = SigningSecret.generate(), SigningSecret.generate()
    rotated = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    until = rotated + timedelta(hours=24)
    assert signing_secrets_at(current, previous, until, rotated) == (current, previous)
    assert signing_secrets_at(current, previous, until, until - timedelta(seconds=1)) == (current, previous)
    assert signing_secrets_at(current, previous, until, until) == (current,)
    assert signing_secrets_at(current, None, None, rotated) == (current,)


def test_generated_secrets_are_32_random_bytes_in_whsec_form() -> None:
    secrets = {SigningSecret.generate() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret.key) == 32
        assert secret.text.startswith("whsec_")
        assert base64.b64decode(secret.text[6:]) == secret.key
        assert SigningSecret.parse(secret.text) == secret
        assert secret.text[6:] not in repr(secret)


@pytest.mark.parametrize("size", [24, 64])
def test_supplied_secrets_of_24_to_64_bytes_are_accepted(size: int) -> None:
    text = "whsec_" + base64.b64encode(bytes(size)).decode()
    assert SigningSecret.parse(text).key == bytes(size)


@pytest.mark.parametrize(
    "text",
    [
        "whsec_" + base64.b64encode(bytes(23)).decode(),
        "whsec_" + base64.b64encode(bytes(65)).decode(),
        VECTOR_SECRET.removeprefix("whsec_"),
        "WHSEC_" + VECTOR_SECRET[6:],
        VECTOR_SECRET[:-1],
        VECTOR_SECRET.replace("A", "-", 1),
        VECTOR_SECRET + " ",
        "whsec_",
        42,
        None,
    ],
)
def test_other_secret_forms_are_a_422_naming_the_rule(text: object) -> None:
    with pytest.raises(IntegrationInvalid) as raised:
        SigningSecret.parse(text, source="data.signing_secret")
    [problem] = raised.value.problems
    assert (problem.source, problem.title) == ("data.signing_secret", "Validation Error")
    assert problem.detail == ("signing_secret must be whsec_ followed by the base64 of 24 to 64 random bytes")
