"""The one settings object: built once from flags and ``GESS_*`` variables, then passed down.

This is the only module that reads the environment.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings", "add_settings_arguments", "settings_from_args"]

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a server node needs to know, validated once."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("gess-data")
    database_url: str | None = None
    """None: the embedded default, SQLite at ``data_dir/gess.db``."""
    redis_url: str | None = None
    """None: one node, in-memory broker. Otherwise Redis pub/sub between nodes."""
    log_level: str = "info"
    node_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    max_message_bytes: int = 16 * 1024 * 1024
    """Largest WebSocket message a client may send; larger ones close with 4413."""
    send_queue_messages: int = 4096
    """Messages queued for one client before it counts as too slow and is disconnected."""
    room_grace_seconds: float = 5.0
    """How long a room with no connection stays loaded before it is unloaded."""
    compact_threshold: int = 500
    """Log entries of one document that trigger folding them into a snapshot."""
    presence_timeout_seconds: float = 30.0
    """Presence relayed from another node disappears if not renewed this long (Yjs: 30 s)."""
    max_pending_bytes: int = 64 * 1024 * 1024
    """Uncommitted bytes a room holds before it stops reading from its writers."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {self.port}")
        if self.log_level not in _LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(_LOG_LEVELS)}")
        for name in ("max_message_bytes", "send_queue_messages", "compact_threshold"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive")

    @property
    def is_loopback(self) -> bool:
        """Whether the server only listens on this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


# flag name, Settings field, type, help
_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--host", "host", str, "interface to listen on (default 127.0.0.1)"),
    ("--port", "port", int, "port to listen on (default 8000)"),
    ("--data-dir", "data_dir", Path, "directory for the embedded database (default ./gess-data)"),
    (
        "--database-url",
        "database_url",
        str,
        "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB "
        "(default: SQLite under the data directory)",
    ),
    (
        "--redis-url",
        "redis_url",
        str,
        "redis://HOST:PORT/DB to share documents with other nodes (default: one node)",
    ),
    ("--log-level", "log_level", str, "critical, error, warning, info or debug (default info)"),
    ("--node-id", "node_id", str, "name of this node in logs and /healthz (default: random)"),
    ("--max-message-bytes", "max_message_bytes", int, "largest message a client may send"),
    ("--room-grace-seconds", "room_grace_seconds", float, "idle time before a room unloads"),
    ("--compact-threshold", "compact_threshold", int, "log entries that trigger compaction"),
)


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare one flag per setting; each also reads ``GESS_<NAME>`` from the environment."""
    for flag, name, _kind, help_text in _OPTIONS:
        env = "GESS_" + name.upper()
        parser.add_argument(flag, dest=name, default=None, help=f"{help_text} [{env}]")


def settings_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings: a flag wins over its ``GESS_*`` variable, which wins over the default.

    Raises:
        ValueError: a value does not parse or is out of range; the message names the setting.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for flag, name, kind, _help in _OPTIONS:
        raw = getattr(args, name, None)
        if raw is None:
            raw = environ.get("GESS_" + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"{flag}: {raw!r} is not a valid {kind.__name__}") from exc
    if "log_level" in values:
        values["log_level"] = str(values["log_level"]).lower()
    return Settings(**values)  # type: ignore[arg-type]
