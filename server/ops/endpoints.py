"""HTTP routes of the ops domain: `/metrics`, `GET /v1/ops/stats`, `/ops` and its fragment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from server.deps import Caller, CallerDep, CeleryDep, SessionDep, SettingsDep
from server.errors import responses
from server.ops.batches import BatchProvider, batches_in_progress
from server.ops.page import render_body, render_page
from server.ops.schemas import OpsStats
from server.ops.service import ops_stats
from shared.clock import utcnow
from shared.errors import Forbidden

router = APIRouter(tags=["ops"])


def require_admin(caller: CallerDep) -> Caller:
    if "admin" not in caller.scopes:
        raise Forbidden("the ops dashboard and statistics need a key with the admin scope", "admin_required")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


def _batch_provider(request: Request) -> BatchProvider:
    provider: BatchProvider = getattr(request.app.state, "batch_provider", batches_in_progress)
    return provider


def _stats(request: Request, session: SessionDep, celery: CeleryDep, settings: SettingsDep) -> OpsStats:
    return ops_stats(session, celery, settings, _batch_provider(request), utcnow())


StatsDep = Annotated[OpsStats, Depends(_stats)]


@router.get(
    "/v1/ops/stats",
    response_model=OpsStats,
    responses=responses(403, 503),
    summary="Queue depths, throughput, tasks in flight, failures, workers and batches",
)
def get_stats(_: AdminDep, stats: StatsDep) -> OpsStats:
    return stats


@router.get("/ops", response_class=HTMLResponse, responses=responses(403, 503), summary="The ops dashboard")
def ops_page(_: AdminDep, stats: StatsDep) -> HTMLResponse:
    return HTMLResponse(render_page(stats), headers={"Cache-Control": "no-store"})


@router.get("/ops/fragment", response_class=HTMLResponse, include_in_schema=False)
def ops_fragment(_: AdminDep, stats: StatsDep) -> HTMLResponse:
    return HTMLResponse(render_body(stats), headers={"Cache-Control": "no-store"})


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    # unauthenticated, as Prometheus scrapes it: keep it off the public ingress
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
