"""Pure document logic on pycrdt: the wire protocol, documents and presence. No I/O."""

from crdt.anchors import (
    Anchor,
    AnchorError,
    Resolved,
    anchor_range,
    quote,
    resolve,
    resolve_all,
)
from crdt.awareness import AwarenessEntry, AwarenessRegistry, decode_awareness, encode_awareness
from crdt.blocks import Block, BlockChange, blocks, diff_blocks, restore_update
from crdt.document import EMPTY_UPDATE, Document, merge_updates, validate_update
from crdt.errors import (
    CollabError,
    DocumentNotFound,
    DocumentTooLarge,
    PoisonedUpdate,
    ProtocolError,
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

__all__ = [
    "EMPTY_UPDATE",
    "Anchor",
    "AnchorError",
    "Auth",
    "AwarenessEntry",
    "AwarenessMessage",
    "AwarenessRegistry",
    "Block",
    "BlockChange",
    "CollabError",
    "Document",
    "DocumentNotFound",
    "DocumentTooLarge",
    "Event",
    "Message",
    "MessageType",
    "PoisonedUpdate",
    "ProtocolError",
    "QueryAwareness",
    "Resolved",
    "Saved",
    "SyncStep1",
    "SyncStep2",
    "SyncType",
    "SyncUpdate",
    "anchor_range",
    "blocks",
    "decode",
    "decode_awareness",
    "decode_state_vector",
    "diff_blocks",
    "encode",
    "encode_awareness",
    "encode_state_vector",
    "merge_updates",
    "quote",
    "resolve",
    "resolve_all",
    "restore_update",
    "to_html",
    "to_markdown",
    "validate_update",
]
