"""What the REST handlers use from the running node, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.accounts import Passwords, Tokens
from server.config import Settings
from server.live import LiveAccess
from server.login_throttle import LoginThrottle
from storage import DocumentStore
from storage.database import Database

__all__ = ["ApiServices"]


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    database: Database
    passwords: Passwords
    tokens: Tokens
    store: DocumentStore
    live: LiveAccess
    login_throttle: LoginThrottle = field(init=False)
    """Built from the settings: one per node."""

    def __post_init__(self) -> None:
        throttle = LoginThrottle(
            free_failures=self.settings.login_free_failures,
            max_wait=self.settings.login_max_wait,
            ip_failures=self.settings.login_ip_failures,
        )
        object.__setattr__(self, "login_throttle", throttle)
