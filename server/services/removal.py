"""Removing documents for good: closing their rooms and deleting their content.

Used when a document or a whole workspace is deleted.
"""

from __future__ import annotations

from server.channel import CloseCode
from server.services.context import ApiServices

__all__ = ["drop_documents"]


async def drop_documents(services: ApiServices, ids: list[str], reason: str) -> None:
    """Close the documents' rooms here (committing what is pending), then delete their
    content from the store. Their workspace entries must be gone already, so that nobody
    can open them again meanwhile."""
    for document_id in ids:
        await services.live.close_document(document_id, CloseCode.NOT_FOUND, reason)
        await services.store.delete(document_id)
