"""The y-websocket wire protocol, plus GESS's own opt-in message types.

Every WebSocket frame carries one message: a varuint message type, then its body.

=====  ====================  ============================================================
type   name                  body
=====  ====================  ============================================================
0      Sync                  varuint sync type (0 step 1, 1 step 2, 2 update), var-bytes
1      Awareness             var-bytes awareness update
2      Auth                  varuint 0 (permission denied), var-string reason
3      Query awareness       nothing
100    Saved (GESS)          var-bytes state vector of the document after the commit
101    Event (GESS)          var-string JSON object
=====  ====================  ============================================================

Types 100 and 101 are sent only to clients that asked for them when connecting, so a stock
Yjs client never receives a message it does not know.

Decoding is total: for any input, :func:`decode` returns a message or raises
:class:`~crdt.errors.ProtocolError`, never anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum

from pycrdt import YMessageType, YSyncMessageType, create_awareness_message

from crdt._varint import Reader, write_var_bytes, write_var_uint
from crdt.errors import ProtocolError

__all__ = [
    "Auth",
    "AwarenessMessage",
    "Event",
    "Message",
    "MessageType",
    "QueryAwareness",
    "Saved",
    "SyncStep1",
    "SyncStep2",
    "SyncType",
    "SyncUpdate",
    "decode",
    "encode",
]


class MessageType(IntEnum):
    SYNC = YMessageType.SYNC
    AWARENESS = YMessageType.AWARENESS
    AUTH = 2
    QUERY_AWARENESS = 3
    SAVED = 100
    EVENT = 101


class SyncType(IntEnum):
    STEP1 = YSyncMessageType.SYNC_STEP1
    STEP2 = YSyncMessageType.SYNC_STEP2
    UPDATE = YSyncMessageType.SYNC_UPDATE


_AUTH_PERMISSION_DENIED = 0


@dataclass(frozen=True, slots=True)
class SyncStep1:
    """A peer's state vector: "send me what I am missing"."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    """The answer to step 1: every change the peer was missing."""

    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """An incremental document update."""

    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessMessage:
    """An encoded awareness (presence) update; see :mod:`crdt.awareness`."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Auth:
    """Permission denied, with a reason a person can read."""

    reason: str


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    """A request for every known awareness state."""


@dataclass(frozen=True, slots=True)
class Saved:
    """GESS: the server committed the document up to this state vector."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class Event:
    """GESS: a server event that is not document content, as a JSON object."""

    data: dict[str, object]


Message = (
    SyncStep1 | SyncStep2 | SyncUpdate | AwarenessMessage | Auth | QueryAwareness | Saved | Event
)


def encode(message: Message) -> bytes:
    """Encode a message into the bytes of one WebSocket frame."""
    match message:
        case SyncStep1(state_vector):
            return _sync(SyncType.STEP1, state_vector)
        case SyncStep2(update):
            return _sync(SyncType.STEP2, update)
        case SyncUpdate(update):
            return _sync(SyncType.UPDATE, update)
        case AwarenessMessage(payload):
            return create_awareness_message(payload)
        case Auth(reason):
            return (
                write_var_uint(MessageType.AUTH)
                + write_var_uint(_AUTH_PERMISSION_DENIED)
                + write_var_bytes(reason.encode())
            )
        case QueryAwareness():
            return write_var_uint(MessageType.QUERY_AWARENESS)
        case Saved(state_vector):
            return write_var_uint(MessageType.SAVED) + write_var_bytes(state_vector)
        case Event(data):
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            return write_var_uint(MessageType.EVENT) + write_var_bytes(text.encode())
    raise TypeError(f"not a message: {message!r}")  # pragma: no cover - exhaustive match


def _sync(kind: SyncType, payload: bytes) -> bytes:
    return bytes((MessageType.SYNC, kind)) + write_var_bytes(payload)


def decode(data: bytes) -> Message:
    """Decode the bytes of one WebSocket frame.

    Only the framing is checked here: whether an update or a state vector is itself valid is
    the document's business (:class:`crdt.document.Document`).

    Raises:
        ProtocolError: empty, truncated or trailing bytes, an unknown message or sync type,
            or a malformed body.
    """
    if not data:
        raise ProtocolError("empty message")
    reader = Reader(data)
    kind = reader.read_var_uint()
    message: Message
    if kind == MessageType.SYNC:
        sync_kind = reader.read_var_uint()
        payload = reader.read_var_bytes()
        if sync_kind == SyncType.STEP1:
            message = SyncStep1(payload)
        elif sync_kind == SyncType.STEP2:
            message = SyncStep2(payload)
        elif sync_kind == SyncType.UPDATE:
            message = SyncUpdate(payload)
        else:
            raise ProtocolError(f"unknown sync message type {sync_kind}")
    elif kind == MessageType.AWARENESS:
        message = AwarenessMessage(reader.read_var_bytes())
    elif kind == MessageType.AUTH:
        auth_kind = reader.read_var_uint()
        if auth_kind != _AUTH_PERMISSION_DENIED:
            raise ProtocolError(f"unknown auth message type {auth_kind}")
        message = Auth(reader.read_var_string())
    elif kind == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    elif kind == MessageType.SAVED:
        message = Saved(reader.read_var_bytes())
    elif kind == MessageType.EVENT:
        message = Event(_json_object(reader.read_var_string()))
    else:
        raise ProtocolError(f"unknown message type {kind}")
    reader.expect_end()
    return message


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("event is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ProtocolError("event is not a JSON object")
    return value
