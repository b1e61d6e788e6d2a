"""`GET /v1/models`: what the connected workers serve, from their heartbeats, in OpenAI's list
shape with ocrp's own fields beside (engine, model, modes, gpu, workers, queues).

A model's id is its engine's model name made URL-safe (`tesseract-5.3.4-eng-tessdata_fast`);
chat completions accept those ids, an engine name (`tesseract`, `deepseek`) and the alias
`ocrp` (whatever the workers serve), which the docs use and which is listed first whenever any
model is served, with `engine: "alias"`. The model only picks a mode: tasks go through the shared
queue to any worker that serves it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from server.deps import CallerDep, SettingsDep
from server.errors import responses
from shared import worker_liveness
from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import session_scope
from shared.errors import NotFound
from shared.worker_liveness import ServedModel, WorkerState

router = APIRouter(tags=["openai"])
ALIAS = "ocrp"
OWNER = "ocrp"
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def model_id(model: ServedModel) -> str:
    slug = _UNSAFE.sub("-", (model.model or "").lower()).strip("-._")
    return slug or model.engine


def resolve_model(requested: str, served: list[ServedModel]) -> ServedModel | None:
    """The served model a request names; None for the alias. Raises model_not_found."""
    if requested == ALIAS:
        return None
    for model in served:
        if requested == model_id(model):
            return model
    for model in served:
        if requested == model.engine:
            return model
    known = ", ".join([ALIAS, *sorted({model_id(m) for m in served} | {m.engine for m in served})])
    raise NotFound(
        f"the model {requested!r} is not served by any connected worker; use one of: {known}",
        "model_not_found",
    )


def _created(model: ServedModel, workers: list[WorkerState]) -> int:
    started = [w.started_at for w in workers if (w.engine, w.model) == (model.engine, model.model)]
    return int(min(started).timestamp()) if started else 0


def model_object(model: ServedModel, workers: list[WorkerState]) -> dict[str, Any]:
    return {
        "id": model_id(model),
        "object": "model",
        "created": _created(model, workers),
        "owned_by": OWNER,
        "engine": model.engine,
        "model": model.model,
        "modes": list(model.modes),
        "gpu": model.gpu,
        "gpus": list(model.gpus),
        "workers": model.workers,
        "queues": list(model.queues),
    }


def alias_object(served: list[ServedModel], workers: list[WorkerState]) -> dict[str, Any]:
    """`ocrp`: any of the served models, whichever worker takes the task first."""
    return {
        "id": ALIAS,
        "object": "model",
        "created": min((_created(model, workers) for model in served), default=0),
        "owned_by": OWNER,
        "engine": "alias",
        "model": None,
        "modes": sorted({mode for model in served for mode in model.modes}),
        "gpu": any(model.gpu for model in served),
        "workers": sum(model.workers for model in served),
        "queues": sorted({queue for model in served for queue in model.queues}),
    }


def _live(settings: Settings) -> list[WorkerState]:
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        return worker_liveness.live_workers(session, utcnow(), settings.worker_stale_after_s)


async def live_workers(settings: Settings) -> list[WorkerState]:
    return await run_in_threadpool(_live, settings)


@router.get("/v1/models", responses=responses(503), summary="Models the connected workers serve")
async def list_models(settings: SettingsDep, caller: CallerDep) -> dict[str, Any]:
    workers = await live_workers(settings)
    served = worker_liveness.served_models(workers)
    models = [model_object(model, workers) for model in served]
    return {"object": "list", "data": [alias_object(served, workers), *models] if served else []}


@router.get(
    "/v1/models/{model}", responses=responses(404, 503), summary="One model the connected workers serve"
)
async def get_model(model: str, settings: SettingsDep, caller: CallerDep) -> dict[str, Any]:
    workers = await live_workers(settings)
    served = worker_liveness.served_models(workers)
    found = resolve_model(model, served)
    if found is None:  # the alias: whatever is served
        if not served:
            raise NotFound("no connected worker serves a model yet", "model_not_found")
        return alias_object(served, workers)
    return model_object(found, workers)
