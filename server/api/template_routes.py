"""Templates: what a new document can start from, for a menu that shows each one's purpose."""

from __future__ import annotations

from pydantic import BaseModel, Field

from content import TEMPLATES
from server.api.framework import Call
from server.api.registry import api

__all__: list[str] = []


class TemplateOut(BaseModel):
    name: str = Field(description="the value of 'template' when creating a document")
    title: str
    description: str = Field(description="one sentence saying what the document is for")


class TemplateList(BaseModel):
    items: list[TemplateOut]


@api.operation(
    "GET",
    "/api/templates",
    summary="The document templates, with what each is for",
    tag="documents",
    response=TemplateList,
)
async def list_templates(call: Call) -> TemplateList:
    """Every template, in the order a menu should show them (blank first)."""
    return TemplateList(
        items=[
            TemplateOut(name=t.name, title=t.title, description=t.description)
            for t in TEMPLATES.values()
        ]
    )
