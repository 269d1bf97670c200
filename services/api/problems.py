"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

Handlers turn HTTP errors (404, 401, 409 …), request validation errors (422),
an unreachable database (503) and anything unexpected (500) into one body shape:
``type``, ``title``, ``status``, ``detail``, ``instance``, plus extension
members where they help (``errors`` for 422, ``checks`` for /readyz).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from services.db import UNAVAILABLE

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem; extension members (``errors``, ``checks``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="a URI naming the problem type")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, for a person")
    instance: str = Field(description="the request path that had the problem")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extensions,
    )
    return ProblemResponse(body.model_dump(), status_code=status, headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. (Starlette's 405 names only the
    first route whose path matched, and FastAPI makes one route per method.)"""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    )


class InvalidParameter(StarletteHTTPException):
    """A 422 for one parameter that passed its type but not a check of the route's own
    (a place the gazetteer does not know); its problem has ``errors`` like any 422."""

    def __init__(self, loc: tuple[str, ...], detail: str) -> None:
        super().__init__(422, detail)
        self.loc = loc


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    extensions: dict[str, Any] = {}
    if exc.status_code == 422:  # every 422 says where, as the docs promise
        loc = list(exc.loc) if isinstance(exc, InvalidParameter) else []
        extensions["errors"] = [{"loc": loc, "msg": str(exc.detail), "type": "value_error"}]
    return problem(request, exc.status_code, str(exc.detail), headers=headers, **extensions)


def _where(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location)


LONG_PATTERN = 40  # characters; a longer pattern is no help in a message
# What a short pattern of the API means, in words.
PATTERN_MEANINGS = {r"[^\W_]": "has no word to look for (no letter or digit)"}


def _message(error: Mapping[str, Any]) -> str:
    """pydantic's message, without a pattern too long to read (the OpenAPI document
    states each one)."""
    pattern = str((error.get("ctx") or {}).get("pattern", ""))
    if error.get("type") == "string_pattern_mismatch" and pattern in PATTERN_MEANINGS:
        return PATTERN_MEANINGS[pattern]
    if error.get("type") == "string_pattern_mismatch" and len(pattern) > LONG_PATTERN:
        return "does not have the form the OpenAPI document gives for it"
    return str(error.get("msg", ""))


async def _invalid(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e), "type": e["type"]}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors)
    return problem(request, 422, detail or "the request is not valid", errors=errors)


async def _unavailable(request: Request, exc: Exception) -> ProblemResponse:
    log.warning("database unavailable path=%s error=%r", request.url.path, exc)
    return problem(request, 503, "the database is unavailable; try again shortly")


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log.error("unhandled error path=%s error=%r", request.url.path, exc)
    return problem(request, 500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
