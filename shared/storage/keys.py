"""Where each object of a task lives. One prefix per task, so deleting a task is one
`delete_prefix` call and nothing is left behind.

    tasks/{task_id}/input.{ext}                  the document as received
    tasks/{task_id}/pages/{page:05d}.json        per-page checkpoint (layout page + markdown)
    tasks/{task_id}/results/full.md              the document's markdown
    tasks/{task_id}/results/layout.json          the document's layout (shared.layout.schema)
    tasks/{task_id}/results/images/{page}_{n}.jpg  cropped figures
"""

from __future__ import annotations

import re

_IMAGE_NAME = re.compile(r"^[0-9]{1,6}_[0-9]{1,4}\.jpg$")


def task_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/"


def input_key(task_id: str, extension: str) -> str:
    return f"tasks/{task_id}/input.{extension}"


def page_checkpoint_key(task_id: str, page: int) -> str:
    return f"tasks/{task_id}/pages/{page:05d}.json"


def pages_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/pages/"


def results_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/results/"


def markdown_key(task_id: str) -> str:
    return f"tasks/{task_id}/results/full.md"


def layout_key(task_id: str) -> str:
    return f"tasks/{task_id}/results/layout.json"


def image_name(page: int, index: int) -> str:
    return f"{page}_{index}.jpg"


def image_key(task_id: str, name: str) -> str:
    if not is_image_name(name):
        raise ValueError(f"not an image name: {name!r}")
    return f"tasks/{task_id}/results/images/{name}"


def images_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/results/images/"


def is_image_name(name: str) -> bool:
    return bool(_IMAGE_NAME.match(name))
