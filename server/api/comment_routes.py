"""Comments of a thread over HTTP: reply, edit one's own, delete one's own (owners delete any).

The rules, the storage and the live events are :mod:`server.services.comments`'; these
routes translate requests into its calls and its results into responses.
"""

from __future__ import annotations

from server.api.dependencies import SignedInCall
from server.api.routing import api_router, errors
from server.api.thread_models import CommentCreate, CommentPatch
from server.services import comments
from server.services.records import CommentOut

router = api_router("comments")


@router.post(
    "/api/threads/{thread_id}/comments",
    summary="Reply to a thread",
    response_model=CommentOut,
    status_code=201,
    responses=errors(403, 404, 409),
)
async def add_comment(call: SignedInCall, thread_id: str, body: CommentCreate) -> CommentOut:
    """Commenters and above. Members it mentions are notified."""
    return (await comments.add(call.services, call.user_id, thread_id, body.body)).comment


@router.patch(
    "/api/comments/{comment_id}",
    summary="Edit your comment",
    response_model=CommentOut,
    responses=errors(403, 404),
)
async def edit_comment(call: SignedInCall, comment_id: str, body: CommentPatch) -> CommentOut:
    """Its author, while a commenter or above. Members it newly mentions are notified."""
    return (await comments.edit(call.services, call.user_id, comment_id, body.body)).comment


@router.delete(
    "/api/comments/{comment_id}",
    summary="Delete a comment",
    response_model=None,
    status_code=204,
    responses=errors(403, 404, 409),
)
async def remove_comment(call: SignedInCall, comment_id: str) -> None:
    """Its author while a commenter or above, or an owner. Not the first comment of a
    thread, which is the thread's body: delete the thread (409)."""
    await comments.remove(call.services, call.user_id, comment_id)
