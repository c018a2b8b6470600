"""Keys that sign access tokens and download links: where they come from, rotation and retirement.

Keys live in the database (`service_keys` rows named `signing-key:<kid>`, the newest signs), or, so that a
read of the database is not enough to forge a token, in the environment (`PROMOFORGE_SIGNING_KEYS`) or a
file (`PROMOFORGE_SIGNING_KEY_FILE`), where the first entry signs. Every key in the set verifies, so a
rotation logs nobody out; tokens and links name the key (its kid) they were signed with.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from promoforge.config import Settings
from promoforge.domain.errors import FieldProblem, InvalidInput
from promoforge.storage.repositories import Transactor

log = logging.getLogger("promoforge.keys")

KEY_NAME_PREFIX = "signing-key:"
# Keys of earlier versions (one per purpose, SHA-1 signatures); nothing they signed verifies any more.
LEGACY_KEY_NAMES = ("access-token-signing", "export-link-signing")
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
MIN_SECRET_CHARS = 32
# A token naming a kid this process does not know makes it re-read the database, at most this often.
UNKNOWN_KID_RELOAD_SECONDS = 1.0


class SigningKeysInvalid(RuntimeError):
    """The configured signing keys cannot be used."""


class KeysNotRotatable(RuntimeError):
    """The keys come from the environment or a file: the operator rotates them there."""


@dataclass(frozen=True)
class SigningKey:
    """One key: its id (sent with what it signs), its secret, and when it was made (database keys)."""

    kid: str
    secret: str = field(repr=False)
    created_at: datetime | None = None


def parse_key_entries(text: str, *, origin: str) -> list[SigningKey]:
    """Parse `kid:secret` entries separated by commas, spaces or lines (`#` starts a comment line)."""
    entries = [
        entry
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for entry in re.split(r"[,\s]+", line)
        if entry
    ]
    keys: list[SigningKey] = []
    for number, entry in enumerate(entries, start=1):
        kid, sep, secret = entry.partition(":")
        if not sep or not KID_PATTERN.fullmatch(kid):
            raise SigningKeysInvalid(
                f"{origin}: entry {number} must be kid:secret with a kid of 1-32 letters, digits, - or _"
            )
        if len(secret) < MIN_SECRET_CHARS:
            raise SigningKeysInvalid(
                f"{origin}: the secret of key {kid!r} must be at least {MIN_SECRET_CHARS} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if any(key.kid == kid for key in keys):
            raise SigningKeysInvalid(f"{origin}: key id {kid!r} appears twice")
        keys.append(SigningKey(kid=kid, secret=secret))
    if not keys:
        raise SigningKeysInvalid(f"{origin} holds no key")
    return keys


def configured_source(settings: Settings) -> str | None:
    """Name where the operator put the keys, or None when they are kept in the database."""
    if settings.signing_keys is not None and settings.signing_key_file is not None:
        raise SigningKeysInvalid("set PROMOFORGE_SIGNING_KEYS or PROMOFORGE_SIGNING_KEY_FILE, not both")
    if settings.signing_keys is not None:
        return "PROMOFORGE_SIGNING_KEYS"
    if settings.signing_key_file is not None:
        return f"PROMOFORGE_SIGNING_KEY_FILE ({settings.signing_key_file})"
    return None


def _file_keys(path: Path) -> list[SigningKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SigningKeysInvalid(f"cannot read the signing key file {path}: {error.strerror}") from None
    return parse_key_entries(text, origin=f"signing key file {path}")


def _database_keys(db: Transactor) -> list[SigningKey]:
    """The stored keys, newest (the signing key) first."""
    with db.read() as repos:
        rows = repos.keys.with_prefix(KEY_NAME_PREFIX)
    keys = [SigningKey(kid=name.removeprefix(KEY_NAME_PREFIX), secret=s, created_at=c) for name, s, c in rows]
    return sorted(keys, key=lambda key: (key.created_at, key.kid), reverse=True)


def ensure_database_key(db: Transactor, *, now: datetime) -> None:
    """Store a first signing key when there is none, and drop the keys of earlier versions."""
    with db.write() as repos:
        repos.keys.delete(list(LEGACY_KEY_NAMES))
        if not repos.keys.with_prefix(KEY_NAME_PREFIX):
            repos.keys.get_or_create(KEY_NAME_PREFIX + _new_kid(), _new_secret(), now)


class KeyRing:
    """The current keys of this process, re-read from their source so every process sees a rotation."""

    def __init__(self, load: Callable[[], list[SigningKey]], *, refresh_seconds: float) -> None:
        self._load = load
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._keys = load()
        self._loaded_at = time.monotonic()
        self._unknown_kid_reload_at = float("-inf")

    def signing_key(self) -> SigningKey:
        """The key that signs now."""
        return self._current()[0]

    def key(self, kid: str) -> SigningKey | None:
        """The key with this id, re-reading the source once (rate-limited) when it is not known yet."""
        found = next((key for key in self._current() if key.kid == kid), None)
        now = time.monotonic()
        if found is None and now - self._unknown_kid_reload_at >= UNKNOWN_KID_RELOAD_SECONDS:
            # Made by a rotation in another process; a flood of made-up kids costs one read a second.
            self._unknown_kid_reload_at = now
            found = next((key for key in self.reload() if key.kid == kid), None)
        return found

    def reload(self) -> list[SigningKey]:
        """Re-read the keys now; keep the ones held if the source has none or cannot be read."""
        with self._lock:
            self._loaded_at = time.monotonic()
            try:
                keys = self._load()
            except Exception:
                log.warning("could not re-read the signing keys; keeping the current ones", exc_info=True)
                return self._keys
            if keys:
                self._keys = keys
            return self._keys

    def _current(self) -> list[SigningKey]:
        if time.monotonic() - self._loaded_at >= self._refresh_seconds:
            return self.reload()
        return self._keys


def open_key_ring(settings: Settings, db: Transactor, *, now: datetime) -> KeyRing:
    """The key ring for the configured source; database keys are created on first use."""
    source = configured_source(settings)
    if settings.signing_keys is not None:
        keys = parse_key_entries(settings.signing_keys.get_secret_value(), origin=source or "")
        return KeyRing(lambda: keys, refresh_seconds=float("inf"))
    if settings.signing_key_file is not None:
        path = settings.signing_key_file
        return KeyRing(lambda: _file_keys(path), refresh_seconds=settings.signing_keys_refresh_seconds)
    ensure_database_key(db, now=now)
    return KeyRing(lambda: _database_keys(db), refresh_seconds=settings.signing_keys_refresh_seconds)


@dataclass(frozen=True)
class KeyListing:
    """The keys as `keys list` shows them: never their secrets."""

    source: str
    keys: list[SigningKey]
    keys_in_database: int


def list_keys(settings: Settings, db: Transactor) -> KeyListing:
    """Describe the keys in use, signing key first."""
    source = configured_source(settings)
    stored = _database_keys(db)
    if settings.signing_keys is not None:
        keys = parse_key_entries(settings.signing_keys.get_secret_value(), origin=source or "")
    elif settings.signing_key_file is not None:
        keys = _file_keys(settings.signing_key_file)
    else:
        keys = stored
    return KeyListing(source=source or "database", keys=keys, keys_in_database=len(stored))


def rotate_keys(settings: Settings, db: Transactor, *, now: datetime) -> SigningKey:
    """Make a new database key the signing key; the older ones keep verifying until retired."""
    source = configured_source(settings)
    if source is not None:
        raise KeysNotRotatable(
            f"the signing keys come from {source}; rotate them there: put a new kid:secret first and "
            "keep the old one after it until what it signed has expired"
        )
    ensure_database_key(db, now=now)
    kid, secret = _new_kid(), _new_secret()
    with db.write() as repos:
        newest = repos.keys.with_prefix(KEY_NAME_PREFIX)
        # The new key must sort first even if the clock stepped back since the newest one was made.
        created_at = max([now, *(created + timedelta(microseconds=1) for _, _, created in newest)])
        repos.keys.get_or_create(KEY_NAME_PREFIX + kid, secret, created_at)
    return SigningKey(kid=kid, secret=secret, created_at=created_at)


def retire_keys(
    settings: Settings, db: Transactor, *, now: datetime, keep: int | None = None
) -> list[SigningKey]:
    """Delete database keys nothing valid can name any more (or all but the `keep` newest); return them.

    A key replaced by a newer one is still named by tokens and links signed before the replacement (and by
    processes that have not re-read the keys yet), so by default it is kept until the longest lifetime of
    either has passed since then. With the keys in the environment or a file, the database ones are unused
    and all go.
    """
    if keep is not None and keep < 1:
        raise InvalidInput([FieldProblem("keep", "keep must be at least 1 (the signing key)")])
    stored = _database_keys(db)
    names: list[str] = []
    if configured_source(settings) is not None:
        retired = stored
        names.extend(LEGACY_KEY_NAMES)
    elif keep is not None:
        retired = stored[keep:]
    else:
        grace = timedelta(
            seconds=max(settings.token_ttl_seconds, settings.export_link_ttl_seconds)
            + settings.signing_keys_refresh_seconds
        )
        retired = [
            key
            for newer, key in pairwise(stored)
            if newer.created_at is not None and newer.created_at + grace <= now
        ]
    with db.write() as repos:
        repos.keys.delete(names + [KEY_NAME_PREFIX + key.kid for key in retired])
    return retired


def _new_kid() -> str:
    return secrets.token_hex(4)


def _new_secret() -> str:
    return secrets.token_urlsafe(48)
