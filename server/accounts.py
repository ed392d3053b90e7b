"""Accounts: passwords, tokens, sessions, and the authenticator of the WebSocket.

Passwords are hashed with argon2id in a worker thread (hashing takes tens of milliseconds of
CPU, which must not stall the event loop). Tokens are ``gess_`` + 32 random bytes
(url-safe base64); the database keeps only their SHA-256, so reading it does not give anyone
a working token. A browser gets the same token in an HttpOnly cookie, plus a CSRF cookie that
scripts can read and must echo in ``X-CSRF-Token`` (double submit).
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import hmac
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.auth import ConnectRequest
from server.connection import Principal
from server.errors import AuthError
from server.permissions import can_write, socket_role
from storage.catalog import access_rows
from storage.clock import utcnow
from storage.database import Database
from storage.people import TokenRecord, UserRecord, insert_token, token_owner

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AccountAuthenticator",
    "Passwords",
    "RedactTokens",
    "SignedIn",
    "Tokens",
    "new_id",
    "presents_credential",
    "same_origin",
    "user_color",
]

logger = logging.getLogger("gess.accounts")

SESSION_COOKIE = "gess_session"
CSRF_COOKIE = "gess_csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "gess_"


def new_id() -> str:
    """A fresh id for a user, workspace, token, invitation or document (uuid4, hex)."""
    return uuid.uuid4().hex


def new_secret() -> str:
    """A fresh bearer secret: a token or an invitation token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What the database stores of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_matches(cookie: str | None, header: str | None) -> bool:
    """Whether a request proves it was made by a page that can read our cookies."""
    if not cookie or not header:
        return False
    return hmac.compare_digest(cookie.encode(), header.encode())


