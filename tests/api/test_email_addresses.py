"""E-mail addresses on a real server: one account per mailbox however the address is typed,
and look-alikes refused with a 400 that says why."""

from __future__ import annotations

import uuid

import pytest

from tests.api.support import PASSWORD, Api
from tests.integration.server import GessServer


async def register_as(server: GessServer, email: str):
    return await Api(server.http_url).request(
        "POST", "/api/auth/register", {"email": email, "name": "Amina", "password": PASSWORD}
    )


@pytest.mark.parametrize(
    ("spelling", "why"),
    [
        ("\u0430mina-{n}@example.org", "scripts (Cyrillic and Latin)"),  # Cyrillic a
        ("amina-{n}@ex\u0430mple.org", "scripts (Cyrillic and Latin)"),
        ("ami\u200bna-{n}@example.org", "U+200B ZERO WIDTH SPACE"),
        ("amina-{n}\u2060@example.org", "U+2060 WORD JOINER"),
        ("amina-{n}@example.org\u200e", "U+200E LEFT-TO-RIGHT MARK"),
        ("ami\u00adna-{n}@example.org", "U+00AD SOFT HYPHEN"),
    ],
    ids=["cyrillic-local", "cyrillic-domain", "zero-width-space", "word-joiner", "lrm", "shy"],
)
async def test_look_alike_addresses_are_refused(
    accounts_server: GessServer, spelling: str, why: str
):
    response = await register_as(accounts_server, spelling.format(n=uuid.uuid4().hex[:8]))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_email"
    assert error["message"].startswith("email: ") and why in error["message"], error


async def test_one_mailbox_is_one_account_however_it_is_typed(accounts_server: GessServer):
    n = uuid.uuid4().hex[:8]
    created = await register_as(accounts_server, f"Amina.{n}@B\u00dcCHER.example")
    assert created.status_code == 201, created.text
    stored = created.json()["user"]["email"]
    assert stored == f"amina.{n}@xn--bcher-kva.example"

    full_width = "".join(chr(ord(c) + 0xFEE0) for c in f"AMINA.{n}")  # "ＡＭＩＮＡ..."
    for twin in (f"{full_width}@b\u00fccher.example", f"amina.{n}@xn--bcher-kva.example"):
        taken = await register_as(accounts_server, twin)
        assert taken.status_code == 409, (twin, taken.text)
        assert taken.json()["error"]["code"] == "email_taken"
        signed_in = await Api(accounts_server.http_url).request(
            "POST", "/api/auth/login", {"email": twin, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, (twin, signed_in.text)
        assert signed_in.json()["user"]["email"] == stored
