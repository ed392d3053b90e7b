"""Versions of a document (save, list, read, compare, restore) and its edit history.

Editors and owners save and restore; every member reads versions, diffs and the history.
Saving records ``version.saved`` in the workspace's activity and sends the live event
``{"type": "version.saved", "document_id", "version"}``; restoring records
``version.restored`` and sends ``{"type": "version.restored", "document_id", "version",
"backup"}`` (``backup``: the version saved of the state the restore replaced).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from crdt import Document, DocumentTooLarge, to_html, to_markdown
from crdt.blocks import Block, blocks, diff_blocks
from server.api.dependencies import Call, SignedInCall
from server.api.downloads import download
from server.api.errors import ApiError, conflict, not_found
from server.api.models import ActorOut, PageQuery
from server.api.routing import also_answers, api_router, errors
from server.api.version_models import (
    BlockOut,
    ChangeOut,
    DiffOut,
    DiffQuery,
    EditSessionOut,
    HistoryPage,
    HistoryQuery,
    VersionCreate,
    VersionOut,
    VersionPage,
    VersionQuery,
)
from server.permissions import Role
from server.rooms import ShuttingDown
from server.services.access import load_document, require_role
from server.services.activity import push, record
from server.services.content import build_document, committed_content
from server.services.paging import decode_cursor, split_page
from server.services.versions import (
    restore,
    save_version,
    send_version_event,
    version_out,
)
from storage.catalog import DocumentRecord
from storage.history import EditSession, edit_history
from storage.versions import VersionRecord, get_version, list_versions

router = api_router("versions")

__all__: list[str] = []

V = "/api/documents/{document_id}/versions"


async def _document(call: Call, minimum: Role, action: str) -> DocumentRecord:
    async with call.services.database.transaction() as connection:
        document, _, role = await load_document(connection, call.path["document_id"], call.user_id)
    require_role(role, minimum, action)
    return document


def _version_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise not_found(f"no version {raw}")
    return int(raw)


async def _version(call: Call, document: DocumentRecord, raw: str) -> VersionRecord:
    async with call.services.database.transaction() as connection:
        version = await get_version(connection, document.id, _version_id(raw))
    if version is None:
        raise not_found(f"no version {raw} of this document")
    return version


@router.post(
    V,
    summary="Save a named version of the document as it is now",
    response_model=VersionOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def create_version(call: SignedInCall, document_id: str, body: VersionCreate) -> VersionOut:
    """Editors and owners. The version is what is committed at the time of the call."""
    assert call.signed_in is not None
    document = await _document(call, Role.EDITOR, "save versions")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    version = await save_version(
        call.services.database,
        document.id,
        name=body.name,
        kind="manual",
        author=call.signed_in.user,
    )
    async with call.services.database.transaction() as connection:
        entry = await record(
            connection,
            document.workspace_id,
            call.signed_in.user,
            "version.saved",
            ("document", document.id),
            {"title": document.title, "version": version.name, "version_id": version.id},
        )
    await push(call.services, [entry])
    send_version_event(call.services, "version.saved", version)
    return version


@router.get(
    V,
    summary="The document's versions, newest first",
    response_model=VersionPage,
    responses=errors(400, 403, 404),
)
async def list_document_versions(
    call: SignedInCall,
    document_id: str,
    query: Annotated[PageQuery, Query()],
) -> VersionPage:
    """Members (any role)."""
    before = decode_cursor(query.cursor, int)
    document = await _document(call, Role.VIEWER, "read versions")
    async with call.services.database.transaction() as connection:
        rows = await list_versions(
            connection,
            document.id,
            limit=query.limit + 1,
            before=None if before is None else int(before[0]),
        )
        page, cursor = split_page(rows, query.limit, lambda version: (version.id,))
        items = [await version_out(connection, version) for version in page]
    return VersionPage(items=items, next_cursor=cursor)


@router.get(
    V + "/{version_id}",
    summary="A version: its details, or its content as Markdown or HTML",
    response_model=VersionOut,
    responses=errors(403, 404) | also_answers("text/markdown", "text/html"),
)
async def get_document_version(
    call: SignedInCall,
    document_id: str,
    version_id: str,
    query: Annotated[VersionQuery, Query()],
) -> VersionOut | Response:
    """Members (any role). ``format=markdown|html`` renders the version's content like
    ``GET /api/documents/{id}/export`` renders the current one."""
    document = await _document(call, Role.VIEWER, "read versions")
    version = await _version(call, document, version_id)
    if query.format == "json":
        async with call.services.database.transaction() as connection:
            return await version_out(connection, version)
    assert version.state is not None
    content = build_document(document.id, [version.state])
    title = f"{document.title} ({version.name})"
    if query.format == "html":
        return download(to_html(content), "html", title)
    return download(to_markdown(content), "markdown", title)


def _block(block: Block | None) -> BlockOut | None:
    return None if block is None else BlockOut(kind=block.kind, text=block.text)


@router.get(
    V + "/{version_id}/diff",
    summary="Which top-level blocks changed from a version to another version or now",
    response_model=DiffOut,
    responses=errors(403, 404),
)
async def diff_document_version(
    call: SignedInCall,
    document_id: str,
    version_id: str,
    query: Annotated[DiffQuery, Query()],
) -> DiffOut:
    """Members (any role). ``against`` is another version's id, or ``current`` (the default):
    what is committed now."""
    document = await _document(call, Role.VIEWER, "compare versions")
    version = await _version(call, document, version_id)
    assert version.state is not None
    new: Document
    if query.against == "current":
        new = await committed_content(call.services, document.id)
    else:
        other = await _version(call, document, query.against)
        assert other.state is not None
        new = build_document(document.id, [other.state])
    old = build_document(document.id, [version.state])
    changes = diff_blocks(blocks(old), blocks(new))
    return DiffOut(
        from_=str(version.id),
        to=query.against,
        changes=[
            ChangeOut(
                change=c.change,
                old_index=c.old_index,
                new_index=c.new_index,
                old=_block(c.old),
                new=_block(c.new),
            )
            for c in changes
        ],
    )


@router.post(
    V + "/{version_id}/restore",
    summary="Make the document equal to a version, as a new change",
    response_model=VersionOut,
    responses=errors(403, 404, 409, 413),
)
async def restore_document_version(
    call: SignedInCall, document_id: str, version_id: str
) -> VersionOut:
    """Editors and owners. The current state is saved first as a version of kind
    ``restore-backup`` (restore that one to undo); then the change is committed and sent
    live to everyone who has the document open. Answers the backup version, or 413
    ``document_too_large`` if the change would take the document past its size limit
    (nothing is changed then; the backup version stays)."""
    assert call.signed_in is not None
    document = await _document(call, Role.EDITOR, "restore versions")
    if document.trashed:
        raise conflict("the document is in the trash", code="trash_state")
    version = await _version(call, document, version_id)
    try:
        backup, _ = await restore(call.services, version, call.signed_in.user)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down; try again", code="unavailable") from None
    except DocumentTooLarge as exc:
        raise ApiError(413, str(exc), code="document_too_large") from None
    async with call.services.database.transaction() as connection:
        restored = await version_out(connection, version)
        entry = await record(
            connection,
            document.workspace_id,
            call.signed_in.user,
            "version.restored",
            ("document", document.id),
            {"title": document.title, "version": version.name, "version_id": str(version.id)},
        )
    await push(call.services, [entry])
    send_version_event(call.services, "version.restored", restored, backup=backup)
    return backup


@router.get(
    "/api/documents/{document_id}/history",
    summary="Who edited the document when, in sessions, newest first",
    response_model=HistoryPage,
    responses=errors(400, 403, 404),
)
async def document_history(
    call: SignedInCall,
    document_id: str,
    query: Annotated[HistoryQuery, Query()],
) -> HistoryPage:
    """Members (any role). A session is one author's consecutive edits, each less than
    ``gap`` seconds after the previous one."""
    before = decode_cursor(query.cursor, int)
    document = await _document(call, Role.VIEWER, "read the history")
    async with call.services.database.transaction() as connection:
        sessions = await edit_history(connection, document.id, gap=timedelta(seconds=query.gap))
    bound = None if before is None else int(before[0])
    newest = [s for s in reversed(sessions) if bound is None or s.last_update_id < bound]
    page, cursor = split_page(newest[: query.limit + 1], query.limit, lambda s: (s.last_update_id,))
    return HistoryPage(items=[_session_out(s) for s in page], next_cursor=cursor)


def _session_out(session: EditSession) -> EditSessionOut:
    author = None
    if session.author_id is not None:
        author = ActorOut(id=session.author_id, name=session.author_name or "")
    return EditSessionOut(
        author=author,
        started_at=session.started_at,
        ended_at=session.ended_at,
        updates=session.updates,
        first_update=session.first_update_id,
        last_update=session.last_update_id,
    )
