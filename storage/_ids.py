"""Validation shared by every store."""

from __future__ import annotations

from storage.schema.log import MAX_DOCUMENT_ID_LENGTH

__all__ = ["check_document_id"]


def check_document_id(document_id: str) -> None:
    """Reject ids the schema cannot hold, the same way on every dialect and in the fake.

    SQLite does not enforce ``VARCHAR(200)``; checking here keeps an over-long id from being
    accepted by one store and refused by another.

    Raises:
        ValueError: the id is empty or longer than 200 characters.
    """
    if not document_id or len(document_id) > MAX_DOCUMENT_ID_LENGTH:
        raise ValueError(
            f"a document id has 1 to {MAX_DOCUMENT_ID_LENGTH} characters, not {len(document_id)}"
        )
