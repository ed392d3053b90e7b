"""Encoded state vectors: for each client id, the clock up to which its changes are known."""

from __future__ import annotations

from collections.abc import Mapping

from crdt._varint import Reader, write_var_uint
from crdt.errors import ProtocolError

__all__ = ["decode_state_vector", "encode_state_vector"]


def decode_state_vector(data: bytes) -> dict[int, int]:
    """Decode an encoded state vector: a varuint count, then (client id, clock) varuints.

    Raises:
        ProtocolError: truncated input, trailing bytes, or a count the input cannot hold.
    """
    reader = Reader(data)
    count = reader.read_var_uint()
    if count > reader.remaining // 2:
        raise ProtocolError(f"state vector declares {count} entries in {reader.remaining} bytes")
    clocks: dict[int, int] = {}
    for _ in range(count):
        client_id = reader.read_var_uint()
        clocks[client_id] = reader.read_var_uint()
    reader.expect_end()
    return clocks


def encode_state_vector(clocks: Mapping[int, int]) -> bytes:
    """Encode clocks (in descending client id order; decoders accept any order)."""
    parts = [write_var_uint(len(clocks))]
    for client_id in sorted(clocks, reverse=True):
        parts += [write_var_uint(client_id), write_var_uint(clocks[client_id])]
    return b"".join(parts)
