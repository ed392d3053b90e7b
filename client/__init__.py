"""The GESS Workspaces Python SDK: connect a pycrdt document to a server and edit it live."""

from client._awareness import Awareness
from client._backoff import Backoff
from client._connect import connect
from client._errors import AuthError
from client._session import Session, SessionState
from crdt.errors import CollabError, DocumentNotFound, ProtocolError
from crdt.session import ServerEvent

__all__ = [
    "AuthError",
    "Awareness",
    "Backoff",
    "CollabError",
    "DocumentNotFound",
    "ProtocolError",
    "ServerEvent",
    "Session",
    "SessionState",
    "connect",
]
