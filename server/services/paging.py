"""Cursor paging: every list endpoint takes ``?limit=&cursor=`` and answers
``{"items": [...], "next_cursor": "..." | null}``.

A cursor is the sort key of the last item of a page, as url-safe base64 of a JSON array. It is
opaque to clients (only ever passed back), and keyset paging on it stays correct while rows
are added or removed between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from server.services.errors import ApiError

__all__ = ["decode_cursor", "encode_cursor", "split_page", "storable"]

T = TypeVar("T")
Key = tuple[str | int, ...]


def storable(text: str) -> bool:
    """Whether every database can store (and compare with) the text: PostgreSQL refuses NUL
    characters, and JSON and URLs can carry unpaired surrogates, which are not UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_cursor(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: type[str] | type[int]) -> Key | None:
    """The sort key a cursor carries, checked against the types the list sorts by.

    Raises:
        ApiError: 400 if the cursor was not made by this list.
    """
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(type(part) is kind for part, kind in zip(key, types, strict=True))
        or not all(storable(part) for part in key if isinstance(part, str))
    ):
        raise ApiError(400, "invalid cursor: pass back a next_cursor unchanged", code="bad_cursor")
    return tuple(key)


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], Key]
) -> tuple[list[T], str | None]:
    """A page from ``limit + 1`` fetched rows, and the cursor of the next page (None: last)."""
    if len(rows) <= limit:
        return list(rows), None
    page = list(rows[:limit])
    return page, encode_cursor(key(page[-1]))
