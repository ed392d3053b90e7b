"""The OpenAPI 3.1 document of the REST API, built from the declared operations.

Every operation's parameters, body, responses and security come from its declaration in
:mod:`server.api.framework`; the schemas are the JSON schemas pydantic generates for the
models the handlers validate with and answer with. Nothing here is written by hand twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from server.accounts import SESSION_COOKIE
from server.api.errors import STATUS_CODES
from server.api.framework import Operation
from server.api.models import ErrorOut

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"{(\w+)}")

_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content"}


def _schemas(
    operations: Iterable[Operation],
) -> tuple[dict[Any, Any], dict[str, Any]]:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorOut, "serialization")}
    for operation in operations:
        if operation.body is not None:
            wanted.add((operation.body, "validation"))
        if operation.response is not None:
            wanted.add((operation.response, "serialization"))
    ordered = sorted(wanted, key=lambda item: (item[0].__name__, item[1]))
    refs, definitions = models_json_schema(ordered, ref_template=_REF)
    return dict(refs), definitions.get("$defs", {})


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(operation.path)
    ]
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", ()))
        for name, field_schema in schema.get("properties", {}).items():
            field_schema = dict(field_schema)
            field_schema.pop("title", None)
            description = field_schema.pop("description", None)
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": field_schema,
            }
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    return parameters


def _responses(operation: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(operation.status, "OK")}
    if operation.response is not None:
        # JSON is the model; an operation may also answer other media types (an export).
        success["content"] = {
            "application/json": {"schema": refs[(operation.response, "serialization")]},
            **{
                media_type: {"schema": {"type": "string"}}
                for media_type in operation.media_types
                if media_type != "application/json"
            },
        }
    elif operation.status != 204:
        success["content"] = {
            media_type: {"schema": {"type": "string"}} for media_type in operation.media_types
        }
    responses: dict[str, Any] = {str(operation.status): success}
    error = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
    for status in sorted(operation.all_errors):
        _, description = STATUS_CODES.get(status, ("error", "Error"))
        responses[str(status)] = {"description": description, "content": error}
    return responses


def _operation(operation: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(operation),
        "responses": _responses(operation, refs),
        "security": [{"bearer": []}, {"cookie": []}] if operation.auth else [],
    }
    if operation.description:
        document["description"] = operation.description
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    return document


def openapi_document(operations: Iterable[Operation], *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``operations``."""
    operations = list(operations)
    refs, schemas = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GESS Workspaces",
            "version": version,
            "description": (
                "Accounts, workspaces, members, documents and activity of a GESS Workspaces "
                "server. Authenticate with 'Authorization: Bearer TOKEN' (from "
                "/api/auth/login or a personal token), or in a browser with the session "
                "cookie plus the X-CSRF-Token header on state-changing calls. Every error is "
                '{"error": {"code", "message"}}. Documents are edited live over the '
                "y-websocket protocol at /ws/{document_id}?token=TOKEN."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
    }
