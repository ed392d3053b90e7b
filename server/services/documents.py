"""The documents service: create (from a template), list, read, rename, publish, trash,
restore, delete for good, and read the committed content (for exports).

The content of a document is its Yjs state in the store; a new document's template is
appended there before its id is returned, so the first client to connect syncs it. Each
change is recorded in the workspace's activity and pushed live; trashing a document closes
it for whoever has it open (4404), deleting it deletes its content for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from content import build_template
from crdt import Document
from server.accounts import new_id
from server.channel import CloseCode
from server.permissions import Role
from server.services.access import (
    load_document,
    load_workspace,
    require_readable_document,
    require_readable_workspace,
    require_role,
)
from server.services.activity import push, record
from server.services.content import committed_content
from server.services.context import ApiServices
from server.services.errors import conflict
from server.services.paging import decode_cursor, split_page
from server.services.removal import drop_documents
from storage.catalog import (
    ActivityRecord,
    DocumentRecord,
    delete_document,
    insert_document,
    list_documents,
    update_document,
)
from storage.clock import utcnow
from storage.people import UserRecord

__all__ = [
    "DocumentPage",
    "change",
    "content",
    "create",
    "delete",
    "list_of",
    "move",
    "read",
    "size",
]


@dataclass(frozen=True, slots=True)
class DocumentPage:
    items: list[DocumentRecord]
    next_cursor: str | None


async def create(
    services: ApiServices, workspace_id: str, actor: UserRecord, title: str, template: str | None
) -> DocumentRecord:
    """A new document (editors and owners), its template's content stored first.

    Raises:
        ApiError: 404 no such workspace; 403 not an editor.
    """
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, actor.id)
        require_role(role, Role.EDITOR, "create documents")
    document_id = new_id()
    await services.store.load(document_id)
    if template is not None:
        await services.store.append(document_id, build_template(template))
    try:
        async with services.database.transaction() as connection:
            # Checked again: the role may have changed while the content was written.
            _, role = await load_workspace(connection, workspace_id, actor.id)
            require_role(role, Role.EDITOR, "create documents")
            document = await insert_document(
                connection,
                document_id=document_id,
                workspace_id=workspace_id,
                title=title,
                template=template,
                created_by=actor.id,
                now=utcnow(),
            )
            entry = await record(
                connection,
                workspace_id,
                actor,
                "document.created",
                ("document", document_id),
                {"title": title, "template": template},
            )
    except Exception:
        # Nobody knows the id yet: drop the content written for it.
        await services.store.delete(document_id)
        raise
    await push(services, [entry])
    return document


async def list_of(
    services: ApiServices,
    workspace_id: str,
    user_id: str,
    *,
    trashed: bool,
    limit: int,
    cursor: str | None,
) -> DocumentPage:
    """By title: every document for members (``trashed``: the trash); the published ones
    of a public workspace for other signed-in users, and no trash.

    Raises:
        ApiError: 400 for a cursor this list did not make; 404 no such workspace; 403 not
            readable.
    """
    after = decode_cursor(cursor, str, str)
    async with services.database.transaction() as connection:
        workspace, role = await load_workspace(connection, workspace_id, user_id)
        require_readable_workspace(workspace, role)
        if role is None and trashed:
            require_role(role, Role.VIEWER, "see the trash")
        rows = await list_documents(
            connection,
            workspace.id,
            trashed=trashed,
            published_only=role is None,
            limit=limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, next_cursor = split_page(rows, limit, lambda row: (row.title, row.id))
    return DocumentPage(page, next_cursor)


async def read(services: ApiServices, document_id: str, user_id: str) -> DocumentRecord:
    """A document the user may read.

    Raises:
        ApiError: 404 no such document; 403 not readable.
    """
    async with services.database.transaction() as connection:
        document, workspace, role = await load_document(connection, document_id, user_id)
    require_readable_document(document, workspace, role)
    return document


async def size(services: ApiServices, document_id: str) -> int:
    """The bytes the document takes in the store."""
    return await services.store.measure(document_id)


async def content(
    services: ApiServices, document_id: str, user_id: str
) -> tuple[DocumentRecord, Document]:
    """A document the user may read, with what is committed of it now.

    Raises:
        ApiError: 404 no such document; 403 not readable.
    """
    document = await read(services, document_id, user_id)
    return document, await committed_content(services, document.id)


async def change(
    services: ApiServices,
    document_id: str,
    actor: UserRecord,
    *,
    title: str | None,
    published: bool | None,
) -> DocumentRecord:
    """Rename (editors) or publish and unpublish (owners); None: unchanged.

    Raises:
        ApiError: 404 no such document; 403 not allowed.
    """
    values: dict[str, object] = {}
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, actor.id)
        require_role(role, Role.EDITOR, "change documents")
        entries: list[ActivityRecord] = []
        if published is not None and published != document.published:
            require_role(role, Role.OWNER, "publish or unpublish documents")
            values["published"] = published
            verb = "document.published" if published else "document.unpublished"
            entries.append(
                await record(
                    connection,
                    document.workspace_id,
                    actor,
                    verb,
                    ("document", document.id),
                    {"title": title or document.title},
                )
            )
        if title is not None and title != document.title:
            values["title"] = title
            entries.append(
                await record(
                    connection,
                    document.workspace_id,
                    actor,
                    "document.renamed",
                    ("document", document.id),
                    {"title": title, "previous_title": document.title},
                )
            )
        updated = await update_document(connection, document.id, values, utcnow())
    assert updated is not None
    if "published" in values:
        # Readers who are not members may have lost (or gained) their access.
        await services.live.recheck()
    await push(services, entries)
    return updated


async def move(
    services: ApiServices, document_id: str, actor: UserRecord, *, to_trash: bool
) -> DocumentRecord:
    """Move a document to the trash, or out of it (editors and owners).

    Raises:
        ApiError: 404 no such document; 403 not an editor; 409 already there.
    """
    action = "move documents to the trash" if to_trash else "restore documents"
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, actor.id)
        require_role(role, Role.EDITOR, action)
        if document.trashed == to_trash:
            state = "in the trash already" if to_trash else "not in the trash"
            raise conflict(f"the document is {state}", code="trash_state")
        updated = await update_document(
            connection, document.id, {"trashed_at": utcnow() if to_trash else None}, utcnow()
        )
        entry = await record(
            connection,
            document.workspace_id,
            actor,
            "document.trashed" if to_trash else "document.restored",
            ("document", document.id),
            {"title": document.title},
        )
    assert updated is not None
    await push(services, [entry])
    if to_trash:
        await services.live.close_document(
            document.id, CloseCode.NOT_FOUND, "the document was moved to the trash"
        )
    return updated


async def delete(services: ApiServices, document_id: str, actor: UserRecord) -> None:
    """Delete a document and its content for good (owners only).

    Raises:
        ApiError: 404 no such document; 403 not an owner.
    """
    async with services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, actor.id)
        require_role(role, Role.OWNER, "delete documents for good")
        await delete_document(connection, document.id)
        entry = await record(
            connection,
            document.workspace_id,
            actor,
            "document.deleted",
            ("document", document.id),
            {"title": document.title},
        )
    await push(services, [entry])
    await drop_documents(services, [document.id], "the document was deleted")
