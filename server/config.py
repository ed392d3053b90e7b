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
_REGISTRATION = ("open", "invite")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a server node needs to know, validated once."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("gess-data")
    database_url: str | None = None
    """None: the embedded default, SQLite at ``data_dir/gess.db``."""
    durability: str = "power"
    """What a SQLite commit survives before anyone sees it: ``power`` (a power cut; the WAL is
    synced on every commit) or ``process`` (a crash of the server process; much faster)."""
    redis_url: str | None = None
    """None: one node, in-memory broker. Otherwise Redis pub/sub between nodes."""
    log_level: str = "info"
    node_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    max_message_bytes: int = 16 * 1024 * 1024
    """Largest WebSocket message a client may send; larger ones close with 4413."""
    send_queue_messages: int = 4096
    """Messages queued for one client before it counts as too slow and is disconnected."""
    ping_interval: float = 20.0
    """Seconds between keepalive pings on document sockets; a socket that sent nothing
    (not even the pong) for a whole interval is dropped. 0: no pings."""
    room_grace_seconds: float = 5.0
    """How long a room with no connection stays loaded before it is unloaded."""
    compact_threshold: int = 500
    """Log entries of one document that trigger folding them into a snapshot."""
    presence_timeout_seconds: float = 30.0
    """Presence relayed from another node disappears if not renewed this long (Yjs: 30 s)."""
    max_document_bytes: int = 64 * 1024 * 1024
    """Largest stored size of one document (snapshot plus log); a change that would make a
    document larger is refused (the socket closes with 4413, REST answers 413)."""
    max_pending_bytes: int = 64 * 1024 * 1024
    """Uncommitted bytes a room holds before it stops reading from its writers."""
    anonymous: bool = False
    """Open mode: every connection is a guest editor and documents are created on first
    connect. False: the WebSocket requires an account and a workspace role."""
    force: bool = False
    """Allow ``anonymous`` on a host other than loopback."""
    registration: str = "invite"
    """Who may create an account once the first (admin) account exists: ``open`` (anyone)
    or ``invite`` (only with an invitation token; operators use ``gess users create``)."""
    session_days: float = 14.0
    """How long a sign-in (session token and cookie) lasts."""
    checkpoint_after: float = 300.0
    """Seconds a workspace document must stay quiet after an edit before a version of kind
    ``auto`` is saved (also saved when its room unloads with edits not yet checkpointed).
    ``0`` turns automatic checkpoints off."""
    forwarded_allow_ips: str = "127.0.0.1,::1"
    """Comma-separated addresses or networks of the reverse proxies whose ``X-Forwarded-Proto``
    and ``X-Forwarded-For`` are believed (the scheme decides ``Secure`` cookies and the Origin
    check, the address the sign-in throttle); ``*`` believes anyone, ``none`` no one."""
    login_free_failures: int = 5
    """Failed sign-ins with one address from one IP address before each further attempt from
    there must wait (1 s, doubling up to ``login_max_wait``)."""
    login_max_wait: float = 900.0
    """The longest wait, in seconds, between sign-in attempts for one address from one IP."""
    login_ip_failures: int = 100
    """Failed sign-ins one IP address may make in an hour, whatever the addresses; then it
    waits for the budget to refill."""
    request_timeout: float = 10.0
    """Seconds a client has, from connecting (or from the first byte of a later request on a
    kept-alive connection), to send a complete request: an HTTP request with its body, or a
    WebSocket handshake. Slower ones are answered 408 and closed."""
    max_pending_connections: int = 1000
    """Connections still sending their request, at most; a new one beyond it makes room by
    closing the oldest that has had a second to send it (503), or any once the node is at
    its connection cap (:class:`server.listener.ConnectionGuard`)."""
    max_connections: int = 0
    """Open connections (HTTP and WebSocket) beyond which new sockets and HTTP calls are
    answered 503, ``/healthz`` excepted. 0: the process's open-file limit, less room for
    pending connections, the database and Redis."""
    max_connections_per_ip: int = 1000
    """WebSockets open from one client address (429 before the upgrade); 0: no cap."""
    max_connections_per_account: int = 100
    """WebSockets open with one account (4429); 0: no cap."""
    max_messages_per_second: float = 500.0
    """Messages per second one socket may send, after a burst of ten seconds' worth (4429);
    0: no limit."""
    max_bytes_per_second: float = 1024.0 * 1024.0
    """Bytes per second one socket may send, after a burst of ten seconds' worth or one
    message of ``max_message_bytes``, whichever is more (4429); 0: no limit."""
    max_presence_bytes: int = 8 * 1024
    """JSON of the presence states one connection holds, together (4413)."""
    presence_per_second: float = 10.0
    """Presence updates of one connection relayed per second; beyond it the latest is kept
    and relayed when the rate allows. 0: no limit."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {self.port}")
        if self.durability not in ("power", "process"):
            raise ValueError("durability must be 'power' or 'process'")
        if self.log_level not in _LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(_LOG_LEVELS)}")
        for name in (
            "max_message_bytes",
            "max_document_bytes",
            "send_queue_messages",
            "compact_threshold",
            "request_timeout",
            "max_pending_connections",
            "max_presence_bytes",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive")
        for name in (
            "max_connections",
            "max_connections_per_ip",
            "max_connections_per_account",
            "max_messages_per_second",
            "max_bytes_per_second",
            "presence_per_second",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be zero (no limit) or positive")
        if self.registration not in _REGISTRATION:
            raise ValueError(f"registration must be one of {', '.join(_REGISTRATION)}")
        if self.ping_interval < 0:
            raise ValueError("ping interval must be zero (off) or positive")
        if self.checkpoint_after < 0:
            raise ValueError("checkpoint after must be zero (off) or positive")
        if not 0 < self.session_days <= 366:
            raise ValueError("session days must be between 0 and 366")
        _check_proxies(self.forwarded_allow_ips)
        if self.login_free_failures < 1 or self.login_ip_failures < 1:
            raise ValueError("login free failures and login ip failures must be positive")
        if not 1 <= self.login_max_wait <= 86_400:
            raise ValueError("login max wait must be between 1 and 86400 seconds")
        if self.anonymous and not self.is_loopback and not self.force:
            raise ValueError(
                f"--anonymous lets anyone who can reach {self.host} read and edit every "
                "document; it is refused on a host other than loopback unless --force is given"
            )

    @property
    def is_loopback(self) -> bool:
        """Whether the server only listens on this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _check_proxies(value: str) -> None:
    """Refuse what uvicorn would silently take for a name that never matches."""
    if value.strip() in ("*", "none"):
        return
    for entry in value.split(","):
        try:
            if "/" in entry:
                ipaddress.ip_network(entry.strip())
            else:
                ipaddress.ip_address(entry.strip())
        except ValueError:
            raise ValueError(
                f"forwarded allow ips: {entry.strip()!r} is not an IP address or network "
                "(give addresses or networks separated by commas, '*' or 'none')"
            ) from None


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
    (
        "--durability",
        "durability",
        str,
        "SQLite only: 'power' (commits survive a power cut, default) or 'process' (commits "
        "survive a crash of the server; no disk sync per commit)",
    ),
    ("--log-level", "log_level", str, "critical, error, warning, info or debug (default info)"),
    ("--node-id", "node_id", str, "name of this node in logs and /healthz (default: random)"),
    ("--max-message-bytes", "max_message_bytes", int, "largest message a client may send"),
    (
        "--max-document-bytes",
        "max_document_bytes",
        int,
        "largest stored size of one document (default 64 MiB)",
    ),
    (
        "--send-queue-messages",
        "send_queue_messages",
        int,
        "messages queued for a client that does not keep up before it is closed with 4429 "
        "(default 4096)",
    ),
    (
        "--ping-interval",
        "ping_interval",
        float,
        "seconds between keepalive pings on document sockets (default 20; 0: off)",
    ),
    ("--room-grace-seconds", "room_grace_seconds", float, "idle time before a room unloads"),
    ("--compact-threshold", "compact_threshold", int, "log entries that trigger compaction"),
    (
        "--anonymous",
        "anonymous",
        bool,
        "open mode: no accounts on the WebSocket, everyone edits everything (loopback only)",
    ),
    ("--force", "force", bool, "allow --anonymous on a host other than loopback"),
    (
        "--registration",
        "registration",
        str,
        "open or invite: who may create an account after the first one (default invite)",
    ),
    ("--session-days", "session_days", float, "how long a sign-in lasts (default 14)"),
    (
        "--checkpoint-after",
        "checkpoint_after",
        float,
        "seconds of quiet after an edit before a version is saved automatically "
        "(default 300; 0: off)",
    ),
    (
        "--forwarded-allow-ips",
        "forwarded_allow_ips",
        str,
        "proxies whose X-Forwarded-Proto/-For are believed: addresses or networks separated "
        "by commas, '*' or 'none' (default 127.0.0.1,::1)",
    ),
    (
        "--login-free-failures",
        "login_free_failures",
        int,
        "failed sign-ins per address and IP before attempts must wait (default 5)",
    ),
    (
        "--login-max-wait",
        "login_max_wait",
        float,
        "longest wait in seconds between sign-in attempts per address and IP (default 900)",
    ),
    (
        "--login-ip-failures",
        "login_ip_failures",
        int,
        "failed sign-ins one IP address may make per hour (default 100)",
    ),
    (
        "--request-timeout",
        "request_timeout",
        float,
        "seconds a client has to send a complete request or WebSocket handshake (default 10)",
    ),
    (
        "--max-pending-connections",
        "max_pending_connections",
        int,
        "connections still sending their request, at most (default 1000)",
    ),
    (
        "--max-connections",
        "max_connections",
        int,
        "open connections before new ones get 503, /healthz excepted "
        "(default 0: from the open-file limit)",
    ),
    (
        "--max-connections-per-ip",
        "max_connections_per_ip",
        int,
        "WebSockets from one address (default 1000; 0: no cap)",
    ),
    (
        "--max-connections-per-account",
        "max_connections_per_account",
        int,
        "WebSockets of one account (default 100; 0: no cap)",
    ),
    (
        "--max-messages-per-second",
        "max_messages_per_second",
        float,
        "messages per second one socket may send (default 500; 0: no limit)",
    ),
    (
        "--max-bytes-per-second",
        "max_bytes_per_second",
        float,
        "bytes per second one socket may send (default 1 MiB; 0: no limit)",
    ),
    (
        "--max-presence-bytes",
        "max_presence_bytes",
        int,
        "JSON bytes of one connection's presence states (default 8192)",
    ),
    (
        "--presence-per-second",
        "presence_per_second",
        float,
        "presence updates per connection relayed per second (default 10; 0: no limit)",
    ),
)


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare one flag per setting; each also reads ``GESS_<NAME>`` from the environment."""
    for flag, name, kind, help_text in _OPTIONS:
        env = "GESS_" + name.upper()
        if kind is bool:
            parser.add_argument(
                flag, dest=name, action="store_const", const="1", help=f"{help_text} [{env}]"
            )
        else:
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
            values[name] = _parse_bool(raw) if kind is bool else kind(raw)
        except ValueError as exc:
            raise ValueError(f"{flag}: {raw!r} is not a valid {kind.__name__}") from exc
    if "registration" in values:
        values["registration"] = str(values["registration"]).lower()
    if "log_level" in values:
        values["log_level"] = str(values["log_level"]).lower()
    return Settings(**values)  # type: ignore[arg-type]


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not a boolean")
