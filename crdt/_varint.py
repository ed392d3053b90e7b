"""Bounded lib0 variable-length integers and byte strings.

pycrdt's own ``Decoder`` indexes past the end of truncated input and raises ``IndexError``;
this reader checks every bound and raises only :class:`~crdt.errors.ProtocolError`.
"""

from __future__ import annotations

from pycrdt import write_message as write_var_bytes
from pycrdt import write_var_uint

from crdt.errors import ProtocolError

__all__ = ["Reader", "write_var_bytes", "write_var_uint"]

# lib0 numbers are JavaScript-safe integers: 53 bits fit in 8 groups of 7 bits.
_MAX_VARUINT_BYTES = 8


class Reader:
    """A cursor over untrusted bytes; every read is bounds-checked."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def read_var_uint(self) -> int:
        """Read one varuint.

        Raises:
            ProtocolError: the input ends inside the number, or it exceeds 53 bits.
        """
        value = 0
        shift = 0
        for _ in range(_MAX_VARUINT_BYTES):
            if self._pos >= len(self._data):
                raise ProtocolError("message truncated inside a number")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ProtocolError("number too large")

    def read_var_bytes(self) -> bytes:
        """Read a length-prefixed byte string.

        Raises:
            ProtocolError: the declared length runs past the end of the input.
        """
        length = self.read_var_uint()
        if length > self.remaining:
            raise ProtocolError(
                f"declared length {length} exceeds the {self.remaining} bytes that follow"
            )
        start = self._pos
        self._pos += length
        return self._data[start : self._pos]

    def read_var_string(self) -> str:
        """Read a length-prefixed UTF-8 string.

        Raises:
            ProtocolError: truncated input or invalid UTF-8.
        """
        raw = self.read_var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def expect_end(self) -> None:
        """Raises ProtocolError if bytes are left over after a complete message."""
        if self.remaining:
            raise ProtocolError(f"{self.remaining} unexpected bytes after the message")
