"""Storage errors are retried: boto3 retries a request while S3 blinks, and a task whose storage
stayed away past those retries goes back to the queue (a transient failure) and succeeds once
storage is back. A TCP proxy in front of `weed mini` plays the outage."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.config import Settings
from shared.storage import make_storage
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
