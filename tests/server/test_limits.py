"""Limits: a rate limit per key (in-process on the embedded default, shared through Redis in
production), quotas per owner on queued tasks and pages in flight, and a body cap on every
route that takes a body."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from server.auth.ratelimit import LocalBucket, RedisBucket
from tests.documents import text_pdf
from tests.fixtures.services import wait_for
from tests.fixtures.stack import Stack, build_stack


def _upload(client, pages: int = 1):  # type: ignore[no-untyped-def]
    return client.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["p"] * pages))})


def test_a_key_past_its_burst_is_told_when_to_come_back(tmp_path: Path) -> None:
    stack = build_stack("rate", tmp_path, rate_limit_per_s=0.5, rate_limit_burst=3)
    try:
        statuses = [stack.api.get("/v1/tasks").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = stack.api.get("/v1/tasks")
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        # another key has its own bucket; open routes are not limited
        assert stack.client(stack.new_key("other")).get("/v1/tasks").status_code == 200
        assert stack.api.get("/healthz").status_code == 200
        # refused requests take no token: polling waits for the refill without delaying it
        wait_for(lambda: stack.api.get("/v1/tasks").status_code == 200, 10, "the bucket to refill")
    finally:
        stack.close()


def test_the_local_bucket_refills_at_its_rate() -> None:
    now = [100.0]  # steps of binary fractions: the arithmetic is exact
    bucket = LocalBucket(rate=8.0, burst=2, clock=lambda: now[0])
    assert [bucket.acquire("k") for _ in range(2)] == [0.0, 0.0]
    assert bucket.acquire("k") == 0.125
    now[0] += 0.0625
    assert bucket.acquire("k") == 0.0625  # half a token came back
    now[0] += 0.0625
    assert bucket.acquire("k") == 0.0
    assert bucket.acquire("other") == 0.0  # every key has its own bucket


def test_the_redis_bucket_is_shared_and_atomic(redis_url: str) -> None:
    # two API processes share one bucket; concurrent requests never take more than the burst
    first, second = RedisBucket(redis_url, rate=0.01, burst=20), RedisBucket(redis_url, rate=0.01, burst=20)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer(bucket: RedisBucket) -> None:
        for _ in range(10):
            ok = bucket.acquire("key:k1") == 0.0
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hammer, args=(b,)) for b in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 20
    assert first.acquire("key:k1") > 1
    assert second.acquire("key:other") == 0.0


def test_a_redis_outage_does_not_lock_everyone_out() -> None:
    bucket = RedisBucket("redis://127.0.0.1:1/0", rate=1, burst=1)
    assert bucket.acquire("key:k") == 0.0


def test_the_api_limits_through_redis_in_production(tmp_path: Path, redis_url: str) -> None:
    stack = build_stack(
        "rate-redis", tmp_path, broker_url=redis_url, rate_limit_per_s=0.01, rate_limit_burst=2
    )
    try:
        from fastapi.testclient import TestClient

        from server.app import create_app

        twin = TestClient(create_app(stack.settings), headers={"Authorization": f"Bearer {stack.api_key}"})
        assert stack.api.get("/v1/tasks").status_code == 200
        assert twin.get("/v1/tasks").status_code == 200
        assert stack.api.get("/v1/tasks").status_code == 429
        assert twin.get("/v1/tasks").status_code == 429
        twin.close()
    finally:
        stack.close()


def test_quotas_on_queued_tasks_and_pages_in_flight(tmp_path: Path) -> None:
    stack = build_stack("quota", tmp_path, quota_queued_tasks=2, quota_pages_in_flight=5)
    try:
        first = _upload(stack.api, pages=2)
        assert first.status_code == 202
        assert _upload(stack.api, pages=2).status_code == 202
        refused = _upload(stack.api)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "quota_exceeded"
        assert "queued" in refused.json()["error"]["message"]
        assert refused.headers["retry-after"] == "30"
        assert stack.api.post("/v1/tasks", json={"url": "http://127.0.0.1/a.pdf"}).status_code == 429

        # another owner has their own quota
        assert _upload(stack.client(stack.new_key("other"))).status_code == 202

        stack.api.post(f"/v1/tasks/{first.json()['id']}/cancel")  # queued → canceled: frees a place
        too_many_pages = _upload(stack.api, pages=2)  # 2 queued pages + 2 > 5? no: 4 ≤ 5
        assert too_many_pages.status_code == 202
        stack.api.post(f"/v1/tasks/{too_many_pages.json()['id']}/cancel")
        big = _upload(stack.api, pages=4)  # 2 + 4 > 5
        assert big.status_code == 429
        assert "pages" in big.json()["error"]["message"]
    finally:
        stack.close()


def _body_routes(stack: Stack) -> list[tuple[str, str]]:
    """Every (method, path) of the API that takes a body, from its own schema."""
    routes = []
    for path, operations in stack.api.get("/openapi.json").json()["paths"].items():
        for method in operations.keys() & {"post", "put", "patch"}:
            routes.append((method.upper(), path.replace("{task_id}", "tsk_01jd3k9zzzzzzzzzzzzzzzzzzz")))
    return routes


def test_every_route_that_takes_a_body_caps_it(tmp_path: Path) -> None:
    stack = build_stack("caps", tmp_path, max_json_body_bytes=1000, max_upload_bytes=10_000)
    try:
        from server.app import upload_limits

        routes = _body_routes(stack)
        assert {path for _, path in routes} >= {"/v1/tasks", "/v1/tasks/upload", "/v1/batches"}
        uploads = upload_limits(stack.settings)
        for method, path in routes:
            limit = uploads.get(path, 1000)
            response = stack.api.request(
                method, path, content=b"x" * (limit + 1), headers={"content-type": "application/json"}
            )
            assert response.status_code == 413, (method, path, response.status_code)
            assert response.json()["error"]["code"] == "payload_too_large"
    finally:
        stack.close()


@pytest.mark.parametrize(("fmt", "mode"), [("GIF", "P"), ("BMP", "RGB")])
def test_images_outside_the_allowlist_are_refused(embedded_stack: Stack, fmt: str, mode: str) -> None:
    from PIL import Image

    from tests.documents import image_bytes

    data = image_bytes(Image.new(mode, (64, 64)), fmt)
    response = embedded_stack.api.post("/v1/tasks/upload", files={"file": (f"scan.{fmt.lower()}", data)})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
