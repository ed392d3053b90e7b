"""What an update needs from a document, and what it adds to it.

A Yjs update can be integrated only when the document already holds everything it builds
on: the earlier clocks of each client it carries, the items its items were inserted next to
(left and right origins), the nested types they live in, and the items its delete set
removes. Yrs keeps an update that lacks any of these as *pending*, invisible, until the
missing part arrives; a server that stored or acknowledged such an update would hold changes
no client can see (DESIGN.md, "the stored state never holds updates other clients cannot
integrate").

:func:`inspect_update` answers, for an update and a document's state vector: which clients'
clocks the update reaches (its end per client), from which clock on it adds to each client,
and the first dependency it lacks, if any. It reads the update struct by struct
(:mod:`crdt._yupdate`); no document is touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crdt._yupdate import GC, ID, Struct, parse_update
from crdt.errors import ProtocolError

__all__ = ["UpdateFacts", "deletes_anything_new", "inspect_update", "reaches_refused"]


@dataclass(frozen=True, slots=True)
class UpdateFacts:
    """What :func:`inspect_update` found."""

    adds: dict[int, int]
    """Per client whose structs reach past the document's state: the lowest clock the update
    adds (what the document does not hold yet)."""
    ends: dict[int, int]
    """Per client the update carries structs of: the clock just past its last struct."""
    missing: str | None
    """The first dependency the document lacks, described for a person; None if none."""
    deleted: dict[int, list[tuple[int, int]]]
    """The update's delete set: per client, sorted ``(clock, length)`` ranges."""


def inspect_update(update: bytes, state: Mapping[int, int]) -> UpdateFacts:
    """Compare an update with a document's state vector.

    Args:
        update: a Yjs v1 update.
        state: the document's decoded state vector (client id → next clock).

    Returns:
        The clocks the update adds and ends at, and the first missing dependency.

    Raises:
        ProtocolError: the bytes are not a readable update.
    """
    try:
        parsed = parse_update(update)
    except ProtocolError as exc:
        raise ProtocolError(f"invalid document update: {exc}") from exc
    covered: dict[int, int] = {}
    adds: dict[int, int] = {}
    ends: dict[int, int] = {}
    missing: str | None = None
    for client, structs in parsed.structs.items():
        if not structs:
            continue
        known = state.get(client, 0)
        reach = known
        for struct in structs:
            if struct.clock > reach and missing is None:
                missing = f"changes of client {client} from clock {reach} to {struct.clock}"
            reach = max(reach, struct.clock + struct.length)
        covered[client] = reach
        last = structs[-1]
        ends[client] = last.clock + last.length
        if ends[client] > known:
            adds[client] = max(known, structs[0].clock)
    if missing is None:
        missing = _first_missing_reference(parsed.structs.values(), state, covered)
    if missing is None:
        for client, ranges in parsed.deleted.items():
            limit = covered.get(client, state.get(client, 0))
            for start, length in ranges:
                if length and start + length > limit:
                    missing = f"deleted changes of client {client} up to clock {start + length}"
                    break
            if missing is not None:
                break
    return UpdateFacts(adds, ends, missing, parsed.deleted)


def _first_missing_reference(
    groups: Iterable[list[Struct]], state: Mapping[int, int], covered: Mapping[int, int]
) -> str | None:
    def known(item: ID) -> bool:
        return item[1] < covered.get(item[0], state.get(item[0], 0))

    for structs in groups:
        for struct in structs:
            if struct.kind == GC:
                continue
            for reference in (struct.origin, struct.right, struct.parent):
                if isinstance(reference, tuple) and not known(reference):
                    client, clock = reference
                    return f"change {clock} of client {client}"
    return None


def reaches_refused(ends: Mapping[int, int], refused: Mapping[int, int]) -> bool:
    """Whether an update carries structs of a refused client at or past its refused clock.

    Args:
        ends: per client, the clock just past the update's last struct of it
            (:attr:`UpdateFacts.ends`).
        refused: per client, the lowest clock refused from it.
    """
    return any(end > refused[client] for client, end in ends.items() if client in refused)


def deletes_anything_new(deleted: Mapping[int, list[tuple[int, int]]], document: bytes) -> bool:
    """Whether a delete set removes something a document has not removed yet.

    Args:
        deleted: an update's delete set (:attr:`UpdateFacts.deleted`).
        document: the document's own delete set, as the update a document gives for its own
            state vector (no structs, only what it deleted).

    Raises:
        ProtocolError: ``document`` is not a readable update.
    """
    known = parse_update(document).deleted
    for client, ranges in deleted.items():
        done = known.get(client, [])
        for start, length in ranges:
            if length and not _covered(done, start, start + length):
                return True
    return False


def _covered(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether sorted ``(clock, length)`` ranges cover ``[start, end)``."""
    reach = start
    for clock, length in ranges:
        if clock > reach:
            break
        reach = max(reach, clock + length)
        if reach >= end:
            return True
    return reach >= end
