"""The GESS Workspaces server: rooms, the WebSocket endpoint, the app factory and the CLI."""

from server.app import create_app
from server.auth import Authenticator, ConnectRequest, Principal, allow_guests
from server.channel import Channel, CloseCode, MemoryChannel
from server.config import Settings

__all__ = [
    "Authenticator",
    "Channel",
    "CloseCode",
    "ConnectRequest",
    "MemoryChannel",
    "Principal",
    "Settings",
    "allow_guests",
    "create_app",
]
