"""The template files: what the Markdown convention turns into, and what it refuses."""

from __future__ import annotations

import hashlib

import pytest

import crdt.templates as python_built
from content import TEMPLATES, build_template

ENGLISH_DIGESTS = {
    "blank": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "assap-plan": "c3af82e59bdee731572eed33d2c53c7858cddfde0211a098895927609c086a96",
    "training-course": "f4ecdf213f554c58bc7e8722a00107641ea4ec57714fb74bac3c34435c98ad71",
    "research-proposal": "f198580c6b7bad21a448879b48f5a4d8aad87ef339fca348cb4a558b30c2156c",
}
"""SHA-256 of each English template's update as the Python-built templates wrote it, before
the text moved into data files: the files must give exactly the same document."""


@pytest.mark.parametrize("name", list(ENGLISH_DIGESTS))
def test_english_templates_are_byte_for_byte_what_they_were(name: str) -> None:
    update = build_template(name)
    assert hashlib.sha256(update).hexdigest() == ENGLISH_DIGESTS[name]


@pytest.mark.parametrize("name", list(python_built.TEMPLATES))
def test_files_build_what_the_python_templates_built(name: str) -> None:
    assert build_template(name) == python_built.build_template(name)
    old, new = python_built.TEMPLATES[name], TEMPLATES[name]
    assert (new.name, new.title, new.description) == (old.name, old.title, old.description)
    assert (new.language, new.kind) == ("en", name)
