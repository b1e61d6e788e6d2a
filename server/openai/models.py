"""`GET /v1/models`: what the connected workers serve, from their heartbeats, in OpenAI's list
shape with ocrp's own fields beside (engine, model, modes, gpu, workers, queues).

A model's id is its engine's model name made URL-safe (`tesseract-5.3.4-eng-tessdata_fast`);
chat completions accept those ids, an engine name (`tesseract`, `deepseek`) and the alias
`ocrp` (whatever the workers serve). The model only picks a mode: tasks go through the shared
queue to any worker that serves it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from server.deps import CallerDep, SettingsDep
from server.errors import responses
from shared import heartbeats
from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import session_scope
from shared.errors import NotFound
from shared.heartbeats import ServedModel, WorkerState

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


def _live(settings: Settings) -> list[WorkerState]:
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        return heartbeats.live_workers(session, utcnow(), settings.worker_stale_after_s)


async def live_workers(settings: Settings) -> list[WorkerState]:
    return await run_in_threadpool(_live, settings)


@router.get("/v1/models", responses=responses(503), summary="Models the connected workers serve")
async def list_models(settings: SettingsDep, caller: CallerDep) -> dict[str, Any]:
    workers = await live_workers(settings)
    served = heartbeats.served_models(workers)
    return {"object": "list", "data": [model_object(model, workers) for model in served]}


@router.get(
    "/v1/models/{model}", responses=responses(404, 503), summary="One model the connected workers serve"
)
async def get_model(model: str, settings: SettingsDep, caller: CallerDep) -> dict[str, Any]:
    workers = await live_workers(settings)
    found = resolve_model(model, heartbeats.served_models(workers))
    if found is None:  # the alias names no one model
        raise NotFound(
            f"{model!r} is an alias, not a model; GET /v1/models lists the models", "model_not_found"
        )
    return model_object(found, workers)
