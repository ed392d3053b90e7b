"""The field types of the REST API's bodies: what each kind of value may be, checked with
messages a person can read and published in the JSON schemas.

Text rules are checked in Python and published as JSON Schema patterns, which clients (and
fuzzers) read with the same meaning of ``\\s``. No text may hold NUL: PostgreSQL cannot store it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from content import TEMPLATES
from server.email_address import InvalidEmail, normalize_email

__all__ = [
    "ACTOR_TYPES",
    "ActorType",
    "Country",
    "Cursor",
    "Description",
    "INVALID_EMAIL",
    "Email",
    "InstanceRole",
    "JsonInt",
    "LoginEmail",
    "LoginText",
    "Name",
    "Omitted",
    "Organisation",
    "Password",
    "Role",
    "Secret",
    "TemplateName",
    "TokenName",
    "Visibility",
    "omit_default",
]

Role = Literal["owner", "editor", "commenter", "viewer"]
Visibility = Literal["private", "public"]
InstanceRole = Literal["admin", "user"]
ActorType = Literal[
    "ministry",
    "social_security_fund",
    "mutual_health_organisation",
    "ngo",
    "social_partner",
    "donor",
    "trainer",
    "researcher",
    "technical_cooperation_project",
    "cooperative",
    "other",
]
ACTOR_TYPES: tuple[str, ...] = get_args(ActorType)
"""The kinds of actor a profile may name (DOMAIN.md, "People and roles")."""


def _known_template(value: str) -> str:
    if value not in TEMPLATES:
        raise ValueError(f"unknown template; expected one of {', '.join(TEMPLATES)}")
    return value


TemplateName = Annotated[
    str,
    Field(json_schema_extra={"enum": list(TEMPLATES)}),
    AfterValidator(_known_template),
]


def _integral(value: object) -> object:
    # JSON does not tell 3 from 3.0, and JSON Schema calls both integers; Python's parser
    # does, and a strict int would refuse the float.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def omit_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


Omitted = Field(None, json_schema_extra=omit_default)
"""The default of a field that may be left out but not sent as null."""

JsonInt = Annotated[int, BeforeValidator(_integral)]

_NO_NUL = r"^[^\x00]*$"
_TRIMMED = r"^[^\s\x00]([^\x00]*[^\s\x00])?$"
# ECMAScript's \s spelled out, so that the published pattern and Python's check agree (Python's
# \s also takes \x1c-\x1f and \x85, which normalize_email refuses as control characters).
_ECMA_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_EMAIL = rf"^[^@{_ECMA_SPACE}\x00]+@[^@{_ECMA_SPACE}\x00]+\.[^@{_ECMA_SPACE}\x00]+$"


def _text_rule(pattern: str, message: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _text(min_length: int, max_length: int, pattern: str, message: str) -> Any:
    return (
        Field(min_length=min_length, max_length=max_length, json_schema_extra={"pattern": pattern}),
        _text_rule(pattern, message),
    )


_NUL_MESSAGE = "may not contain NUL characters"
_TRIM_MESSAGE = "may not be blank, start or end with spaces, or contain NUL characters"

INVALID_EMAIL = "invalid_email"
"""The pydantic error type of an address :func:`normalize_email` refuses (answered with 400)."""


def _normalized_email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as exc:
        raise PydanticCustomError(INVALID_EMAIL, str(exc)) from None


Email = Annotated[
    str,
    *_text(3, 254, _EMAIL, "is not an e-mail address"),
    AfterValidator(_normalized_email),
]
"""An address for an account: stored and compared in :func:`normalize_email`'s form."""
Name = Annotated[str, *_text(1, 200, _TRIMMED, _TRIM_MESSAGE)]
TokenName = Annotated[str, *_text(1, 100, _TRIMMED, _TRIM_MESSAGE)]
Password = Annotated[str, *_text(8, 1024, _NO_NUL, _NUL_MESSAGE)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]
Organisation = Annotated[str, *_text(0, 200, _NO_NUL, _NUL_MESSAGE)]
Description = Annotated[str, *_text(0, 2000, _NO_NUL, _NUL_MESSAGE)]
Cursor = Annotated[str, Field(max_length=500)]
Secret = Annotated[str, *_text(1, 200, _NO_NUL, _NUL_MESSAGE)]
LoginText = Annotated[str, *_text(1, 1024, _NO_NUL, _NUL_MESSAGE)]
LoginEmail = Annotated[str, *_text(1, 254, _NO_NUL, _NUL_MESSAGE)]
"""An address to sign in with: any text (an unknown one is just a failed sign-in); the
handler looks it up by :func:`server.email_address.lookup_forms`."""
