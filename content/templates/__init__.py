"""Document templates: the structured content a new document can start from, in every language.

The text lives in data files beside this module, so that a domain expert edits a template
without touching Python: ``catalog.toml`` lists the templates (in menu order) and the languages,
and ``<language>/<template>.md`` holds one template in one language (the Markdown convention is
in :mod:`content.templates._markdown` and in ``README.md`` here). This module loads them once,
checks that every template exists in every language, and builds each into a Yjs update the way
TipTap stores a document (:mod:`content.templates._prosemirror`).

The coverage-gap matrix of the ASSAP plan groups the nine branches of ILO Convention No. 102
and general social assistance under the four guarantees of Recommendation No. 202
(paragraph 5) as follows, one row per branch:

- essential health care, including maternity care: medical care, maternity. Maternity goes here
  because the Recommendation names maternity care in this guarantee; the template asks for the
  gaps in maternity cash benefits to be recorded in the same row;
- basic income security for children: family;
- basic income security for people of working age unable to earn enough: sickness,
  unemployment, employment injury, invalidity, and general social assistance (the last resort
  for those of working age whom no other branch covers);
- basic income security for older persons: old-age, survivors.

A group header row is a single ``tableHeader`` cell spanning the table (``colspan`` 8) that
names the guarantee.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Final

from content.templates._markdown import TemplateFile, TemplateFileError, parse
from content.templates._prosemirror import to_update

__all__ = ["LANGUAGES", "TEMPLATES", "Template", "TemplateFileError", "build_template"]


@dataclass(frozen=True, slots=True)
class Template:
    """A template a new document can start from.

    Attributes:
        name: the key in :data:`TEMPLATES` and the argument of :func:`build_template`.
        title: a short human title, for a menu, in the template's language.
        description: one sentence saying what the document is for, in the template's language.
        language: the language the template is written in: ``en``, ``fr`` or ``es``.
        kind: the same template in every language shares it (``assap-plan``).
    """

    name: str
    title: str
    description: str
    language: str
    kind: str


def _load(folder: Traversable) -> tuple[tuple[str, ...], dict[str, tuple[Template, TemplateFile]]]:
    """Every template file under ``folder``, checked against its ``catalog.toml``.

    Raises:
        TemplateFileError: a file is unreadable as a template, missing, or not in the catalog.
    """
    catalog = tomllib.loads(folder.joinpath("catalog.toml").read_text(encoding="utf-8"))
    languages, kinds = tuple(catalog["languages"]), tuple(catalog["templates"])
    found: dict[str, tuple[Template, TemplateFile]] = {}
    for language in languages:
        files = {entry.name for entry in folder.joinpath(language).iterdir() if entry.is_file()}
        stray = files - {f"{kind}.md" for kind in kinds}
        if stray:
            raise TemplateFileError(
                f"{language}/: {', '.join(sorted(stray))} not listed in catalog.toml"
            )
        for kind in kinds:
            origin = f"{language}/{kind}.md"
            if f"{kind}.md" not in files:
                raise TemplateFileError(f"{origin}: missing (catalog.toml lists {kind!r})")
            text = folder.joinpath(language, f"{kind}.md").read_text(encoding="utf-8")
            parsed = parse(text, origin)
            name = kind if language == languages[0] else f"{kind}-{language}"
            template = Template(name, parsed.title, parsed.description, language, kind)
            found[name] = (template, parsed)
    return languages, found


_LANGUAGES, _FILES = _load(resources.files(__package__))

LANGUAGES: Final[tuple[str, ...]] = _LANGUAGES
"""The languages every template is written in, the default (English) first."""

TEMPLATES: Final[Mapping[str, Template]] = MappingProxyType(
    {name: template for name, (template, _) in _FILES.items()}
)
"""Every template by name: each language in :data:`LANGUAGES` order, each in menu order."""


def build_template(name: str) -> bytes:
    """The content of template ``name`` as one Yjs v1 update.

    Apply it to a new, empty document. Every call returns the same bytes, so applying it again
    changes nothing.

    Raises:
        ValueError: there is no template called ``name``; the message lists the valid names.
    """
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; expected one of {', '.join(TEMPLATES)}")
    return _build(name)


@functools.cache
def _build(name: str) -> bytes:
    return to_update(_FILES[name][1].nodes)
