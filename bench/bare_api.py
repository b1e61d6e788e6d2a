"""The yardstick of `bench.api_hot_paths`: a bare FastAPI app serving, from a dict in memory, the
very JSON bodies the platform answered on its hot paths. No auth, no database: what the
framework itself costs per request on this machine.

    BENCH_BODIES=bodies.json uvicorn --factory bench.bare_api:app_factory
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI


def app_factory() -> FastAPI:
    bodies: dict[str, Any] = json.loads(Path(os.environ["BENCH_BODIES"]).read_text())
    app = FastAPI()

    @app.get("/v1/tasks/{task_id}")
    async def task(task_id: str) -> Any:
        return bodies["task"]

    @app.get("/v1/tasks/{task_id}/pages")
    async def pages(task_id: str) -> Any:
        return bodies["pages"]

    @app.get("/v1/tasks")
    async def tasks() -> Any:
        return bodies["list"]

    return app
