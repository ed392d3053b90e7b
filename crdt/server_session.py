"""Sans-I/O rules of the server's side of the y-websocket protocol, for one client.

:class:`ServerSession` is the server's counterpart of :class:`crdt.session.ClientSession`,
with one difference of shape: the server keeps one document for many clients (the room's),
so the session holds no document. It owns the protocol rules of one connection, and nothing
else: no socket, no event loop, no store.

1. ``receive(frame)`` (or ``receive_message`` for a message already decoded) turns what a
   client sent into at most one :data:`ClientRequest`, or raises :class:`ProtocolError`
   for what a client may not send. It answers nothing itself: the I/O shell acts on the
   request (a sync answer must wait until the document holds only committed state, an
   update must be committed before anyone sees it) and sends the bytes that the session's
   ``answer``, ``greeting`` and ``refusal`` methods build.
2. The session knows what this client may do (:attr:`ServerSession.can_write`) and asked
   for (:attr:`ServerSession.wants_saved`, :attr:`ServerSession.wants_events`), so it
   decides what is queued to it: :meth:`ServerSession.takes_saved`,
   :meth:`ServerSession.takes_event`. A stock Yjs client never receives a GESS message.

Messages that go to every client of a document (updates, presence) are encoded once by the
caller for all of them, not per session: that is the server's hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crdt.awareness import AwarenessEntry, decode_awareness
from crdt.document import EMPTY_UPDATE, Document
from crdt.errors import ProtocolError
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Message,
    QueryAwareness,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)

__all__ = [
    "READ_ONLY",
    "ClientRequest",
    "PresenceQueried",
    "PresenceReceived",
    "ServerSession",
    "SyncRequested",
    "UpdateReceived",
    "UpdateRefused",
]

READ_ONLY = "permission denied: this connection is read-only"
"""The reason sent with an update refused because its connection may not write."""


@dataclass(frozen=True, slots=True)
class SyncRequested:
    """The client sent its state vector (sync step 1): answer with :meth:`ServerSession.answer`
    once the document holds only committed state."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class UpdateReceived:
    """A writer sent a change (sync step 2 or update) that is not empty."""

    update: bytes


@dataclass(frozen=True, slots=True)
class UpdateRefused:
    """A connection that may not write sent a change: nothing of it may take effect.
    Send :meth:`ServerSession.refusal`; the update says which clocks to remember."""

    update: bytes


@dataclass(frozen=True, slots=True)
class PresenceReceived:
    """The client announced presence (awareness states), still as the client claims it."""

    entries: list[AwarenessEntry]


@dataclass(frozen=True, slots=True)
class PresenceQueried:
    """The client asked for everyone's presence."""


ClientRequest = SyncRequested | UpdateReceived | UpdateRefused | PresenceReceived | PresenceQueried
"""What a client's message asks of the server."""


class ServerSession:
    """The server's rules for one client connection.

    Args:
        can_write: the client may change the document (editor or owner).
        member: the client is a member of the document's workspace (not a reader of a
            published document): members-only events reach it.
        wants_saved: the client asked for Saved acknowledgements.
        wants_events: the client asked for GESS server events.
    """

    __slots__ = ("can_write", "member", "wants_events", "wants_saved")

    def __init__(
        self,
        *,
        can_write: bool,
        member: bool = False,
        wants_saved: bool = False,
        wants_events: bool = False,
    ) -> None:
        self.can_write = can_write
        """Checked on every change the client sends; it changes with the client's role."""
        self.member = member
        self.wants_saved = wants_saved
        self.wants_events = wants_events

    # -- input ----------------------------------------------------------------------------

    def receive(self, data: bytes) -> ClientRequest | None:
        """Read one frame from the client.

        Raises:
            ProtocolError: the frame is malformed, or a message a client may not send.
        """
        return self.receive_message(decode(data))

    def receive_message(self, message: Message) -> ClientRequest | None:
        """Read one decoded message from the client.

        Returns:
            What the client asks for; None when there is nothing to do: an empty sync step
            2 (every client's first when it has nothing new, readers' too) or update.

        Raises:
            ProtocolError: a message only the server sends (Auth, Saved, Event), or presence
                that does not decode; nothing of it may take effect.
        """
        match message:
            case SyncUpdate(update) | SyncStep2(update):
                if update == EMPTY_UPDATE:
                    return None
                return UpdateReceived(update) if self.can_write else UpdateRefused(update)
            case SyncStep1(state_vector):
                return SyncRequested(state_vector)
            case AwarenessMessage(payload):
                return PresenceReceived(decode_awareness(payload))
            case QueryAwareness():
                return PresenceQueried()
            case Auth() | Saved() | Event():
                raise ProtocolError(f"clients may not send {type(message).__name__} messages")
        raise ProtocolError(f"unknown message {message!r}")  # pragma: no cover - Message is closed

    # -- output ---------------------------------------------------------------------------

    @staticmethod
    def greeting(state_vector: bytes) -> bytes:
        """The first message of a connection: the server's sync step 1.

        ``state_vector`` must be of committed state only: a client may take it as proof that
        whatever of its own it covers is saved.
        """
        return encode(SyncStep1(state_vector))

    @staticmethod
    def answer(document: Document, state_vector: bytes) -> bytes:
        """The sync step 2 answering a :class:`SyncRequested`: what the client lacks.

        Raises:
            ProtocolError: the client's state vector does not decode.
        """
        return encode(SyncStep2(document.diff(state_vector)))

    @staticmethod
    def refusal(reason: str = READ_ONLY) -> bytes:
        """An Auth message telling the client that a change of its was not taken."""
        return encode(Auth(reason))

    @staticmethod
    def unsaved(missing: str) -> bytes:
        """The refusal of an update that depends on ``missing``, which the server lacks
        (:attr:`crdt.dependencies.UpdateFacts.missing`)."""
        return ServerSession.refusal(
            f"permission denied: the update depends on {missing}, which the server does not "
            "have; it was not saved"
        )

    def takes_saved(self) -> bool:
        """Whether Saved acknowledgements of this client's changes are sent to it."""
        return self.wants_saved

    def takes_event(self, *, members_only: bool) -> bool:
        """Whether a server event reaches this client.

        Args:
            members_only: the event is for members of the workspace only.
        """
        return self.wants_events and (self.member or not members_only)

    def event(self, data: Mapping[str, object]) -> bytes | None:
        """A server event for this client alone, or None if it did not ask for events."""
        return encode(Event(dict(data))) if self.wants_events else None
