"""Pure document logic on pycrdt: the wire protocol, documents and presence. No I/O."""

from crdt.awareness import AwarenessEntry, AwarenessRegistry, decode_awareness, encode_awareness
from crdt.document import EMPTY_UPDATE, Document, merge_updates, validate_update
from crdt.errors import (
    AuthError,
    CollabError,
    DocumentNotFound,
    Forbidden,
    PoisonedUpdate,
    ProtocolError,
    StorageError,
)
from crdt.export import to_html, to_markdown
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Message,
    MessageType,
    QueryAwareness,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncType,
    SyncUpdate,
    decode,
    encode,
)
from crdt.state_vector import decode_state_vector, encode_state_vector
from crdt.templates import TEMPLATES, Template, build_template

__all__ = [
    "EMPTY_UPDATE",
    "TEMPLATES",
    "Auth",
    "AuthError",
    "AwarenessEntry",
    "AwarenessMessage",
    "AwarenessRegistry",
    "CollabError",
    "Document",
    "DocumentNotFound",
    "Event",
    "Forbidden",
    "Message",
    "MessageType",
    "PoisonedUpdate",
    "ProtocolError",
    "QueryAwareness",
    "Saved",
    "StorageError",
    "SyncStep1",
    "SyncStep2",
    "SyncType",
    "SyncUpdate",
    "Template",
    "build_template",
    "decode",
    "decode_awareness",
    "decode_state_vector",
    "encode",
    "encode_awareness",
    "encode_state_vector",
    "merge_updates",
    "to_html",
    "to_markdown",
    "validate_update",
]
