"""Documents of a workspace over HTTP: create (from a template), list, read, rename,
publish, trash, restore, delete for good, export (the rules: :mod:`server.services.documents`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from crdt import to_html, to_markdown
from server.api.common import document_out
from server.api.dependencies import SignedInCall
from server.api.downloads import download
from server.api.models import (
    DocumentCreate,
    DocumentListQuery,
    DocumentOut,
    DocumentPage,
    DocumentPatch,
    ExportQuery,
)
from server.api.routing import also_answers, api_router, errors
from server.services import documents

router = api_router("documents")


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
    document = await documents.create(
        call.services, workspace_id, call.signed_in.user, body.title, body.template
    )
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
    page = await documents.list_of(
        call.services,
        workspace_id,
        call.user_id,
        trashed=query.trashed,
        limit=query.limit,
        cursor=query.cursor,
    )
    return DocumentPage(
        items=[document_out(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/api/documents/{document_id}",
    summary="A document's details",
    response_model=DocumentOut,
    responses=errors(403, 404),
)
async def get_document_details(call: SignedInCall, document_id: str) -> DocumentOut:
    document = await documents.read(call.services, document_id, call.user_id)
    details = document_out(document)
    details.size_bytes = await documents.size(call.services, document.id)
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
    document = await documents.change(
        call.services,
        document_id,
        call.signed_in.user,
        title=body.title,
        published=body.published,
    )
    return document_out(document)


@router.post(
    "/api/documents/{document_id}/trash",
    summary="Move a document to the trash",
    response_model=DocumentOut,
    responses=errors(403, 404, 409),
)
async def trash_document(call: SignedInCall, document_id: str) -> DocumentOut:
    """Editors and owners. Whoever has it open is disconnected (4404) until it is restored."""
    assert call.signed_in is not None
    document = await documents.move(call.services, document_id, call.signed_in.user, to_trash=True)
    return document_out(document)


@router.post(
    "/api/documents/{document_id}/restore",
    summary="Take a document out of the trash",
    response_model=DocumentOut,
    responses=errors(403, 404, 409),
)
async def restore_document(call: SignedInCall, document_id: str) -> DocumentOut:
    """Editors and owners."""
    assert call.signed_in is not None
    document = await documents.move(call.services, document_id, call.signed_in.user, to_trash=False)
    return document_out(document)


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
    await documents.delete(call.services, document_id, call.signed_in.user)


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
    document, content = await documents.content(call.services, document_id, call.user_id)
    if query.format == "html":
        return download(to_html(content), "html", document.title)
    return download(to_markdown(content), "markdown", document.title)
