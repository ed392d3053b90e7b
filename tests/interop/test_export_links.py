"""Links a stock Yjs client writes, as the exports serve them: never an executable address.

A Node ``WebsocketProvider`` writes TipTap link marks whose ``href`` tries every way past a
scheme check (Unicode spaces in front, control characters, entity-encoded colons and
letters); the HTML and Markdown exports, fetched over REST, must carry none of them as a link
a browser would run. What a browser makes of an address is asked of the browser's own
algorithm: Node's WHATWG ``URL`` in the same client process. The Markdown is read back by a
CommonMark parser (markdown-it-py) with its own link filter off, so that the test sees every
destination a renderer could produce.
"""

from __future__ import annotations

import html.parser
import uuid

import pytest
from markdown_it import MarkdownIt

from tests.api.support import ACCOUNT_ARGS, Api, make_team
from tests.conftest import StartServer
from tests.interop.node import NodeClient

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("node")]

HOSTILE = [
    "\u00a0javascript:fetch('/api/me')",
    "\u2003javascript:alert(1)",
    "\u3000javascript:alert(1)",
    "\u200bjavascript:alert(1)",
    "\ufeffjavascript:alert(1)",
    " \t\njavascript:alert(1)",
    "\x00javascript:alert(1)",
    "java\tscr\nipt:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript&#58;alert(1)",
    "javascript&#x3A;alert(1)",
    "javascript&colon;alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript&#58alert(1)",
    "java&#9;script:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "\u00a0data:text/html,x",
]
SAFE = [
    "https://www.social-protection.org/gimi/ShowTheme.action?id=1&lang=EN",
    "http://example.org/a b",
    "mailto:amina@example.org",
    "/api/documents",
    "#section-4",
]
ALLOWED_PROTOCOLS = {"http:", "https:", "mailto:"}
BASE = "http://gess.example/api/documents/x/export"


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def html_links(text: str) -> list[str | None]:
    parser = _Links()
    parser.feed(text)
    return parser.hrefs


class _Unfiltered(MarkdownIt):
    """CommonMark without its link filter: every destination a renderer could produce."""

    def validateLink(self, url: str) -> bool:
        return True


def markdown_links(text: str) -> list[str]:
    renderer = _Unfiltered("commonmark")
    hrefs: list[str] = []
    for token in renderer.parse(text):
        for child in token.children or []:
            if child.type == "link_open":
                hrefs.append(str(child.attrGet("href")))
    return hrefs


async def test_a_yjs_client_cannot_put_a_script_link_into_an_export(gess_server: StartServer):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    team = await make_team(server.http_url)
    owner = team.accounts["owner"]
    document_id = await team.document(await team.workspace(), title="Plan d'action — Sénégal")
    runs = [
        {"text": f"link {number} ", "attributes": {"link": {"href": href}}}
        for number, href in enumerate(HOSTILE + SAFE)
    ]
    params = {"token": owner.token, "saved": "1"}
    async with NodeClient.start(server.ws_url, document_id, params) as client:
        mark = len(client.events)
        await client.append_paragraph(runs)
        await client.wait_event("saved", since=mark)

        api = Api(server.http_url, owner.token)

        async def exported(kind: str) -> str:
            response = await api.request(
                "GET", f"/api/documents/{document_id}/export?format={kind}"
            )
            assert response.status_code == 200, response.text
            return response.text

        page = await exported("html")
        assert "link 0" in page
        markdown = await exported("markdown")

        for where, hrefs in (("html", html_links(page)), ("markdown", markdown_links(markdown))):
            protocols = {
                href: await client.url_protocol(href, BASE) for href in hrefs if href is not None
            }
            executable = {h: p for h, p in protocols.items() if p not in {*ALLOWED_PROTOCOLS}}
            assert not executable, f"{where} export links a browser would run: {executable}"
            # Every safe address survives, as a browser reads it.
            kept = {await client.url_protocol(href, BASE) for href in SAFE}
            assert kept <= set(protocols.values()), (where, protocols)
            assert len(protocols) >= len(SAFE), (where, protocols)


async def test_exports_are_downloads_that_run_nothing(gess_server: StartServer):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    team = await make_team(server.http_url)
    title = f'Plan d\'action — Sénégal "{uuid.uuid4().hex[:4]}"'
    document_id = await team.document(await team.workspace(), title=title)
    version = await team.owner.ok(
        "POST", f"/api/documents/{document_id}/versions", {"name": "v1"}, status=201
    )
    paths = [
        f"/api/documents/{document_id}/export?format=html",
        f"/api/documents/{document_id}/export?format=markdown",
        f"/api/documents/{document_id}/versions/{version['id']}?format=html",
        f"/api/documents/{document_id}/versions/{version['id']}?format=markdown",
    ]
    for path in paths:
        response = await team.owner.request("GET", path)
        assert response.status_code == 200, response.text
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == "default-src 'none'; sandbox"
        disposition = headers["content-disposition"]
        extension = "html" if path.endswith("html") else "md"
        assert disposition.startswith("attachment; filename=\"Plan d'action - Senegal ")
        assert f".{extension}\"; filename*=UTF-8''Plan%20d%27action%20%E2%80%94%20S%C3%A9n" in (
            disposition
        )
        assert disposition.count('"') == 2  # the title's quotes do not end the filename
