"""Records: what the feature queries return, read from rows by field name.

A record names the columns it carries (a query selects, and labels, columns of those names)
and :meth:`Record.model_validate` reads them from a result row, so no query copies a row into
a record field by field. Records are frozen, and built ``from_attributes``: the same call
reads them from any object with those attributes, which is how an HTTP model can be built
from a record without copying it by hand either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from storage.clock import as_utc

__all__ = ["Record", "UtcDatetime"]

UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A timestamp as read from either database (SQLite returns it naive), made aware in UTC."""


class Record(BaseModel):
    """Base of the records: frozen, read from rows (or any object) by attribute name."""

    model_config = ConfigDict(frozen=True, from_attributes=True)
