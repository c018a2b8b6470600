"""The access token document."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from promoforge.services.auth import IssuedToken


class AccessToken(TypedDict):
    """A bearer token, with its lifetime in seconds and its expiry as a Unix time."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    expires: int
    identifier: str


def token_document(token: IssuedToken) -> AccessToken:
    """The bare token fields, as EP returns them."""
    return {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "expires": token.expires,
        "identifier": token.identifier.value,
    }
