"""Versions of a document (save, list, read, compare, restore) and its edit history.

Editors and owners save and restore; every member reads versions, diffs and the history.
Saving records ``version.saved`` in the workspace's activity and sends the live event
``{"type": "version.saved", "document_id", "version"}``; restoring records
``version.restored`` and sends ``{"type": "version.restored", "document_id", "version",
"backup"}`` (``backup``: the version saved of the state the restore replaced).

The rules are :mod:`server.services.document_versions`'; these routes translate requests
into its calls and its records into responses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from crdt import to_html, to_markdown
from crdt.blocks import Block
from server.api.dependencies import SignedInCall
from server.api.downloads import download
from server.api.models import PageQuery
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
    VersionPage,
    VersionQuery,
)
from server.permissions import Role
from server.services import document_versions as versions
from server.services.records import ActorOut, VersionOut
from storage.history import EditSession
from storage.people import UserRecord

router = api_router("versions")

__all__: list[str] = []

V = "/api/documents/{document_id}/versions"


def _user(call: SignedInCall) -> UserRecord:
    assert call.signed_in is not None
    return call.signed_in.user


@router.post(
    V,
    summary="Save a named version of the document as it is now",
    response_model=VersionOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def create_version(call: SignedInCall, document_id: str, body: VersionCreate) -> VersionOut:
    """Editors and owners. The version is what is committed at the time of the call."""
    return await versions.create(call.services, _user(call), document_id, body.name)


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
    found = await versions.list_of(
        call.services, call.user_id, document_id, limit=query.limit, cursor=query.cursor
    )
    return VersionPage(items=found.items, next_cursor=found.next_cursor)


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
    document = await versions.document_for(
        call.services, call.user_id, document_id, Role.VIEWER, "read versions"
    )
    version = await versions.version_of(call.services, document, version_id)
    if query.format == "json":
        return await versions.describe(call.services, version)
    content = versions.content_of(version)
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
    version, changes = await versions.diff(
        call.services, call.user_id, document_id, version_id, query.against
    )
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
    return await versions.restore_to(call.services, _user(call), document_id, version_id)


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
    found = await versions.history(
        call.services,
        call.user_id,
        document_id,
        gap=query.gap,
        limit=query.limit,
        cursor=query.cursor,
    )
    return HistoryPage(items=[_session_out(s) for s in found.items], next_cursor=found.next_cursor)


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
