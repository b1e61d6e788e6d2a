"""One contract, both backends: the local folder and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.config import Settings
from shared.storage import ObjectNotFound, Storage, StorageError, StorageUnavailable, make_storage
from shared.storage.local import LocalStorage
from tests.fixtures.services import S3Server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "store")
        return
    s3: S3Server = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        storage_backend="s3",
        s3_endpoint_url=s3.endpoint,
        s3_bucket=bucket,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_multipart_chunk_mb=5,
    )
    yield make_storage(settings)


def test_put_get_and_size(storage: Storage) -> None:
    storage.put_bytes("tasks/a/x.json", b'{"a": 1}', "application/json")
    assert storage.get_bytes("tasks/a/x.json") == b'{"a": 1}'
    assert storage.size("tasks/a/x.json") == 8
    assert storage.exists("tasks/a/x.json")
    assert not storage.exists("tasks/a/missing")


def test_large_streams_upload_in_parts_and_read_back_intact(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(12 * 1024 * 1024 + 17)  # over the 5 MiB part size: a multipart upload on S3
    written = storage.put_file("tasks/b/input.pdf", io.BytesIO(data), "application/pdf")
    assert written == len(data)
    assert (
        hashlib.sha256(b"".join(storage.iter_chunks("tasks/b/input.pdf"))).digest()
        == hashlib.sha256(data).digest()
    )
    target = tmp_path / "copy"
    storage.download_to("tasks/b/input.pdf", str(target))
    assert target.read_bytes() == data


def test_listing_and_prefix_deletion(storage: Storage) -> None:
    for key in (
        "tasks/c/results/full.md",
        "tasks/c/results/images/1_1.jpg",
        "tasks/c/input.pdf",
        "tasks/d/input.pdf",
    ):
        storage.put_bytes(key, b"x")
    assert list(storage.list_keys("tasks/c/")) == [
        "tasks/c/input.pdf",
        "tasks/c/results/full.md",
        "tasks/c/results/images/1_1.jpg",
    ]
    assert storage.delete_prefix("tasks/c/") == 3
    assert list(storage.list_keys("tasks/c/")) == []
    assert list(storage.list_keys("tasks/d/")) == ["tasks/d/input.pdf"]


def test_missing_objects_raise_not_found(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        storage.get_bytes("tasks/none")
    with pytest.raises(ObjectNotFound):
        storage.iter_chunks("tasks/none")
    with pytest.raises(ObjectNotFound):
        storage.size("tasks/none")
    with pytest.raises(ObjectNotFound):
        storage.download_to("tasks/none", str(tmp_path / "x"))
    storage.delete("tasks/none")  # deleting nothing is fine


def test_a_missing_object_is_a_permanent_error_of_the_one_tree(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound) as missing:
        storage.get_bytes("tasks/none")
    error = missing.value
    assert (error.status, error.code, error.retryable, error.key) == (
        404,
        "object_missing",
        False,
        "tasks/none",
    )


def test_presigned_urls_on_s3_only(storage: Storage) -> None:
    storage.put_bytes("tasks/e/full.md", b"# hello")
    url = storage.presign_get("tasks/e/full.md", 60, filename="doc.md")
    if storage.name == "local":
        assert url is None
        return
    assert url is not None
    assert "X-Amz-Signature" in url  # SigV4, not the legacy SigV2 form
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"# hello"
    assert httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403


def test_check_passes_on_a_working_backend(storage: Storage) -> None:
    storage.check()


def test_s3_with_a_wrong_secret_fails_clearly(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        storage_backend="s3",
        s3_endpoint_url=s3_server.endpoint,
        s3_bucket=s3_bucket,
        s3_access_key_id=s3_server.access_key,
        s3_secret_access_key="wrong",
    )
    with pytest.raises(StorageError) as failed:
        make_storage(settings).put_bytes("k", b"x")
    assert isinstance(failed.value, StorageUnavailable)
    assert "wrong" not in failed.value.message  # the backend's text stays out of the public message


def test_local_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    for key in ("../x", "/etc/passwd", "a/../../x", "a//b", ""):
        with pytest.raises(ValueError, match="invalid storage key"):
            storage.put_bytes(key, b"x")
