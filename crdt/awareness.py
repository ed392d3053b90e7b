"""Awareness (presence) updates: decoding, encoding and the server's registry of states.

An awareness update is a varuint count of entries, each ``client_id``, ``clock`` (varuints)
and ``state`` (a var-string holding JSON: an object, or ``null`` once the client has left).
A state with a higher clock replaces the one held; ``null`` at the same clock removes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from crdt._varint import Reader, write_var_bytes, write_var_uint
from crdt.errors import ProtocolError

__all__ = ["AwarenessEntry", "AwarenessRegistry", "decode_awareness", "encode_awareness"]

MAX_ENTRIES = 1024
"""Most entries one update may carry; a real client sends its own state, a server a room's."""

JsonObject = dict[str, object]


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: JsonObject | None
    """The client's state, or None when it has left."""


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """Decode an awareness update.

    Raises:
        ProtocolError: truncated input, too many entries, or a state that is not a JSON
            object or null.
    """
    reader = Reader(payload)
    count = reader.read_var_uint()
    if count > MAX_ENTRIES:
        raise ProtocolError(f"awareness update has {count} entries, more than {MAX_ENTRIES}")
    entries = []
    for _ in range(count):
        client_id = reader.read_var_uint()
        clock = reader.read_var_uint()
        entries.append(AwarenessEntry(client_id, clock, _parse_state(reader.read_var_string())))
    reader.expect_end()
    return entries


def _parse_state(text: str) -> JsonObject | None:
    try:
        state = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("awareness state is not valid JSON") from exc
    if state is not None and not isinstance(state, dict):
        raise ProtocolError("awareness state is neither an object nor null")
    return state


def encode_awareness(entries: Iterable[AwarenessEntry]) -> bytes:
    """Encode entries as one awareness update."""
    entries = list(entries)
    parts = [write_var_uint(len(entries))]
    for entry in entries:
        text = json.dumps(entry.state, separators=(",", ":"), ensure_ascii=False)
        parts += [
            write_var_uint(entry.client_id),
            write_var_uint(entry.clock),
            write_var_bytes(text.encode()),
        ]
    return b"".join(parts)


class AwarenessRegistry:
    """The awareness states a room knows, with the Yjs rules for accepting an entry."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}

    def __len__(self) -> int:
        return sum(1 for entry in self._entries.values() if entry.state is not None)

    def apply(self, entries: Iterable[AwarenessEntry]) -> list[AwarenessEntry]:
        """Apply entries; return those that changed what the registry holds."""
        accepted = []
        for entry in entries:
            held = self._entries.get(entry.client_id)
            if (
                held is None
                or held.clock < entry.clock
                or (held.clock == entry.clock and entry.state is None and held.state is not None)
            ):
                self._entries[entry.client_id] = entry
                accepted.append(entry)
        return accepted

    def remove(self, client_ids: Iterable[int]) -> list[AwarenessEntry]:
        """Forget clients; return the removal entries to send to everyone else."""
        removed = []
        for client_id in client_ids:
            held = self._entries.pop(client_id, None)
            if held is not None and held.state is not None:
                removed.append(AwarenessEntry(client_id, held.clock, None))
        return removed

    def states(self) -> list[AwarenessEntry]:
        """Every client currently present (state not null)."""
        return [entry for entry in self._entries.values() if entry.state is not None]
