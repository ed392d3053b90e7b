"""A document's versions as its members use them: saving one now, listing, reading,
comparing and restoring them, and who edited the document when.

Members (any role) read versions and the history; editors and owners save and restore, not
while the document is in the trash. Saving and restoring are workspace activity and are
pushed live (``version.saved``/``version.restored``). How a version is stored, restored and
checkpointed is :mod:`server.services.versions`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from crdt import Document, DocumentTooLarge
from crdt.blocks import BlockChange, blocks, diff_blocks
from server.permissions import Role
from server.rooms import ShuttingDown
from server.services.access import load_document, require_role
from server.services.activity import push, record
from server.services.content import build_document, committed_content
from server.services.context import ApiServices
from server.services.errors import ApiError, conflict, not_found
from server.services.paging import decode_cursor, split_page
from server.services.records import VersionOut
from server.services.versions import restore, save_version, send_version_event, version_out
from storage.catalog import DocumentRecord
from storage.history import EditSession, edit_history
from storage.people import UserRecord
from storage.versions import VersionRecord, get_version, list_versions

__all__ = [
    "Page",
    "Sessions",
    "content_of",
    "create",
    "describe",
    "diff",
    "document_for",
    "history",
    "list_of",
    "restore_to",
    "version_of",
]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[VersionOut]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Sessions:
    items: list[EditSession]
    next_cursor: str | None


async def document_for(
    services: ApiServices, user_id: str, document_id: str, minimum: Role, action: str
) -> DocumentRecord:
    """The document, if the user has at least ``minimum`` there (404, 403)."""
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, user_id)
    require_role(role, minimum, action)
    return document


def _version_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise not_found(f"no version {raw}")
    return int(raw)


async def version_of(services: ApiServices, document: DocumentRecord, raw: str) -> VersionRecord:
    """A version of the document by its id as given (404 if there is none)."""
    async with services.database.transaction() as connection:
        version = await get_version(connection, document.id, _version_id(raw))
    if version is None:
        raise not_found(f"no version {raw} of this document")
    return version


async def describe(services: ApiServices, version: VersionRecord) -> VersionOut:
    async with services.database.transaction() as connection:
        return await version_out(connection, version)


def content_of(version: VersionRecord) -> Document:
    assert version.state is not None
    return build_document(version.document_id, [version.state])


async def create(
    services: ApiServices, user: UserRecord, document_id: str, name: str
) -> VersionOut:
    """Save what is committed now as a version named ``name`` (404, 403, 409 in the trash)."""
    document = await document_for(services, user.id, document_id, Role.EDITOR, "save versions")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    version = await save_version(
        services.database, document.id, name=name, kind="manual", author=user
    )
    async with services.database.transaction() as connection:
        entry = await record(
            connection,
            document.workspace_id,
            user,
            "version.saved",
            ("document", document.id),
            {"title": document.title, "version": version.name, "version_id": version.id},
        )
    await push(services, [entry])
    send_version_event(services, "version.saved", version)
    return version


async def list_of(
    services: ApiServices, user_id: str, document_id: str, *, limit: int, cursor: str | None
) -> Page:
    """The document's versions, newest first (400 bad cursor, 404, 403)."""
    before = decode_cursor(cursor, int)
    document = await document_for(services, user_id, document_id, Role.VIEWER, "read versions")
    async with services.database.transaction() as connection:
        rows = await list_versions(
            connection,
            document.id,
            limit=limit + 1,
            before=None if before is None else int(before[0]),
        )
        page, next_cursor = split_page(rows, limit, lambda version: (version.id,))
        items = [await version_out(connection, version) for version in page]
    return Page(items, next_cursor)


async def diff(
    services: ApiServices, user_id: str, document_id: str, version_id: str, against: str
) -> tuple[VersionRecord, list[BlockChange]]:
    """The version, and which top-level blocks changed from it to another version
    (``against`` its id) or to what is committed now (``against`` is ``current``)."""
    document = await document_for(services, user_id, document_id, Role.VIEWER, "compare versions")
    version = await version_of(services, document, version_id)
    new: Document
    if against == "current":
        new = await committed_content(services, document.id)
    else:
        new = content_of(await version_of(services, document, against))
    return version, diff_blocks(blocks(content_of(version)), blocks(new))


async def restore_to(
    services: ApiServices, user: UserRecord, document_id: str, version_id: str
) -> VersionOut:
    """Make the document equal to a version, as a new change; the backup version saved first.

    Raises:
        ApiError: 404, 403; 409 in the trash; 413 ``document_too_large`` if the change would
            take the document past its size limit (the backup stays); 503 shutting down.
    """
    document = await document_for(services, user.id, document_id, Role.EDITOR, "restore versions")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    version = await version_of(services, document, version_id)
    try:
        backup, _ = await restore(services, version, user)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down; try again", code="unavailable") from None
    except DocumentTooLarge as exc:
        raise ApiError(413, str(exc), code="document_too_large") from None
    async with services.database.transaction() as connection:
        restored = await version_out(connection, version)
        entry = await record(
            connection,
            document.workspace_id,
            user,
            "version.restored",
            ("document", document.id),
            {"title": document.title, "version": version.name, "version_id": str(version.id)},
        )
    await push(services, [entry])
    send_version_event(services, "version.restored", restored, backup=backup)
    return backup


async def history(
    services: ApiServices,
    user_id: str,
    document_id: str,
    *,
    gap: int,
    limit: int,
    cursor: str | None,
) -> Sessions:
    """Who edited the document when, in sessions (one author's edits each less than ``gap``
    seconds after the previous one), newest first."""
    before = decode_cursor(cursor, int)
    document = await document_for(services, user_id, document_id, Role.VIEWER, "read the history")
    async with services.database.transaction() as connection:
        sessions = await edit_history(connection, document.id, gap=timedelta(seconds=gap))
    bound = None if before is None else int(before[0])
    newest = [s for s in reversed(sessions) if bound is None or s.last_update_id < bound]
    page, next_cursor = split_page(newest[: limit + 1], limit, lambda s: (s.last_update_id,))
    return Sessions(page, next_cursor)
