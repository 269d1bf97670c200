"""Query parameters a route does not know are a 422 naming them, not silently ignored:
``/alerts?plaec=qasrak`` would otherwise answer every alert as if unfiltered."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def known_query_only(request: Request) -> None:
    """A dependency of every route: 422 for each query parameter the route does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        hint = f"known: {', '.join(sorted(known))}" if known else "it takes none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; {hint}",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )
