"""Secrets the service must be able to use again (integration secrets), sealed with AES-GCM under a server
key that lives outside the database: `PROMOFORGE_SECRETS_KEYS`, `PROMOFORGE_SECRETS_KEY_FILE`, or, when
neither is set, a key file the service creates in its data directory.

Every sealed value names the key (kid) that sealed it, so keys can be rotated: the first key seals, every
key opens. A value is bound to what it belongs to (its row's id) as associated data, so a sealed value
copied to another row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from promoforge.config import Settings

log = logging.getLogger("promoforge.secrets")

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
GENERATED_KEY_FILE = "secrets.keys"


class SecretKeysInvalid(RuntimeError):
    """The configured secrets keys cannot be used."""


class SecretUnreadable(RuntimeError):
    """A sealed value does not open: its key is not configured here, or it was altered or moved."""


@dataclass(frozen=True)
class SecretKey:
    """One AES-256 key and the id stored with what it seals."""

    kid: str
    key: bytes = field(repr=False)


def parse_secret_keys(text: str, *, origin: str) -> list[SecretKey]:
    """`kid:<base64 of 32 bytes>` entries separated by commas, spaces or lines; `#` starts a comment line."""
    keys: list[SecretKey] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for entry in re.split(r"[,\s]+", line.strip()):
            if not entry:
                continue
            kid, _, encoded = entry.partition(":")
            if not KID_PATTERN.fullmatch(kid):
                raise SecretKeysInvalid(f"{origin}: a key id is 1-32 letters, digits, _ or -")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise SecretKeysInvalid(f"{origin}: key {kid} is not base64") from None
            if len(key) != KEY_BYTES:
                raise SecretKeysInvalid(f"{origin}: key {kid} must be {KEY_BYTES} bytes, base64-encoded")
            keys.append(SecretKey(kid, key))
    if len({key.kid for key in keys}) != len(keys):
        raise SecretKeysInvalid(f"{origin}: a key id appears twice")
    return keys


def new_key_entry(kid: str) -> str:
    """A fresh `kid:<base64>` entry."""
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


class SecretBox:
    """Seals with the first key, opens with any."""

    def __init__(self, keys: Sequence[SecretKey]) -> None:
        if not keys:
            raise SecretKeysInvalid("no secrets key")
        self._sealing = keys[0]
        self._by_kid = {key.kid: AESGCM(key.key) for key in keys}

    @property
    def sealing_kid(self) -> str:
        """The id of the key that seals."""
        return self._sealing.kid

    def seal(self, plaintext: bytes, *, belongs_to: str) -> bytes:
        """`version | kid length | kid | nonce | ciphertext and tag`."""
        kid = self._sealing.kid.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_kid[self._sealing.kid].encrypt(nonce, plaintext, belongs_to.encode())
        return bytes([FORMAT_VERSION, len(kid)]) + kid + nonce + sealed

    def open(self, sealed: bytes, *, belongs_to: str) -> bytes:
        """The plaintext; SecretUnreadable when the key is unknown or the value was altered or moved."""
        if len(sealed) < 2 or sealed[0] != FORMAT_VERSION:
            raise SecretUnreadable("not a sealed value")
        kid_end = 2 + sealed[1]
        kid = sealed[2:kid_end].decode("ascii", errors="replace")
        cipher = self._by_kid.get(kid)
        if cipher is None:
            raise SecretUnreadable(f"sealed with key {kid!r}, which is not configured on this server")
        nonce, body = sealed[kid_end : kid_end + NONCE_BYTES], sealed[kid_end + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, body, belongs_to.encode())
        except InvalidTag:
            raise SecretUnreadable(f"a value sealed with key {kid!r} does not open here") from None


def open_secret_box(settings: Settings) -> SecretBox:
    """The box of the configured keys, else of the data directory's key file (created on first use)."""
    if settings.secrets_keys is not None:
        return SecretBox(
            parse_secret_keys(settings.secrets_keys.get_secret_value(), origin="PROMOFORGE_SECRETS_KEYS")
        )
    if settings.secrets_key_file is not None:
        path = settings.secrets_key_file
        return SecretBox(parse_secret_keys(path.read_text(), origin=str(path)))
    return SecretBox(parse_secret_keys(_generated_key_file(settings.data_dir).read_text(), origin="key file"))


def _generated_key_file(data_dir: Path) -> Path:
    """The data directory's key file, written once with owner-only permissions."""
    path = data_dir / GENERATED_KEY_FILE
    if path.exists():
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    entry = new_key_entry("k1")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this host wrote it first
        return path
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(
            f"# Seals integration secrets. Keep a copy: without it they cannot be used.\n{entry}\n"
        )
    log.warning(
        "integration secrets are sealed with a key generated in %s; with several hosts set "
        "PROMOFORGE_SECRETS_KEYS (the same on every host) instead",
        path,
    )
    return path
