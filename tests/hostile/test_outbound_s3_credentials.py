"""Issue 19, item 2 (and the `s3_uri` part of item 16): with no S3 configured, an `s3_uri` task
or an `s3_prefix` batch made boto3 fall through its default credential chain to the cloud
metadata service (169.254.169.254), three times per task. Now only configured keys are used;
without them S3 sources are refused at submission with 422 `s3_not_configured`, and a task that
reaches a worker anyway fails with that code, once, not `storage_unavailable`.

boto3 is pointed at a recording metadata service on loopback (AWS_EC2_METADATA_SERVICE_ENDPOINT,
which botocore honours), so a visit would be seen; the last test shows that it is, when the
operator turns boto3's own search on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

from shared.config import Settings
from shared.errors import OcrpError
from shared.storage.s3 import make_s3_client
from tests.fixtures.stack import Stack
from tests.hostile.outbound_servers import LoopbackServer, answer, serve
from worker.pipeline.source import download_s3


@pytest.fixture
def metadata_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LoopbackServer]:
    """A fake instance metadata service that answers 404 to everything and records each visit;
    every other place boto3 looks for credentials is emptied."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_EC2_METADATA_DISABLED",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session made before would not re-read them
    with serve(answer(404)) as server:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"{server.base}/")
        yield server


def refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "s3_not_configured"
    assert "OCR_S3_ACCESS_KEY_ID" in error["message"]


def test_s3_sources_are_refused_at_submission_without_asking_the_metadata_service(
    metadata_service: LoopbackServer, embedded_stack: Stack
) -> None:
    api = embedded_stack.api
    refused(api.post("/v1/tasks", json={"s3_uri": "s3://bucket/in/doc.pdf"}))
    refused(api.post("/v1/batches", json={"s3_prefix": "s3://bucket/in/"}))
    refused(
        api.post(
            "/v1/batches", json={"urls": ["https://files.example/a.pdf"], "output_prefix": "s3://bucket/out/"}
        )
    )
    assert api.get("/v1/tasks").json()["data"] == []
    assert api.get("/v1/batches").json()["data"] == []
    assert metadata_service.hits == []


def test_a_worker_fails_an_s3_task_once_with_s3_not_configured(
    metadata_service: LoopbackServer, tmp_path: Path
) -> None:
    # a task queued before the operator removed the keys
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(OcrpError) as caught:
        download_s3("s3://bucket/in/doc.pdf", str(tmp_path / "in"), settings)
    assert caught.value.code == "s3_not_configured"
    assert not caught.value.retryable, "a missing configuration does not come back by retrying"
    assert metadata_service.hits == []


def test_half_a_key_is_not_a_configuration(metadata_service: LoopbackServer, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, s3_access_key_id="AKIA")  # type: ignore[call-arg]
    with pytest.raises(OcrpError, match="only one of OCR_S3_ACCESS_KEY_ID"):
        make_s3_client(settings)
    assert metadata_service.hits == []


def test_the_default_chain_reaches_the_metadata_service_only_when_turned_on(
    metadata_service: LoopbackServer, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, s3_default_credentials=True, s3_endpoint_url="http://127.0.0.1:9"
    )
    with pytest.raises(NoCredentialsError):
        make_s3_client(settings).list_objects_v2(Bucket="bucket")
    assert metadata_service.hits, "what happened to every S3 source before the fix"
    assert all(path.startswith("/latest/") for _, path in metadata_service.hits)
