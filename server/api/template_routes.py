"""Templates: what a new document can start from, for a menu that shows each one's purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field

from content import LANGUAGES, TEMPLATES
from server.api.dependencies import SignedInCall
from server.api.routing import api_router

router = api_router("documents")

__all__: list[str] = []


def _known_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"unknown language; expected one of {', '.join(LANGUAGES)}")
    return value


Language = Annotated[
    str,
    Field(json_schema_extra={"enum": list(LANGUAGES)}),
    AfterValidator(_known_language),
]


class TemplateOut(BaseModel):
    name: str = Field(description="the value of 'template' when creating a document")
    title: str
    description: str = Field(description="one sentence saying what the document is for")
    language: Language = Field(description="the language the template is written in")
    kind: str = Field(
        description="the same in every language: the translations of a template share it"
    )


class TemplateList(BaseModel):
    items: list[TemplateOut]


class TemplateListQuery(BaseModel):
    language: Language | None = Field(
        None, description="list this language's templates first; the others follow"
    )


@router.get(
    "/api/templates",
    summary="The document templates, with what each is for",
    response_model=TemplateList,
)
async def list_templates(
    call: SignedInCall, query: Annotated[TemplateListQuery, Query()]
) -> TemplateList:
    """Every template, one language after the other (English, French, Spanish, or the asked
    language first), each in the order a menu should show them (blank first)."""
    first = query.language
    return TemplateList(
        items=[
            TemplateOut(
                name=t.name,
                title=t.title,
                description=t.description,
                language=t.language,
                kind=t.kind,
            )
            for t in sorted(TEMPLATES.values(), key=lambda t: t.language != first)
        ]
    )
