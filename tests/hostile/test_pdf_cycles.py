"""PDF page trees with cycles and lying counts are `pdf_corrupt` wherever they come in: at
upload (was a 500), by URL and inside an archive (were `internal_error`). Public messages never
carry a server path."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.documents.page_tree import PageTreeDamaged, check_tree
from tests.fixtures.documents import tiny_pdf, zip_bytes
from tests.fixtures.stack import Stack
from tests.hostile.hostile_pdfs import HOSTILE
from tests.hostile.worker_stack import manifest, wait_batch, worker_stack, www

__all__ = ["worker_stack", "www"]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_an_upload_with_a_broken_page_tree_is_pdf_corrupt(worker_stack: Stack, name: str) -> None:
    response = worker_stack.api.post("/v1/tasks/upload", files={"file": (f"{name}.pdf", HOSTILE[name])})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "pdf_corrupt"
    assert str(worker_stack.settings.data_dir) not in error["message"]
    assert "/tmp" not in error["message"]


def test_a_pdf_that_cannot_be_opened_says_so_without_a_server_path(worker_stack: Stack) -> None:
    response = worker_stack.api.post("/v1/tasks/upload", files={"file": ("x.pdf", b"%PDF-1.4 garbage" * 8)})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "pdf_corrupt"
    assert "/" not in error["message"], error["message"]


@pytest.mark.parametrize("name", ["self_cycle", "deep_cycle"])
def test_a_url_with_a_broken_page_tree_fails_the_task_as_pdf_corrupt(
    worker_stack: Stack, www: tuple[Path, str], name: str
) -> None:
    root, base = www
    (root / f"{name}.pdf").write_bytes(HOSTILE[name])
    response = worker_stack.api.post("/v1/tasks", json={"url": f"{base}/{name}.pdf"})
    assert response.status_code == 202, response.text
    done = worker_stack.wait_task(response.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "pdf_corrupt"
    assert "/" not in done["error"]["message"]


def test_an_archive_member_with_a_broken_page_tree_fails_alone(worker_stack: Stack) -> None:
    archive = zip_bytes([("cycle.pdf", HOSTILE["deep_cycle"]), ("good.pdf", tiny_pdf("Fine"))])
    upload = worker_stack.api.post(
        "/v1/batches/upload", files={"file": ("b.zip", archive)}, data={"dpi": "72"}
    )
    assert upload.status_code == 202, upload.text
    batch = wait_batch(worker_stack, upload.json()["id"])
    lines = manifest(worker_stack, batch["id"])
    assert lines["good.pdf"]["status"] == "succeeded"
    assert lines["cycle.pdf"]["status"] == "failed"
    assert lines["cycle.pdf"]["error"]["code"] == "pdf_corrupt"


def test_the_walk_refuses_a_node_reached_twice_and_counts_leaves() -> None:
    tree = {1: [2, 3], 2: [4, 5], 3: [], 4: [], 5: []}
    assert check_tree(1, tree.__getitem__, 100) == 3
    with pytest.raises(PageTreeDamaged):
        check_tree(1, {1: [2], 2: [1]}.__getitem__, 100)
    with pytest.raises(PageTreeDamaged):  # a page shared by two parents
        check_tree(1, {1: [2, 3], 2: [4], 3: [4], 4: []}.__getitem__, 100)
    with pytest.raises(PageTreeDamaged):
        check_tree(1, {1: list(range(2, 50)), **{n: [] for n in range(2, 50)}}.__getitem__, 10)
