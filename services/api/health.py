"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.deps import State
from services.api.problems import Problem, problem
from services.bus import Bus
from services.db import UNAVAILABLE, check_schema
from services.errors import ConfigError

router = APIRouter(tags=["health"])
READY_TIMEOUT = 5.0  # seconds each check may take
OK = "ok"


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(description='each check and "ok"')


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


async def database_checks(engine: AsyncEngine) -> dict[str, str]:
    """``database``: it answers; ``migrations``: its schema is at the code's head revision."""
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await check_schema(engine)
    except ConfigError as exc:
        return {"database": OK, "migrations": str(exc)}
    except (*UNAVAILABLE, SQLAlchemyError) as exc:
        return {"database": f"unreachable: {_reason(exc)}", "migrations": "unknown"}
    return {"database": OK, "migrations": OK}


async def bus_check(bus: Bus) -> str:
    """``bus``: it answers (Kafka: a metadata request; the in-process bus always does)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            ready = await bus.ready()
    except Exception as exc:  # noqa: BLE001 - any failure of the probe means not ready
        return f"not ready: {_reason(exc)}"
    return OK if ready else "not ready"


@router.get("/healthz", response_model=Liveness)
async def healthz() -> Liveness:
    """200 while the process serves requests."""
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Problem, "description": "a check failed; `checks` says which"}},
)
async def readyz(request: Request, state: State) -> Readiness | JSONResponse:
    """200 when the database answers, its migrations are at head and the bus (if the
    process has one to check) is ready; otherwise 503 naming what is not ready."""
    checks = await database_checks(state.engine)
    if state.bus is not None:
        checks["bus"] = await bus_check(state.bus)
    failed = {name: result for name, result in checks.items() if result != OK}
    if not failed:
        return Readiness(checks=checks)
    detail = "not ready: " + "; ".join(f"{name}: {result}" for name, result in failed.items())
    return problem(request, 503, detail, checks=checks)
