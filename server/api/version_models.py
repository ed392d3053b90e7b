"""The request and response bodies of versions, their diffs and a document's history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.api.fields import Name
from server.api.models import PageQuery
from server.services.records import ActorOut, VersionOut

__all__ = [
    "BlockOut",
    "ChangeOut",
    "DiffOut",
    "DiffQuery",
    "EditSessionOut",
    "HistoryPage",
    "HistoryQuery",
    "VersionCreate",
    "VersionPage",
    "VersionQuery",
]


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name = Field(description="e.g. 'Before the steering committee'")


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_cursor: str | None


class VersionQuery(BaseModel):
    format: Literal["json", "markdown", "html"] = Field(
        "json", description="json: the version's details; markdown or html: its content"
    )


class DiffQuery(BaseModel):
    against: str = Field(
        "current",
        pattern=r"^(current|[0-9]{1,18})$",
        description="the id of another version of the document, or current (its state now)",
    )


class BlockOut(BaseModel):
    kind: str = Field(description="paragraph, heading, table, ... (text: a plain Y.Text)")
    text: str = Field(description="the block's plain text")


class ChangeOut(BaseModel):
    change: Literal["added", "removed", "changed"]
    old_index: int | None = Field(description="the block's index in the version compared from")
    new_index: int | None = Field(description="the block's index in what it is compared to")
    old: BlockOut | None
    new: BlockOut | None


class DiffOut(BaseModel):
    """The top-level blocks that differ between a version and another version or now."""

    model_config = ConfigDict(serialize_by_alias=True)

    from_: str = Field(serialization_alias="from", description="the version compared from")
    to: str = Field(description="the version compared to, or current")
    changes: list[ChangeOut]


class HistoryQuery(PageQuery):
    gap: int = Field(
        600,
        ge=1,
        le=7 * 24 * 3600,
        description="seconds: one author's edits closer together than this form one session",
    )


class EditSessionOut(BaseModel):
    author: ActorOut | None = Field(description="null for guests and changes of the system")
    started_at: datetime
    ended_at: datetime
    updates: int = Field(description="how many stored updates the session holds")
    first_update: int
    last_update: int


class HistoryPage(BaseModel):
    items: list[EditSessionOut]
    next_cursor: str | None
