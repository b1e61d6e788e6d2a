"""Storage errors are classified once, in the backend: boto3 retries a request while S3 blinks;
past that, S3 being away (even mid-download) is `storage_unavailable` (503 with Retry-After to
clients, and a task goes back to the queue and succeeds once storage is back), while a missing
object is permanent (404; the task fails at once). A TCP proxy in front of `weed mini` plays
the outage."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.ids import new_id
from shared.storage import ObjectNotFound, StorageUnavailable, make_storage
from shared.storage.keys import markdown_key
from shared.storage.s3 import S3Storage
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import S3Server
from tests.fixtures.stack import build_stack

DATA = Path(__file__).resolve().parents[1] / "data"


def _s3_through(proxy: TcpProxy, s3: S3Server, bucket: str) -> dict[str, str]:
    return {
        "storage_backend": "s3",
        "s3_endpoint_url": f"http://{proxy.address}",
        "s3_bucket": bucket,
        "s3_access_key_id": s3.access_key,
        "s3_secret_access_key": s3.secret_key,
    }


def _proxy_for(s3: S3Server, tcp_proxy: type[TcpProxy]) -> TcpProxy:
    parts = urlsplit(s3.endpoint)
    return tcp_proxy((parts.hostname or "127.0.0.1", parts.port or 80))


def test_a_blinking_storage_is_ridden_out_by_client_retries(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, tcp_proxy: type[TcpProxy]
) -> None:
    proxy = _proxy_for(s3_server, tcp_proxy)
    settings = Settings(_env_file=None, data_dir=tmp_path, **_s3_through(proxy, s3_server, s3_bucket))  # type: ignore[call-arg]
    storage = make_storage(settings)
    proxy.drop_next(3)  # three connections hung up on before a byte of answer
    storage.put_bytes("probe/during-blink.txt", b"written while S3 blinked")
    assert proxy.accepted >= 4
    assert storage.get_bytes("probe/during-blink.txt") == b"written while S3 blinked"


@pytest.mark.slow
def test_a_task_outlasting_the_client_retries_is_retried_and_succeeds(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, tcp_proxy: type[TcpProxy]
) -> None:
    proxy = _proxy_for(s3_server, tcp_proxy)
    stack = build_stack("s3-outage", tmp_path, **_s3_through(proxy, s3_server, s3_bucket))
    try:
        task_id = stack.submit_file(DATA / "olmo-page-1.pdf")["id"]  # the input is in S3 now
        proxy.cut()
        worker = stack.start_worker()
        worker.wait_for_log("task.retry", timeout=120)  # boto3 gave up; the task went back
        assert stack.api.get(f"/v1/tasks/{task_id}").json()["error"]["code"] == "storage_unavailable"
        proxy.restore()
        done = stack.wait_task(task_id, timeout=120)
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        assert done["error"] is None
        assert len(stack.api.get(f"/v1/tasks/{task_id}/result.md").text) > 500
    finally:
        stack.close()


def _direct(s3: S3Server, bucket: str, through: TcpProxy) -> tuple[S3Storage, S3Storage]:
    """The same bucket reached directly (to set things up) and through the proxy (to be cut);
    the proxied client gives up at once, so a test does not wait out boto3's retries."""
    import boto3
    from botocore.config import Config

    proxied = boto3.client(
        "s3",
        endpoint_url=f"http://{through.address}",
        region_name="us-east-1",
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=5,
        ),
    )
    return S3Storage(s3.client(), bucket), S3Storage(proxied, bucket)


def test_s3_stopped_mid_download_is_storage_unavailable(
    s3_server: S3Server, s3_bucket: str, tcp_proxy: type[TcpProxy]
) -> None:
    proxy = _proxy_for(s3_server, tcp_proxy)
    direct, proxied = _direct(s3_server, s3_bucket, proxy)
    direct.put_bytes("tasks/t/results/full.md", os.urandom(32 * 1024 * 1024))
    chunks = proxied.iter_chunks("tasks/t/results/full.md", chunk_size=64 * 1024)
    assert len(next(chunks)) == 64 * 1024  # the download is under way
    proxy.cut()
    with pytest.raises(StorageUnavailable) as cut:
        for _ in chunks:
            pass
    assert (cut.value.status, cut.value.code, cut.value.retryable) == (503, "storage_unavailable", True)
    assert cut.value.retry_after == 5
    with pytest.raises(StorageUnavailable):  # and a download that starts during the outage
        proxied.get_bytes("tasks/t/results/full.md")


def test_s3_answering_no_such_key_is_a_missing_object_not_an_outage(
    s3_server: S3Server, s3_bucket: str, tcp_proxy: type[TcpProxy], tmp_path: Path
) -> None:
    proxy = _proxy_for(s3_server, tcp_proxy)
    _, proxied = _direct(s3_server, s3_bucket, proxy)
    with pytest.raises(ObjectNotFound) as missing:
        proxied.download_to("tasks/none/input.pdf", str(tmp_path / "input"))
    assert (missing.value.status, missing.value.retryable) == (404, False)


def test_a_result_download_during_an_outage_answers_503_with_retry_after(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, tcp_proxy: type[TcpProxy]
) -> None:
    proxy = _proxy_for(s3_server, tcp_proxy)
    stack = build_stack("s3-result-outage", tmp_path, **_s3_through(proxy, s3_server, s3_bucket))
    try:
        task_id = new_id("tsk")
        with session_scope(stack.settings.database_url) as session:
            session.add(
                Task(
                    id=task_id,
                    owner="default",
                    status=TaskStatus.succeeded,
                    source_kind="upload",
                    options={},
                    created_at=utcnow(),
                    finished_at=utcnow(),
                )
            )
        S3Storage(s3_server.client(), s3_bucket).put_bytes(markdown_key(task_id), b"# the result")
        assert stack.api.get(f"/v1/tasks/{task_id}/result.md").text == "# the result"

        proxy.cut()
        response = stack.api.get(f"/v1/tasks/{task_id}/result.md")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"] == {
            "code": "storage_unavailable",
            "message": "storage is unavailable; retry shortly",
        }
        deleting = stack.api.delete(f"/v1/tasks/{task_id}")  # deleting needs storage too
        assert (deleting.status_code, deleting.headers["Retry-After"]) == (503, "5")
        proxy.restore()
        assert stack.api.get(f"/v1/tasks/{task_id}/result.md").text == "# the result"
    finally:
        stack.close()


@pytest.mark.slow
def test_a_missing_input_fails_the_task_at_once_without_retrying(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    overrides = {
        "storage_backend": "s3",
        "s3_endpoint_url": s3_server.endpoint,
        "s3_bucket": s3_bucket,
        "s3_access_key_id": s3_server.access_key,
        "s3_secret_access_key": s3_server.secret_key,
    }
    stack = build_stack("s3-missing-input", tmp_path, **overrides)
    try:
        task_id = stack.submit_file(DATA / "olmo-page-1.pdf")["id"]
        S3Storage(s3_server.client(), s3_bucket).delete_prefix(f"tasks/{task_id}/")
        stack.start_worker()
        done = stack.wait_task(task_id, timeout=120)
        assert done["status"] == "failed", done
        assert done["error"]["code"] == "object_missing"
        assert done["attempts"] == 1  # permanent: not put back in the queue
        assert done["dead_lettered_at"] is None
    finally:
        stack.close()
