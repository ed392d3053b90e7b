"""Envelopes that carry committed changes between server nodes (over Redis pub/sub).

An envelope names its origin (a node's id and boot, so a restarted node starts a new
sequence) and a sequence number that the origin increments per document. A subscriber that
sees a number other than the next one knows it missed envelopes and catches up from the
database, which holds every committed update.

Encoding: varuint kind, var-string origin, varuint sequence, var-bytes payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from crdt._varint import Reader, write_var_bytes, write_var_uint
from crdt.errors import ProtocolError

__all__ = ["Envelope", "EnvelopeKind", "decode_envelope", "encode_envelope"]


class EnvelopeKind(IntEnum):
    UPDATE = 0
    """A committed document update (Yjs v1)."""
    AWARENESS = 1
    """An awareness update of clients connected to the origin."""
    EVENT = 2
    """A server event, JSON text."""
    HEARTBEAT = 3
    """No payload; the sequence is the origin's latest, so a lost last envelope shows."""
    REFUSED = 4
    """Client ids whose changes were refused, from which clock: an encoded state vector."""


@dataclass(frozen=True, slots=True)
class Envelope:
    kind: EnvelopeKind
    origin: str
    sequence: int
    payload: bytes


def encode_envelope(envelope: Envelope) -> bytes:
    return (
        write_var_uint(envelope.kind)
        + write_var_bytes(envelope.origin.encode())
        + write_var_uint(envelope.sequence)
        + write_var_bytes(envelope.payload)
    )


def decode_envelope(data: bytes) -> Envelope:
    """Decode an envelope.

    Raises:
        ProtocolError: malformed bytes or an unknown kind.
    """
    reader = Reader(data)
    kind = reader.read_var_uint()
    try:
        envelope_kind = EnvelopeKind(kind)
    except ValueError as exc:
        raise ProtocolError(f"unknown envelope kind {kind}") from exc
    origin = reader.read_var_string()
    sequence = reader.read_var_uint()
    payload = reader.read_var_bytes()
    reader.expect_end()
    return Envelope(envelope_kind, origin, sequence, payload)
