"""What every route may ask for: the app's state, a database session, the write token."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.bus import Bus
from services.settings import Settings


@dataclass(frozen=True, slots=True)
class ApiState:
    """One per app: built by ``create_app`` and kept on ``app.state.api``.

    ``bus`` is the process's bus, if it has one to report on: /readyz asks it
    ``ready()``, /metrics its consumer ``lag()``.
    """

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus | None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]


async def _session(state: State) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="DRAWDOWN_API_TOKEN, required by every write endpoint",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def token_refusal(settings: Settings, authorization: str | None) -> HTTPException | None:
    """Why a write with this ``Authorization`` header is refused (a 401), or None."""
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token:
        return HTTPException(
            401,
            "write endpoints are disabled: set DRAWDOWN_API_TOKEN and send it as a bearer token",
            headers=_CHALLENGE,
        )
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return HTTPException(
            401, "send Authorization: Bearer <DRAWDOWN_API_TOKEN>", headers=_CHALLENGE
        )
    if not secrets.compare_digest(credentials.strip().encode(), token.encode()):
        return HTTPException(
            401,
            "the bearer token is not DRAWDOWN_API_TOKEN",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return None


async def require_token(
    state: State,
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse a write unless it carries ``Authorization: Bearer <DRAWDOWN_API_TOKEN>``.
    (services.api.admission checks the same before the body is read; this keeps the
    endpoints' OpenAPI security and guards any route mounted without the middleware.)"""
    refused = token_refusal(state.settings, request.headers.get("authorization"))
    if refused is not None:
        raise refused


Writer = Depends(require_token)


async def token_holder(state: State, request: Request) -> bool:
    """Whether a read carries the bearer token (it may then see more, e.g. webhook URLs)."""
    return token_refusal(state.settings, request.headers.get("authorization")) is None


TokenHolder = Annotated[bool, Depends(token_holder)]
