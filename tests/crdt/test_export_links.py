"""Which link and image addresses the exports keep: decided on exactly what they emit.

The oracle is a transcription of how a browser reads a scheme (WHATWG URL: strip leading and
trailing C0 controls and spaces, drop tabs and newlines, then the scheme state), applied to
the address as emitted and to what any number of HTML entity decodings make of it. Markdown
is read back with a CommonMark parser whose own link filter is off.
"""

from __future__ import annotations

import html
import string

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from crdt import to_html, to_markdown
from crdt.export._reader import _safe_url
from tests.crdt.test_export import build, p

ALLOWED = {"http", "https", "mailto"}
_ALPHA = set(string.ascii_letters)
_SCHEME_CHARACTERS = set(string.ascii_letters + string.digits + "+-.")


def browser_scheme(url: str) -> str | None:
    """The scheme a WHATWG URL parser reads in ``url`` (lower case), None for a relative URL."""
    url = url.strip("".join(map(chr, range(0x21))))
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    if not url or url[0] not in _ALPHA:
        return None
    for index, character in enumerate(url):
        if character == ":":
            return url[:index].lower()
        if character not in _SCHEME_CHARACTERS:
            return None
    return None


def decodings(url: str) -> list[str]:
    """``url`` and what repeated HTML entity decoding makes of it."""
    forms = [url]
    while (decoded := html.unescape(forms[-1])) != forms[-1] and len(forms) < 8:
        forms.append(decoded)
    return forms


def runnable(url: str) -> bool:
    return any(browser_scheme(form) not in ALLOWED | {None} for form in decodings(url))


PIECES = [
    " ", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\u00a0", "\u2003", "\u3000", "\u200b",
    "\ufeff", "\u2028", "&#58;", "&#x3a;", "&#58", "&colon;", "&#106;", "&#x6A;", "&#9;",
    "&Tab;", "&NewLine;", "&amp;", ":", "/", "\\", "?", "#", "%3A", "java", "script", "JaVa",
    "vbscript", "data", "text/html,", "https", "http", "mailto", "tel", "a", "1", "+", ".",
    "-", "alert(1)", "<", ">", "(", ")", "[", "]", '"', "'",
]  # fmt: skip
hrefs = st.one_of(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), st.text())


@given(hrefs)
@example("\u00a0javascript:alert(1)")
@example("javascript&#58;alert(1)")
@example("&#106;avascript:alert(1)")
@example("java&#9;script:alert(1)")
@example("&#x6A;avascript&#58alert(1)")
def test_a_kept_address_runs_no_script_however_it_is_decoded(href: str) -> None:
    kept = _safe_url(href)
    if kept is None:
        return
    assert not runnable(kept)
    # What is emitted is what a browser reads: nothing left for it to strip.
    assert kept == kept.strip("".join(map(chr, range(0x21))))
    assert not set(kept) & {"\t", "\n", "\r"}


@given(hrefs)
@example("\u00a0javascript:alert(1)")
@example("javascript&#58;alert(1)")
def test_html_links_run_no_script(href: str) -> None:
    out = to_html(build(p(("x", {"link": {"href": href}}))))
    start = out.find('href="')
    if start < 0:
        return
    emitted = html.unescape(out[start + 6 : out.index('"', start + 6)])
    assert not runnable(emitted)


class _Unfiltered(MarkdownIt):
    """CommonMark without its link filter: every destination a renderer could produce."""

    def validateLink(self, url: str) -> bool:
        return True


def markdown_destinations(text: str) -> list[str]:
    renderer = _Unfiltered("commonmark")
    found: list[str] = []
    for token in renderer.parse(text):
        for child in token.children or []:
            if child.type in {"link_open", "image"}:
                found.append(str(child.attrGet("href") or child.attrGet("src")))
    return found


@given(hrefs)
@example("javascript&#58;alert(1)")
@example("&#106;avascript:alert(1)")
def test_markdown_links_run_no_script(href: str) -> None:
    text = to_markdown(build(p(("x", {"link": {"href": href}}))))
    for destination in markdown_destinations(text):
        assert not runnable(destination), (href, text)


@given(st.sampled_from(sorted(ALLOWED)), st.text(string.ascii_letters + string.digits + "/-."))
def test_addresses_of_an_allowed_scheme_are_kept_as_they_are(scheme: str, rest: str) -> None:
    separator = ":" if scheme == "mailto" else "://"
    url = f"{scheme}{separator}example.org/{rest}"
    assert _safe_url(url) == url
    assert _safe_url(f" \t{url}\n") == url


def test_what_is_kept_and_what_is_not() -> None:
    for href in ("/relative", "#anchor", "?page=2", "./a:b", "HTTPS://EXAMPLE.ORG", "//e.org"):
        assert _safe_url(href) == href
    refused: tuple[object, ...] = (
        "\u00a0javascript:alert(1)",
        "\u200bjavascript:alert(1)",
        "javascript&#58;alert(1)",
        "&#106;avascript:alert(1)",
        "tel:+221",
        "data:text/html,x",
        "a b:c",
        "",
        " ",
        None,
        3,
    )
    for value in refused:
        assert _safe_url(value) is None, value
