"""The OpenAPI document describes every endpoint, and the server keeps to it under fuzzing.

schemathesis reads ``/openapi.json`` from a real server and sends it generated requests,
valid and invalid, as a signed-in owner: no answer may be a server error, and every answer
must match the document (status, content type, headers, body schema).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest
from starlette.routing import Route

from server import Settings, create_app
from server.api.routes import openapi
from tests.api.support import ACCOUNT_ARGS, Api, make_team
from tests.api.threads_helpers import new_thread
from tests.conftest import StartServer
from tests.interop.node import scaled

MAX_EXAMPLES = 15
"""Generated requests per operation and phase: bounds the run to about a minute."""

LIST_OPERATIONS = (
    "document_history",
    "list_document_versions",
    "list_document_threads",
    "list_my_notifications",
    "list_my_tokens",
    "list_my_workspaces",
    "list_workspace_activity",
    "list_workspace_documents",
    "list_workspace_invitations",
    "list_workspace_members",
)


def test_every_api_route_is_described(tmp_path: Path):
    app = create_app(Settings(data_dir=tmp_path))  # routes exist before the app starts
    described = {
        (method.upper(), path)
        for path, operations in openapi()["paths"].items()
        for method in operations
    }
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or ())
        if method != "HEAD"
    }
    assert served == described


async def test_openapi_is_served_and_declares_the_error_shape(
    gess_server: StartServer,
):
    server = await gess_server(anonymous=False, extra_args=ACCOUNT_ARGS)
    document = await Api(server.http_url).ok("GET", "/openapi.json")
    assert document["openapi"].startswith("3.1")
    error = document["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


async def _config(base_url: str) -> str:
    """A schemathesis configuration that signs in as an owner and points the path
    parameters at real resources, so that requests reach more than "not found"."""
    team = await make_team(base_url)
    owner = team.owner
    workspace = await team.workspace()
    throwaway = await team.workspace()
    document = await team.document(workspace, template="assap-plan")
    doomed = await team.document(workspace)
    invitation = await owner.ok(
        "POST", f"/api/workspaces/{workspace}/invitations", {"role": "viewer"}, status=201
    )
    revocable = await owner.ok(
        "POST", f"/api/workspaces/{workspace}/invitations", {"role": "viewer"}, status=201
    )
    token = await owner.ok("POST", "/api/me/tokens", {"name": "fuzz"}, status=201)
    version = await owner.ok(
        "POST", f"/api/documents/{document}/versions", {"name": "fuzz"}, status=201
    )
    thread, doomed_thread = [await new_thread(team, document) for _ in range(2)]
    owner_id = team.accounts["owner"].user_id
    mention = await team.api("commenter").ok(
        "POST", f"/api/threads/{thread['id']}/comments", {"body": f"<@{owner_id}>"}, status=201
    )
    notifications = await owner.ok("GET", "/api/notifications")
    lines = [
        f'headers = {{ Authorization = "Bearer {team.accounts["owner"].token}" }}',
        "[parameters]",
        f'"path.workspace_id" = "{workspace}"',
        f'"path.document_id" = "{document}"',
        f'"path.user_id" = "{team.accounts["viewer"].user_id}"',
        f'"path.invitation_id" = "{invitation["id"]}"',
        f'"path.token" = "{invitation["token"]}"',
        f'"path.token_id" = "{token["id"]}"',
        f'"path.thread_id" = "{thread["id"]}"',
        f'"path.comment_id" = "{thread["comments"][0]["id"]}"',
        f'"path.notification_id" = "{notifications["items"][0]["id"]}"',
        f'"path.version_id" = "{version["id"]}"',
    ]

    def operation(operation_id: str, *settings: str) -> None:
        lines.extend(["", "[[operations]]", f'include-operation-id = "{operation_id}"'])
        lines.extend(settings)

    operation("remove_workspace", f'parameters = {{ "path.workspace_id" = "{throwaway}" }}')
    operation("delete_document_for_good", f'parameters = {{ "path.document_id" = "{doomed}" }}')
    operation("revoke_invitation", f'parameters = {{ "path.invitation_id" = "{revocable["id"]}" }}')
    operation(
        "delete_thread_for_good",
        f'parameters = {{ "path.thread_id" = "{doomed_thread["id"]}" }}',
    )
    # Whether two sticky indexes frame live text of the document is beyond a schema: a
    # well-formed anchor that does not is refused with 422, rightly.
    operation(
        "create_thread",
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "403", "404", "409", "422"]',
    )
    # An address can match the schema's pattern and still be refused with 400 invalid_email:
    # mixed scripts, invisible characters and IDNA's rules are beyond a JSON Schema pattern.
    for email_operation in ("register", "add_member", "create_invitation"):
        operation(
            email_operation,
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", '
            '"404", "409", "429"]',
        )
    # The thread's first comment cannot go alone (409); a reply can.
    operation("remove_comment", f'parameters = {{ "path.comment_id" = "{mention["id"]}" }}')
    # Signing out would revoke the token every other request uses.
    operation("logout", "enabled = false")
    for list_operation in LIST_OPERATIONS:
        # A cursor is any string to the schema, but only one the server made is accepted:
        # others are refused with 400, rightly.
        operation(
            list_operation,
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403", "404"]',
        )
    return "\n".join(lines) + "\n"


def _schemathesis() -> list[str]:
    script = Path(sys.executable).parent / "schemathesis"
    if script.is_file():
        return [str(script)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'")
    return [found]


@pytest.mark.timeout(600)
async def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
    database_url: str | None, gess_server: StartServer, tmp_path: Path
):
    server = await gess_server(database_url=database_url, anonymous=False, extra_args=ACCOUNT_ARGS)
    config = tmp_path / "schemathesis.toml"
    config.write_text(await _config(server.http_url))
    command = [
        *_schemathesis(),
        "--config-file",
        str(config),
        "run",
        f"{server.http_url}/openapi.json",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20240601",
        # One worker: schemathesis's threads trip over a CPython 3.11 bug in ast.parse.
        "--workers",
        "1",
        "--request-timeout",
        str(scaled(20)),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(scaled(240)):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = output.decode(errors="replace")
    (tmp_path / "schemathesis.log").write_text(text)
    if process.returncode != 0 or "Authentication failed" in text:
        pytest.fail(f"schemathesis found problems:\n{text[-30000:]}", pytrace=False)
