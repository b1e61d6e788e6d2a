"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from server.errors import responses
from shared.config import Settings
from shared.db.session import get_engine

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database(settings: Settings) -> None:
    with get_engine(settings.database_url, settings.database_pool_size).connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_broker(request: Request) -> None:
    with request.app.state.celery.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def _check_storage(request: Request) -> None:
    request.app.state.storage.check()


@router.get("/readyz", summary="Database, broker and storage are reachable", responses=responses(503))
async def readyz(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    checks: dict[str, Any] = {}
    probes = {
        "database": lambda: _check_database(settings),
        "broker": lambda: _check_broker(request),
        "storage": lambda: _check_storage(request),
    }
    for name, probe in probes.items():
        try:
            await run_in_threadpool(probe)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}: {str(exc)[:200]}"
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        body = {
            "error": {"code": "not_ready", "message": f"unreachable: {', '.join(failed)}"},
            "checks": checks,
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", "checks": checks})
