"""The activity service: the feed of a workspace, recorded with the change it describes, in the same
transaction, then pushed live to the members who have one of its documents open.

Verbs: ``document.created``, ``document.renamed``, ``document.published``,
``document.unpublished``, ``document.trashed``, ``document.restored``, ``document.deleted``,
``member.invited``, ``member.joined``, ``member.role_changed``, ``member.removed``,
``version.saved``, ``version.restored``, ``thread.created``, ``thread.resolved``,
``thread.reopened``, ``thread.deleted`` (about the thread's document; ``data.thread_id``).

The live push is a server event ``{"type": "activity", "workspace_id": ..., "activity": ...}``
(GESS message 101) sent to every room of the workspace's documents loaded on this node, and
through each to the other nodes holding that room.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from server.permissions import Role
from server.services.access import load_workspace, require_role
from server.services.context import ApiServices
from server.services.paging import decode_cursor, split_page
from server.services.records import ActivityOut
from storage.catalog import ActivityRecord, document_ids, insert_activity, list_activity
from storage.clock import utcnow
from storage.errors import StorageError
from storage.people import UserRecord

__all__ = ["ActivityPage", "activity_out", "list_of", "push", "record"]

logger = logging.getLogger("gess.activity")


async def record(
    connection: AsyncConnection,
    workspace_id: str,
    actor: UserRecord,
    verb: str,
    obj: tuple[str, str],
    data: Mapping[str, str | bool | None] | None = None,
) -> ActivityRecord:
    """Add an entry to the feed inside the caller's transaction.

    Args:
        obj: (type, id) of what the entry is about: ``("document", id)``...
        data: what a reader needs without another lookup (titles, names, roles). Never put
            e-mail addresses here: the feed is pushed to everyone connected.
    """
    object_type, object_id = obj
    return await insert_activity(
        connection,
        workspace_id=workspace_id,
        actor_id=actor.id,
        actor_name=actor.name,
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        now=utcnow(),
    )


def activity_out(entry: ActivityRecord) -> ActivityOut:
    actor = None
    if entry.actor_id is not None:
        actor = {"id": entry.actor_id, "name": entry.actor_name or ""}
    return ActivityOut.model_validate(
        {
            "id": str(entry.id),
            "workspace_id": entry.workspace_id,
            "verb": entry.verb,
            "actor": actor,
            "object": {"type": entry.object_type, "id": entry.object_id},
            "data": entry.data,
            "created_at": entry.created_at,
        }
    )


async def push(services: ApiServices, entries: list[ActivityRecord]) -> None:
    """Send committed entries to the rooms of their workspace's documents loaded here.

    Best effort: the feed is in the database either way, and a failure here is logged.
    """
    loaded = set(services.live.loaded())
    if not loaded or not entries:
        return
    for entry in entries:
        try:
            async with services.database.transaction() as connection:
                ids = loaded & set(await document_ids(connection, entry.workspace_id))
        except StorageError as exc:
            logger.warning("could not push activity %s: %s", entry.id, exc)
            continue
        if ids:
            event: dict[str, object] = {
                "type": "activity",
                "workspace_id": entry.workspace_id,
                "activity": activity_out(entry).model_dump(mode="json"),
            }
            services.live.send_event(ids, event)


@dataclass(frozen=True, slots=True)
class ActivityPage:
    items: list[ActivityRecord]
    next_cursor: str | None


async def list_of(
    services: ApiServices, workspace_id: str, user_id: str, *, limit: int, cursor: str | None
) -> ActivityPage:
    """The workspace's feed, newest first (members only).

    Raises:
        ApiError: 400 for a cursor this list did not make; 404 no such workspace; 403 not a
            member.
    """
    before = decode_cursor(cursor, int)
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, user_id)
        require_role(role, Role.VIEWER, "read the activity")
        rows = await list_activity(
            connection,
            workspace_id,
            limit=limit + 1,
            before=None if before is None else int(before[0]),
        )
    page, next_cursor = split_page(rows, limit, lambda entry: (entry.id,))
    return ActivityPage(page, next_cursor)
