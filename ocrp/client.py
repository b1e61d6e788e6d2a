"""A small HTTP client of the ocrp API, used by the CLI (and handy in scripts)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

DEFAULT_API = "http://127.0.0.1:8000"
TERMINAL = {"succeeded", "failed", "canceled"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, timeout: float = 60.0
    ) -> None:
        self.base_url = (base_url or os.environ.get("OCR_API_URL") or DEFAULT_API).rstrip("/")
        key = api_key or os.environ.get("OCR_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response

    def submit_file(self, path: Path, **options: Any) -> dict[str, Any]:
        fields = {k: str(v) for k, v in options.items() if v is not None}
        with path.open("rb") as handle:
            response = self.http.post("/v1/tasks/upload", files={"file": (path.name, handle)}, data=fields)
        return dict(self._check(response).json())

    def submit_source(self, **body: Any) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        return dict(self._check(self.http.post("/v1/tasks", json=payload)).json())

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/tasks/{task_id}")).json())

    def wait(
        self, task_id: str, interval: float = 0.5, timeout: float | None = None, on_update: Any = None
    ) -> dict[str, Any]:
        started = time.monotonic()
        while True:
            task = self.task(task_id)
            if on_update is not None:
                on_update(task)
            if task["status"] in TERMINAL:
                return task
            if timeout is not None and time.monotonic() - started > timeout:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout:.0f}s")
            time.sleep(interval)

    def submit_batch(self, **body: Any) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        return dict(self._check(self.http.post("/v1/batches", json=payload)).json())

    def upload_batch(self, path: Path, **fields: Any) -> dict[str, Any]:
        data = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items() if v is not None
        }
        with path.open("rb") as handle:
            response = self.http.post(
                "/v1/batches/upload", files={"file": (path.name, handle)}, data=data, timeout=None
            )
        return dict(self._check(response).json())

    def batch(self, batch_id: str) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/v1/batches/{batch_id}")).json())

    def find_batch(self, idempotency_key: str) -> dict[str, Any] | None:
        response = self._check(self.http.get("/v1/batches", params={"idempotency_key": idempotency_key}))
        found = response.json()["data"]
        return dict(found[0]) if found else None

    def download(self, path: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return target

    def fetch_results(self, task: dict[str, Any], out_dir: Path) -> dict[str, Any]:
        """Download full.md, layout.json and the images of a succeeded task into out_dir."""
        base = f"/v1/tasks/{task['id']}"
        markdown = self.download(f"{base}/result.md", out_dir / "full.md")
        layout = self.download(f"{base}/result.json", out_dir / "layout.json")
        images = []
        for url in task["result"]["images"]:
            name = url.rsplit("/", 1)[-1]
            images.append(self.download(f"{base}/images/{name}", out_dir / "images" / name))
        return {"markdown": markdown, "layout": layout, "images": images, "images_dir": out_dir / "images"}