def user_color(user_id: str) -> str:
    """A stable cursor colour for a user (``#rrggbb``): the same on every node, every time.

    The hue comes from the id's hash; saturation and lightness are fixed so that every colour
    reads well on white and under white text.
    """
    digest = hashlib.sha256(user_id.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    red, green, blue = colorsys.hls_to_rgb(hue, 0.42, 0.65)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


class Passwords:
    """argon2id hashing in worker threads, at most ``concurrency`` at a time.

    Each hash takes tens of milliseconds of a core and a good deal of memory; a burst of
    sign-ins running all at once would make every one of them (and the event loop's other
    work) slow. Queued, each takes its own time and the cores stay for the rest.

    Args:
        hasher: the argon2 parameters (tests may pass cheaper ones).
        concurrency: hashes at once; the number of cores by default.
    """

    def __init__(
        self, hasher: PasswordHasher | None = None, concurrency: int | None = None
    ) -> None:
        self._hasher = hasher or PasswordHasher()
        self._decoy: str | None = None
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with ``password_hash`` None (no such account) the
        work is done anyway, so that a response time does not tell whether an e-mail is known.
        """
        if password_hash is None:
            if self._decoy is None:
                self._decoy = await self.hash(secrets.token_urlsafe(16))
            password_hash = self._decoy
            password = ""
        try:
            async with self._slots:
                return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who made a request, and how."""

    user: UserRecord
    token: TokenRecord
    by_cookie: bool
    """Authenticated by the session cookie (state-changing calls then need the CSRF header)."""


class Tokens:
    """Issuing and resolving bearer tokens.

    Args:
        database: where tokens are stored.
        session_days: how long a sign-in lasts.
    """

    def __init__(self, database: Database, *, session_days: float) -> None:
        self._database = database
        self.session_lifetime = timedelta(days=session_days)

    async def issue(
        self,
        user_id: str,
        *,
        kind: str = "session",
        name: str | None = None,
        lifetime: timedelta | None = None,
    ) -> tuple[str, TokenRecord]:
        """Create a token; the secret (shown once, never stored) and its record."""
        secret = new_secret()
        now = utcnow()
        expires = now + (lifetime or self.session_lifetime)
        async with self._database.transaction() as connection:
            record = await insert_token(
                connection,
                token_id=new_id(),
                user_id=user_id,
                token_hash=secret_hash(secret),
                kind=kind,
                name=name,
                expires_at=expires,
                now=now,
            )
        return secret, record

    async def resolve(self, secret: str) -> tuple[UserRecord, TokenRecord] | None:
        """The account behind a token, or None if it is unknown, revoked or expired.

        Raises:
            StorageError: the database failed.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        async with self._database.transaction() as connection:
            return await token_owner(connection, secret_hash(secret), utcnow())


def _token_from(request: ConnectRequest) -> tuple[str | None, bool]:
    """The token a connection presents, and whether it came from the session cookie."""
    token = request.query.get("token")
    if token:
        return token, False
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


_BROWSER_SCHEMES = {"ws": "http", "wss": "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(scheme: str, authority: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port made explicit; None if invalid."""
    try:
        parts = urlsplit(f"//{authority}")
        port = parts.port
    except ValueError:
        return None
    if parts.hostname is None:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """Whether an ``Origin`` header names this server as the request reached it.

    Scheme, host and port must all match: a page served over plain HTTP is another origin
    than the HTTPS site, though the host is the same.

    Args:
        origin: the header's value (``null`` and anything unparsable never match).
        scheme: the request's scheme, after the trusted proxies' ``X-Forwarded-Proto``
            (``http``/``https``; a WebSocket's ``ws``/``wss`` count as those).
        host: the request's ``Host`` header.
    """
    scheme = _BROWSER_SCHEMES.get(scheme, scheme).lower()
    parsed = urlsplit(origin.strip())
    if parsed.scheme.lower() != scheme or "@" in parsed.netloc:
        return False
    if parsed.path or parsed.query or parsed.fragment:
        return False
    mine = _origin_tuple(scheme, host)
    return mine is not None and _origin_tuple(scheme, parsed.netloc) == mine


def presents_credential(request: ConnectRequest) -> bool:
    """Whether a connection carries a token at all (valid or not: that takes the database)."""
    token, _ = _token_from(request)
    return token is not None


def _same_origin(request: ConnectRequest) -> bool:
    """Whether a cookie-authenticated upgrade comes from a page of this server.

    Browsers send cookies with cross-site WebSocket upgrades in some cases (SameSite=Lax is
    not applied to them everywhere); the Origin header tells which page opened the socket.
    Non-browser clients send no Origin.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return same_origin(origin, request.scheme, request.headers.get("host", ""))


class AccountAuthenticator:
    """The WebSocket's authenticate step when accounts are on.

    The token comes from ``?token=``, an ``Authorization: Bearer`` header, or the session
    cookie (then only from a page of the same origin). The connection acts as the account,
    with its role in the document's workspace.
    """

    def __init__(self, database: Database, tokens: Tokens) -> None:
        self._database = database
        self._tokens = tokens

    async def __call__(self, request: ConnectRequest) -> Principal:
        """See :class:`server.auth.Authenticator`.

        Raises:
            AuthError: no token, or an unknown, revoked or expired one (4401).
            DocumentNotFound: the document is unknown or in the trash (4404).
            Forbidden: the account may not read the document (4403).
            StorageError: the database failed.
        """
        token, by_cookie = _token_from(request)
        if token is None:
            raise AuthError("sign in first: pass ?token=... or send the session cookie")
        if by_cookie and not _same_origin(request):
            raise AuthError("the session cookie is only accepted from this server's pages")
        found = await self._tokens.resolve(token)
        if found is None:
            raise AuthError("the token is unknown, revoked or expired; sign in again")
        user, token_record = found
        async with self._database.transaction() as connection:
            rows = await access_rows(connection, [request.document_id], [user.id])
        row = rows.get(request.document_id)
        role = socket_role(row, user.id)
        return Principal(
            user_id=user.id,
            name=user.name,
            can_write=can_write(role),
            color=user_color(user.id),
            role=role,
            member=row is not None and user.id in row.roles,
            token_id=token_record.id,
        )


def expires_in(days: float) -> datetime:
    return utcnow() + timedelta(days=days)


_SECRET_IN_TEXT = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Hide ``token=...`` in log lines: y-websocket can only pass the token in the URL, and
    uvicorn logs the URL of every WebSocket it accepts."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _SECRET_IN_TEXT.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = _SECRET_IN_TEXT.sub(r"\1***", record.msg)
        return True
