"""The emergency alert pages' forms (chalicelib/web/alerts_pages.py): what a resident
types to sign up and confirm, as wire models. Apart from the pages' module so that the
alerts in force, which API clients read as JSON on the same path, load no pydantic."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.schemas.admin import Email
from chalicelib.schemas.model import WireModel


class SignUpForm(WireModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    phone: Annotated[str | None, Field(max_length=30)] = None
    email: Email | None = None
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2}$")] = None
    address: Annotated[str | None, Field(max_length=200)] = None


class CodeForm(WireModel):
    model_config = ConfigDict(extra="ignore")

    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
