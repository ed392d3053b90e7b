"""Documents of a workspace: create (from a template), list, read, rename, publish, trash,
restore, delete for good, export.

The content of a document is its Yjs state in the store; a new document's template is
appended there before its id is returned, so the first client to connect syncs it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from content import build_template
from crdt import to_html, to_markdown
from server.accounts import new_id
from server.api.common import (
    document_out,
    load_document,
    load_workspace,
    require_readable_document,
    require_readable_workspace,
    require_role,
)
from server.api.dependencies import Call, SignedInCall
from server.api.downloads import download
from server.api.errors import conflict
from server.api.models import (
    DocumentCreate,
    DocumentListQuery,
    DocumentOut,
    DocumentPage,
    DocumentPatch,
    ExportQuery,
)
from server.api.paging import decode_cursor, split_page
from server.api.routing import also_answers, api_router, errors
from server.channel import CloseCode
from server.permissions import Role
from server.services.activity import push, record
from server.services.content import committed_content
from server.services.removal import drop_documents
from storage.catalog import (
    ActivityRecord,
    delete_document,
    insert_document,
    list_documents,
    update_document,
)
from storage.clock import utcnow

router = api_router("documents")

__all__: list[str] = []


@router.post(
    "/api/workspaces/{workspace_id}/documents",
    summary="Create a document, empty or from a template",
    response_model=DocumentOut,
    status_code=201,
    responses=errors(403, 404),
)
async def create_document(
    call: SignedInCall, workspace_id: str, body: DocumentCreate
) -> DocumentOut:
    """Editors and owners."""
    assert call.signed_in is not None
    services = call.services
    workspace_id = workspace_id
    async with services.database.transaction() as connection:
        _, role = await load_workspace(connection, workspace_id, call.user_id)
        require_role(role, Role.EDITOR, "create documents")
    document_id = new_id()
    await services.store.load(document_id)
    if body.template is not None:
        await services.store.append(document_id, build_template(body.template))
    try:
        async with services.database.transaction() as connection:
            # Checked again: the role may have changed while the content was written.
            _, role = await load_workspace(connection, workspace_id, call.user_id)
            require_role(role, Role.EDITOR, "create documents")
            document = await insert_document(
                connection,
                document_id=document_id,
                workspace_id=workspace_id,
                title=body.title,
                template=body.template,
                created_by=call.user_id,
                now=utcnow(),
            )
            entry = await record(
                connection,
                workspace_id,
                call.signed_in.user,
                "document.created",
                ("document", document_id),
                {"title": body.title, "template": body.template},
            )
    except Exception:
        # Nobody knows the id yet: drop the content written for it.
        await services.store.delete(document_id)
        raise
    await push(services, [entry])
    return document_out(document)


@router.get(
    "/api/workspaces/{workspace_id}/documents",
    summary="A workspace's documents, by title",
    response_model=DocumentPage,
    responses=errors(400, 403, 404),
)
async def list_workspace_documents(
    call: SignedInCall,
    workspace_id: str,
    query: Annotated[DocumentListQuery, Query()],
) -> DocumentPage:
    """Members see every document (``trashed=true``: the trash). Other signed-in users see
    the published documents of a public workspace, and no trash."""
    after = decode_cursor(query.cursor, str, str)
    async with call.services.database.transaction() as connection:
        workspace, role = await load_workspace(connection, workspace_id, call.user_id)
        require_readable_workspace(workspace, role)
        if role is None and query.trashed:
            require_role(role, Role.VIEWER, "see the trash")
        rows = await list_documents(
            connection,
            workspace.id,
            trashed=query.trashed,
            published_only=role is None,
            limit=query.limit + 1,
            after=None if after is None else (str(after[0]), str(after[1])),
        )
    page, cursor = split_page(rows, query.limit, lambda row: (row.title, row.id))
    return DocumentPage(items=[document_out(row) for row in page], next_cursor=cursor)


@router.get(
    "/api/documents/{document_id}",
    summary="A document's details",
    response_model=DocumentOut,
    responses=errors(403, 404),
)
async def get_document_details(call: SignedInCall, document_id: str) -> DocumentOut:
    async with call.services.database.transaction() as connection:
        document, workspace, role = await load_document(connection, document_id, call.user_id)
    require_readable_document(document, workspace, role)
    details = document_out(document)
    details.size_bytes = await call.services.store.measure(document.id)
    return details


@router.patch(
    "/api/documents/{document_id}",
    summary="Rename or publish a document",
    response_model=DocumentOut,
    responses=errors(403, 404),
)
async def patch_document(call: SignedInCall, document_id: str, body: DocumentPatch) -> DocumentOut:
    """Editors rename; only owners publish or unpublish. Only the fields sent change."""
    assert call.signed_in is not None
    values: dict[str, object] = {}
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, call.user_id)
        require_role(role, Role.EDITOR, "change documents")
        entries: list[ActivityRecord] = []
        if body.published is not None and body.published != document.published:
            require_role(role, Role.OWNER, "publish or unpublish documents")
            values["published"] = body.published
            verb = "document.published" if body.published else "document.unpublished"
            entries.append(
                await record(
                    connection,
                    document.workspace_id,
                    call.signed_in.user,
                    verb,
                    ("document", document.id),
                    {"title": body.title or document.title},
                )
            )
        if body.title is not None and body.title != document.title:
            values["title"] = body.title
            entries.append(
                await record(
                    connection,
                    document.workspace_id,
                    call.signed_in.user,
                    "document.renamed",
                    ("document", document.id),
                    {"title": body.title, "previous_title": document.title},
                )
            )
        updated = await update_document(connection, document.id, values, utcnow())
    assert updated is not None
    if "published" in values:
        # Readers who are not members may have lost (or gained) their access.
        await call.services.live.recheck()
    await push(call.services, entries)
    return document_out(updated)


async def _move(call: Call, *, to_trash: bool) -> DocumentOut:
    assert call.signed_in is not None
    action = "move documents to the trash" if to_trash else "restore documents"
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, call.path["document_id"], call.user_id)
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
            call.signed_in.user,
            "document.trashed" if to_trash else "document.restored",
            ("document", document.id),
            {"title": document.title},
        )
    assert updated is not None
    await push(call.services, [entry])
    if to_trash:
        await call.services.live.close_document(
            document.id, CloseCode.NOT_FOUND, "the document was moved to the trash"
        )
    return document_out(updated)


@router.post(
    "/api/documents/{document_id}/trash",
    summary="Move a document to the trash",
    response_model=DocumentOut,
    responses=errors(403, 404, 409),
)
async def trash_document(call: SignedInCall, document_id: str) -> DocumentOut:
    """Editors and owners. Whoever has it open is disconnected (4404) until it is restored."""
    return await _move(call, to_trash=True)


@router.post(
    "/api/documents/{document_id}/restore",
    summary="Take a document out of the trash",
    response_model=DocumentOut,
    responses=errors(403, 404, 409),
)
async def restore_document(call: SignedInCall, document_id: str) -> DocumentOut:
    """Editors and owners."""
    return await _move(call, to_trash=False)


@router.delete(
    "/api/documents/{document_id}",
    summary="Delete a document for good",
    response_model=None,
    status_code=204,
    responses=errors(403, 404),
)
async def delete_document_for_good(call: SignedInCall, document_id: str) -> None:
    """Owners only. Its content is deleted from the store; it cannot be restored."""
    assert call.signed_in is not None
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, document_id, call.user_id)
        require_role(role, Role.OWNER, "delete documents for good")
        await delete_document(connection, document.id)
        entry = await record(
            connection,
            document.workspace_id,
            call.signed_in.user,
            "document.deleted",
            ("document", document.id),
            {"title": document.title},
        )
    await push(call.services, [entry])
    await drop_documents(call.services, [document.id], "the document was deleted")


@router.get(
    "/api/documents/{document_id}/export",
    summary="The document's current content as Markdown or HTML",
    response_model=None,
    response_class=Response,
    responses=errors(403, 404) | also_answers("text/markdown", "text/html"),
)
async def export_document(
    call: SignedInCall, document_id: str, query: Annotated[ExportQuery, Query()]
) -> Response:
    """Whoever may read the document. Renders what is committed at the time of the call, as
    a file to save (``Content-Disposition: attachment``) that a browser may not run."""
    async with call.services.database.transaction() as connection:
        document, workspace, role = await load_document(connection, document_id, call.user_id)
    require_readable_document(document, workspace, role)
    content = await committed_content(call.services, document.id)
    if query.format == "html":
        return download(to_html(content), "html", document.title)
    return download(to_markdown(content), "markdown", document.title)
