"""Submitting batches over HTTP: every source, the idempotency key, and every refusal with its
public code. No worker runs here: these are the API's own decisions."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.fixtures.documents import tar_bytes, tiny_pdf, zip_bytes
from tests.fixtures.services import S3Server
from tests.fixtures.stack import Stack


def upload(stack: Stack, name: str, data: bytes, **form: Any) -> Any:
    return stack.api.post(
        "/v1/batches/upload",
        files={"file": (name, io.BytesIO(data))},
        data={k: str(v) for k, v in form.items()},
    )


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def fill(s3_server: S3Server, bucket: str, keys: list[str]) -> None:
    client = s3_server.client()
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=tiny_pdf(key))


def test_an_s3_prefix_is_accepted_and_its_idempotency_key_replays_it(
    api_stack: Stack, s3_server: S3Server, s3_bucket: str
) -> None:
    fill(s3_server, s3_bucket, ["in/a.pdf", "in/b.pdf"])
    body = {
        "s3_prefix": f"s3://{s3_bucket}/in/",
        "glob": "*.pdf",
        "mode": "base",
        "idempotency_key": "nightly-1",
    }
    first = api_stack.api.post("/v1/batches", json=body)
    assert first.status_code == 202, first.text
    batch = first.json()
    assert batch["status"] == "expanding"
    assert batch["source"] == {
        "kind": "s3",
        "uri": f"s3://{s3_bucket}/in/",
        "glob": "*.pdf",
        "format": None,
        "total": None,
        "listed": 0,
        "exhausted": False,
    }
    assert batch["options"]["mode"] == "base"
    assert first.headers["location"] == f"/v1/batches/{batch['id']}"

    again = api_stack.api.post("/v1/batches", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == batch["id"]
    by_header = api_stack.api.post(
        "/v1/batches",
        json={k: v for k, v in body.items() if k != "idempotency_key"},
        headers={"Idempotency-Key": "nightly-1"},
    )
    assert by_header.json()["id"] == batch["id"]
    assert error(api_stack.api.post("/v1/batches", json={**body, "glob": "*.png"})) == (
        409,
        "idempotency_conflict",
    )

    found = api_stack.api.get("/v1/batches", params={"idempotency_key": "nightly-1"}).json()["data"]
    assert [b["id"] for b in found] == [batch["id"]]
    assert len(api_stack.api.get("/v1/batches").json()["data"]) == 1


def test_s3_sources_and_outputs_are_checked_at_submit(
    api_stack: Stack, s3_server: S3Server, s3_bucket: str
) -> None:
    fill(s3_server, s3_bucket, ["in/a.pdf"])
    post = api_stack.api.post
    assert error(post("/v1/batches", json={"s3_prefix": "s3://no-such-bucket-x/in/"})) == (
        422,
        "source_not_found",
    )
    assert error(post("/v1/batches", json={"s3_prefix": f"s3://{s3_bucket}/nothing/"})) == (
        422,
        "source_empty",
    )
    assert error(post("/v1/batches", json={"s3_prefix": "https://bucket/x"})) == (400, "invalid_s3_prefix")
    output = {"s3_prefix": f"s3://{s3_bucket}/in/", "output_prefix": "s3://no-such-bucket-y/out/"}
    assert error(post("/v1/batches", json=output)) == (422, "output_not_found")
    assert error(post("/v1/batches", json={**output, "output_prefix": "/local/dir"})) == (
        400,
        "invalid_output_prefix",
    )
    assert api_stack.api.get("/v1/batches").json()["data"] == []


def test_request_shape_and_options_are_validated(api_stack: Stack) -> None:
    post = api_stack.api.post
    urls = ["https://files.example/a.pdf"]
    assert error(post("/v1/batches", json={})) == (400, "invalid_source")
    assert error(post("/v1/batches", json={"urls": urls, "s3_prefix": "s3://b/x/"})) == (
        400,
        "invalid_source",
    )
    assert error(post("/v1/batches", json={"urls": urls, "glob": "*.pdf"})) == (400, "invalid_glob")
    assert error(post("/v1/batches", json={"urls": urls, "dpi": 5000})) == (400, "invalid_dpi")
    assert error(post("/v1/batches", json={"urls": urls, "prompt": "custom"})) == (422, "invalid_prompt")
    assert error(post("/v1/batches", json={"urls": urls, "pages": "3-1"})) == (422, "invalid_page_range")
    assert error(post("/v1/batches", json={"urls": urls, "webhook_url": "ftp://x"})) == (400, "invalid_url")
    assert error(post("/v1/batches", json={"urls": urls, "idempotency_key": "  "})) == (
        400,
        "invalid_idempotency_key",
    )


def test_url_lists_are_validated_line_by_line(api_stack: Stack) -> None:
    post = api_stack.api.post
    bad = post("/v1/batches", json={"urls": ["https://files.example/a.pdf", "file:///etc/passwd"]})
    assert error(bad) == (400, "invalid_url")
    assert "URL 2" in bad.json()["error"]["message"]
    many = [f"https://files.example/{i}.pdf" for i in range(6)]
    assert error(post("/v1/batches", json={"urls": many})) == (422, "too_many_urls")
    assert error(post("/v1/batches", json={"urls": []})) == (422, "source_empty")
    accepted = post("/v1/batches", json={"urls": many[:3] + many[:1]})
    assert accepted.status_code == 202
    assert accepted.json()["source"]["total"] == 3


def test_an_uploaded_archive_is_scanned_and_stored(api_stack: Stack) -> None:
    data = zip_bytes([("docs/a.pdf", tiny_pdf("a")), ("docs/b.pdf", tiny_pdf("b")), ("docs/", b"")])
    response = upload(api_stack, "scans.zip", data, dedupe="true", pages="1")
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["source"]["kind"] == "archive"
    assert batch["source"]["format"] == "zip"
    assert batch["source"]["uri"] == "scans.zip"
    assert batch["source"]["total"] == 2  # the folder entry is no item
    assert batch["dedupe"] is True
    from shared.storage import make_storage

    stored = make_storage(api_stack.settings).get_bytes(f"batches/{batch['id']}/source/archive")
    assert stored == data
    gz = upload(api_stack, "scans.tgz", tar_bytes([("a.pdf", tiny_pdf("a"))], mode="w:gz"))
    assert gz.status_code == 202
    assert gz.json()["source"]["format"] == "tar.gz"


def test_an_uploaded_text_file_is_a_url_list(api_stack: Stack) -> None:
    text = b"# scanned letters\nhttps://files.example/1.pdf\n\nhttps://files.example/2.pdf\n"
    response = upload(api_stack, "urls.txt", text)
    assert response.status_code == 202, response.text
    assert response.json()["source"]["kind"] == "urls"
    assert response.json()["source"]["total"] == 2
    assert error(upload(api_stack, "urls.txt", b"https://ok.example/a.pdf\nnot a url\n")) == (
        400,
        "invalid_url",
    )


def test_hostile_or_unreadable_uploads_are_refused_and_nothing_is_kept(api_stack: Stack) -> None:
    pdf = tiny_pdf("x")
    bomb = zip_bytes([("zeros.pdf", b"\0" * (20 * 1024 * 1024))])
    assert error(upload(api_stack, "bomb.zip", bomb)) == (422, "archive_bomb")
    traversal = zip_bytes([("ok.pdf", pdf), ("../../outside.pdf", pdf)])
    refused = upload(api_stack, "t.zip", traversal)
    assert error(refused) == (422, "archive_path_traversal")
    assert "../../outside.pdf" in refused.json()["error"]["message"]
    assert error(upload(api_stack, "abs.tar", tar_bytes([("/etc/x.pdf", pdf)]))) == (
        422,
        "archive_absolute_path",
    )
    assert error(upload(api_stack, "cut.zip", zip_bytes([("a.pdf", pdf)])[:-30])) == (422, "archive_corrupt")
    assert error(upload(api_stack, "dirs.zip", zip_bytes([("only/", b"")]))) == (422, "archive_empty")
    assert error(upload(api_stack, "doc.pdf", pdf)) == (415, "unsupported_source_file")
    assert error(upload(api_stack, "big.zip", b"PK\x03\x04" + b"\0" * (3 * 1024 * 1024))) == (
        413,
        "payload_too_large",
    )

    assert api_stack.api.get("/v1/batches").json()["data"] == []
    assert not (api_stack.settings.storage_dir / "batches").exists()  # type: ignore[operator]
    assert api_stack.api.get("/healthz").status_code == 200


def test_many_members_past_the_cap_are_refused(api_stack: Stack) -> None:
    api_stack.settings.archive_max_members = 20
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(21):
            archive.writestr(f"{i}.pdf", b"%PDF-1.4")
    assert error(upload(api_stack, "many.zip", buffer.getvalue())) == (422, "archive_too_many_members")


def test_an_oversized_task_upload_gets_the_json_error_too(api_stack: Stack) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    settings = api_stack.settings.model_copy(update={"max_upload_bytes": 1024})
    with TestClient(create_app(settings)) as client:
        big = io.BytesIO(b"%PDF-1.4" + b"\0" * (200 * 1024))  # past the route's limit of 1 KiB + 64 KiB
        response = client.post("/v1/tasks/upload", files={"file": ("big.pdf", big)})
    assert error(response) == (413, "payload_too_large")
