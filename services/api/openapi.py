"""The OpenAPI document: every error response is an RFC 9457 problem.

FastAPI describes error responses as ``application/json`` and validation errors
with its own ``HTTPValidationError``; the API answers ``application/problem+json``
bodies of one shape, so the document is rewritten to say exactly that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.api.problems import PROBLEM_MEDIA_TYPE, Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ERROR_DESCRIPTIONS = {
    "400": "Bad request (an invalid cursor)",
    "401": "Missing or wrong bearer token, or DRAWDOWN_API_TOKEN unset",
    "404": "Not found",
    "409": "Conflict",
    "422": "The request's parameters or body are not valid",
    "503": "Not ready, or the database is unavailable",
}


def _problem_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            description = ERROR_DESCRIPTIONS.get(code) or response.get("description") or "Error"
            responses[code] = {
                "description": description,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
            }


def problem_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _problem_responses(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return document


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
