"""The form that asks for an access token."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TokenForm(BaseModel):
    """The form fields of POST /oauth/access_token."""

    grant_type: Literal["client_credentials", "implicit"]
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: str = Field("", max_length=512, description="Required for client_credentials")
