"""What the REST handlers use from the running node, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from server.accounts import Passwords, Tokens
from server.config import Settings
from server.permissions import LiveAccess
from storage import DocumentStore
from storage.accounts import Database

__all__ = ["ApiServices"]


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    database: Database
    passwords: Passwords
    tokens: Tokens
    store: DocumentStore
    live: LiveAccess
