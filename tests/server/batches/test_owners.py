"""Every batch route is scoped to its owner: another owner sees nothing and gets 404."""

from __future__ import annotations

from server.deps import Caller, get_caller
from tests.fixtures.stack import Stack


def test_another_owner_cannot_see_or_touch_a_batch(api_stack: Stack) -> None:
    body = {"urls": ["https://files.example/a.pdf"], "idempotency_key": "k-1"}
    batch_id = api_stack.api.post("/v1/batches", json=body).json()["id"]
    api_stack.api.app.dependency_overrides[get_caller] = lambda: Caller(owner="someone-else")  # type: ignore[attr-defined]
    try:
        for method, path in [
            ("get", f"/v1/batches/{batch_id}"),
            ("get", f"/v1/batches/{batch_id}/tasks"),
            ("get", f"/v1/batches/{batch_id}/manifest.jsonl"),
            ("post", f"/v1/batches/{batch_id}/retry-failed"),
            ("delete", f"/v1/batches/{batch_id}"),
        ]:
            response = getattr(api_stack.api, method)(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "batch_not_found"
        assert api_stack.api.get("/v1/batches").json()["data"] == []
        # idempotency keys are per owner too: the same key makes this owner's own batch
        mine = api_stack.api.post("/v1/batches", json=body)
        assert mine.status_code == 202
        assert mine.json()["id"] != batch_id
    finally:
        api_stack.api.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    assert api_stack.api.get(f"/v1/batches/{batch_id}").json()["status"] == "expanding"


def test_unknown_ids_and_cursors_are_clear_errors(api_stack: Stack) -> None:
    assert api_stack.api.get("/v1/batches/bat_nope").json()["error"]["code"] == "batch_not_found"
    assert (
        api_stack.api.get("/v1/batches", params={"cursor": "x"}).json()["error"]["code"] == "invalid_cursor"
    )
    batch_id = api_stack.api.post("/v1/batches", json={"urls": ["https://files.example/a.pdf"]}).json()["id"]
    early = api_stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl")  # readable while it runs
    assert (early.status_code, early.text) == (200, "")
    assert early.headers["x-manifest-complete"] == "false"
    items = api_stack.api.get(f"/v1/batches/{batch_id}/tasks").json()
    assert items == {"object": "list", "data": [], "next_cursor": None}
