"""The access token document and the form that asks for one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AccessToken(BaseModel):
    """A bearer token, with its lifetime in seconds and its expiry as a Unix time."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    expires: int
    identifier: str


class TokenForm(BaseModel):
    """The form fields of POST /oauth/access_token."""

    grant_type: Literal["client_credentials", "implicit"]
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: str = Field("", max_length=512, description="Required for client_credentials")
