"""Rendered documents as downloads: files a browser saves, never pages it runs.

An export is written by its document's editors, so it is untrusted content; served inline as
``text/html`` on the API's origin it would run with the reader's session. It is therefore an
attachment, its type is not to be sniffed, and should a browser display it anyway, its
Content-Security-Policy lets it load and run nothing (``sandbox``: a unique origin, no script).
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from typing import Final, Literal

from starlette.responses import Response

__all__ = ["EXPORT_POLICY", "download", "filename_header"]

EXPORT_POLICY: Final = "default-src 'none'; sandbox"
"""The Content-Security-Policy of every export (stricter than the app's default)."""

_MEDIA_TYPES: Final = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
}
# Characters no file name should hold on any system, or that would end the header's value.
_NOT_IN_NAMES: Final = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]')
_NOT_IN_ASCII_NAMES: Final = re.compile(r"[^A-Za-z0-9 !#$%&'()+,.=@^_`{}~-]")
_MAX_NAME: Final = 100


def filename_header(title: str, extension: str) -> str:
    """A ``Content-Disposition: attachment`` value naming the file after ``title``.

    ``filename`` is an ASCII approximation (accents dropped, anything else ``-``) for old
    clients; ``filename*`` (RFC 5987/6266) carries the title in UTF-8.
    """
    name = _NOT_IN_NAMES.sub("-", unicodedata.normalize("NFC", title))
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cf", "Zl", "Zp"})
    name = name.strip(" .")[:_MAX_NAME].strip(" .") or "document"
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_name = _NOT_IN_ASCII_NAMES.sub("-", ascii_name).strip(" .") or "document"
    encoded = urllib.parse.quote(f"{name}.{extension}", safe="")
    return f"attachment; filename=\"{ascii_name}.{extension}\"; filename*=UTF-8''{encoded}"


def download(text: str, kind: Literal["markdown", "html"], title: str) -> Response:
    """``text`` (Markdown or HTML) as a file to save, named after ``title``."""
    media_type, extension = _MEDIA_TYPES[kind]
    return Response(
        text,
        media_type=media_type,
        headers={
            "Content-Disposition": filename_header(title, extension),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": EXPORT_POLICY,
        },
    )
