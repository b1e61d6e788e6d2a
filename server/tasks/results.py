"""Result downloads: full.md, layout.json, figure crops, and all of them as one zip, streamed
from storage (the zip is built on the fly, never held whole in memory or on disk)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from server.deps import CallerDep, SessionDep, StorageDep
from server.errors import responses
from server.tasks import service
from shared.db.models import Task, TaskStatus
from shared.errors import Conflict, Gone, NotFound
from shared.filenames import content_disposition, safe_filename
from shared.storage import ObjectNotFound, Storage
from shared.storage.keys import image_key, is_image_name, layout_key, markdown_key

router = APIRouter(prefix="/v1/tasks", tags=["results"])


def _finished(task: Task) -> Task:
    if task.results_expired_at is not None:
        raise Gone(
            f"the results of this task were deleted on {task.results_expired_at:%Y-%m-%d} under the "
            "retention policy; submit the document again",
            "result_expired",
        )
    if task.status == TaskStatus.succeeded:
        return task
    if task.status in (TaskStatus.queued, TaskStatus.running):
        raise Conflict(f"the task is {task.status}; results exist once it has succeeded", "result_not_ready")
    raise Conflict(f"the task {task.status}; it has no results", "result_not_available")


def _download_name(task: Task, suffix: str) -> str:
    stem = safe_filename(task.filename or task.id).rsplit(".", 1)[0]
    return f"{stem}{suffix}"


def _stream(
    storage: Storage, key: str, media_type: str, filename: str, inline: bool = True
) -> StreamingResponse:
    try:
        chunks = storage.iter_chunks(key)
    except ObjectNotFound:
        raise NotFound("the result object is missing from storage", "result_missing") from None
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(filename, inline=inline)},
    )


@router.get(
    "/{task_id}/result.md",
    responses=responses(404, 409, 410),
    summary="The document as markdown",
    response_class=StreamingResponse,
)
def result_markdown(
    task_id: str, session: SessionDep, storage: StorageDep, caller: CallerDep
) -> StreamingResponse:
    task = _finished(service.get_task(session, caller.owner, task_id))
    return _stream(
        storage, markdown_key(task.id), "text/markdown; charset=utf-8", _download_name(task, ".md")
    )


@router.get(
    "/{task_id}/result.json",
    responses=responses(404, 409, 410),
    summary="The layout (layout.json)",
    response_class=StreamingResponse,
)
def result_layout(
    task_id: str, session: SessionDep, storage: StorageDep, caller: CallerDep
) -> StreamingResponse:
    task = _finished(service.get_task(session, caller.owner, task_id))
    return _stream(storage, layout_key(task.id), "application/json", _download_name(task, ".layout.json"))


@router.get(
    "/{task_id}/images/{name}",
    responses=responses(404, 409, 410),
    summary="A cropped figure",
    response_class=StreamingResponse,
)
def result_image(
    task_id: str,
    name: Annotated[str, Path(max_length=32, description="As listed in the task's result, e.g. 3_1.jpg")],
    session: SessionDep,
    storage: StorageDep,
    caller: CallerDep,
) -> StreamingResponse:
    task = _finished(service.get_task(session, caller.owner, task_id))
    if not is_image_name(name):
        raise NotFound(f"no image {name!r}", "image_not_found")
    try:
        return _stream(storage, image_key(task.id, name), "image/jpeg", name)
    except NotFound:
        raise NotFound(f"no image {name!r}", "image_not_found") from None


@router.get(
    "/{task_id}/result.zip",
    responses=responses(404, 409, 410),
    summary="full.md, layout.json and images",
    response_class=StreamingResponse,
)
def result_zip(
    task_id: str, session: SessionDep, storage: StorageDep, caller: CallerDep
) -> StreamingResponse:
    task = _finished(service.get_task(session, caller.owner, task_id))
    images = list((task.result_keys or {}).get("images", []))
    members = [("full.md", markdown_key(task.id)), ("layout.json", layout_key(task.id))]
    members += [(f"images/{name}", image_key(task.id, name)) for name in images]
    name = _download_name(task, ".zip")
    return StreamingResponse(
        _zip_stream(storage, members),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition(name)},
    )


class _Pipe:
    """A write-only file for zipfile whose bytes are taken out as the zip is built."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _zip_stream(storage: Storage, members: list[tuple[str, str]]) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w") as archive:
        for arcname, key in members:
            method = zipfile.ZIP_STORED if arcname.endswith(".jpg") else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(arcname)
            info.compress_type = method
            with archive.open(info, mode="w", force_zip64=True) as member:
                for chunk in storage.iter_chunks(key):
                    member.write(chunk)
                    if data := pipe.drain():
                        yield data
            yield pipe.drain()
    yield pipe.drain()
