"""The versions service: saving and restoring versions, and automatic checkpoints.

A version is saved from what the store has committed, read with its log position in one
statement (:func:`storage.versions.stored_state`), so that the state and the position always
agree, whichever node saves it and whether or not the document is loaded anywhere.

A restore does not rewrite the log: it saves the current state as a ``restore-backup``
version, then computes the change that turns the room's committed document into the version
(:func:`crdt.blocks.restore_update`) and submits it to the room like an edit, so it is
durable before it is visible and every connected client receives it live.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from crdt import EMPTY_UPDATE
from crdt.blocks import restore_update
from server.services.content import build_document
from server.services.context import ApiServices
from server.services.records import ActorOut, VersionOut
from storage.catalog import get_document
from storage.clock import utcnow
from storage.database import Database
from storage.history import contributors
from storage.people import UserRecord
from storage.versions import (
    VersionRecord,
    insert_version,
    latest_version,
    previous_version,
    stored_state,
)

__all__ = [
    "CHECKPOINT_NAME",
    "Checkpointer",
    "restore",
    "save_version",
    "send_version_event",
    "version_event",
    "version_out",
]

logger = logging.getLogger("gess.versions")

CHECKPOINT_NAME = "Automatic checkpoint"


async def version_out(connection: AsyncConnection, version: VersionRecord) -> VersionOut:
    """A version as the API shows it, with who contributed since the previous version."""
    previous = await previous_version(connection, version.document_id, version.id)
    after = 0 if previous is None else previous.upto
    found = await contributors(connection, version.document_id, after=after, upto=version.upto)
    author = None
    if version.author_id is not None:
        author = ActorOut(id=version.author_id, name=version.author_name or "")
    return VersionOut(
        id=str(version.id),
        document_id=version.document_id,
        name=version.name,
        kind=version.kind,  # type: ignore[arg-type]
        author=author,
        created_at=version.created_at,
        upto=version.upto,
        contributors=[ActorOut(id=c.id, name=c.name or "") for c in found],
    )


async def save_version(
    database: Database,
    document_id: str,
    *,
    name: str,
    kind: str,
    author: UserRecord | None,
) -> VersionOut:
    """Save what the store has committed of a workspace document as a version.

    Raises:
        StorageError: the database failed; nothing was saved.
    """
    async with database.transaction() as connection:
        stored = await stored_state(connection, document_id)
    document = await asyncio.to_thread(build_document, document_id, stored.updates)
    async with database.transaction() as connection:
        version = await insert_version(
            connection,
            document_id=document_id,
            name=name,
            kind=kind,
            state=document.full_state(),
            upto=stored.position,
            author_id=None if author is None else author.id,
            now=utcnow(),
        )
        return await version_out(connection, version)


def version_event(verb: str, version: VersionOut, **extra: VersionOut) -> dict[str, object]:
    """The server event ``version.saved`` or ``version.restored`` of a version."""
    event: dict[str, object] = {
        "type": verb,
        "document_id": version.document_id,
        "version": version.model_dump(mode="json"),
    }
    event.update({key: value.model_dump(mode="json") for key, value in extra.items()})
    return event


def send_version_event(
    services: ApiServices, verb: str, version: VersionOut, **extra: VersionOut
) -> None:
    """Send ``version.saved`` or ``version.restored`` to the document's clients."""
    services.live.send_event([version.document_id], version_event(verb, version, **extra))


class Checkpointer:
    """Saves automatic checkpoints; the room manager's :class:`server.checkpoints.Checkpoints`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def save_checkpoint(self, document_id: str) -> dict[str, object] | None:
        """Save an automatic version of a workspace document if it changed since its last one.

        Returns:
            The ``version.saved`` event, or None if there was nothing to save (not a
            workspace document, in the trash, or no update since the newest version).
        """
        async with self._database.transaction() as connection:
            record = await get_document(connection, document_id)
            if record is None or record.trashed:
                return None
            latest = await latest_version(connection, document_id)
            stored = await stored_state(connection, document_id)
        if stored.position == 0 or (latest is not None and latest.upto >= stored.position):
            return None
        version = await save_version(
            self._database, document_id, name=CHECKPOINT_NAME, kind="auto", author=None
        )
        logger.info("document %s: saved automatic checkpoint %s", document_id, version.id)
        return version_event("version.saved", version)


async def restore(
    services: ApiServices, target: VersionRecord, author: UserRecord
) -> tuple[VersionOut, bool]:
    """Make a document equal to a version, as a new change by ``author``.

    The current state is saved first as a ``restore-backup`` version. The change is computed
    against the room's committed document and submitted to the room (loaded here for the
    time it takes), so it is committed before anyone sees it.

    Returns:
        The backup version, and whether the document changed.

    Raises:
        StorageError: the change could not be committed (the backup stays), or the node is
            shutting down.
    """
    assert target.state is not None
    wanted = build_document(target.document_id, [target.state])
    async with services.live.borrow(target.document_id) as room:
        backup = await save_version(
            services.database,
            target.document_id,
            name=f"Before restoring {target.name}"[:200],
            kind="restore-backup",
            author=author,
        )
        async with room.committed() as current:
            update = restore_update(current, wanted)
        changed = update != EMPTY_UPDATE
        if changed:
            await room.submit(update, author.id)
    return backup, changed
