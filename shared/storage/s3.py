"""Storage in an S3-compatible bucket (AWS, MinIO, SeaweedFS...) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3Error

from shared.filenames import content_disposition
from shared.storage.base import ObjectNotFound, StorageUnavailable
from shared.storage.s3_credentials import s3_keys

if TYPE_CHECKING:
    from shared.config import Settings

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def make_s3_client(settings: Settings) -> Any:
    config = Config(
        # without it, presigned URLs against a custom endpoint come out as SigV2
        signature_version="s3v4",
        s3={"addressing_style": settings.s3_addressing_style},
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
    )
    # with both keys given boto3 searches for nothing; without them s3_keys raises
    # S3NotConfigured unless the operator allowed boto3's own chain (s3_credentials.py)
    keys = s3_keys(settings)
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=keys.access_key_id if keys else None,
        aws_secret_access_key=keys.secret_access_key if keys else None,
        config=config,
    )


def _is_not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND


# what boto3 raises once its own retries gave up: a refused connection, a timeout, a stream cut
# mid-body (urllib3's errors surface there), s3transfer's RetriesExceededError (a Boto3Error)
_FAILURES = (BotoCoreError, Boto3Error, Urllib3Error, OSError)


@contextmanager
def _mapped(key: str | None) -> Iterator[None]:
    """boto3's errors into the error tree, here and nowhere else: `NoSuchKey` on an object is a
    missing object (permanent); anything else is storage being unavailable (transient)."""
    try:
        yield
    except ClientError as exc:
        if key is not None and _is_not_found(exc):
            raise ObjectNotFound(key) from None
        raise StorageUnavailable(str(exc)) from exc
    except _FAILURES as exc:
        raise StorageUnavailable(str(exc)) from exc


class S3Storage:
    name = "s3"

    def __init__(self, client: Any, bucket: str, chunk_mb: int = 8, create_bucket: bool = False) -> None:
        self.client = client
        self.bucket = bucket
        chunk = chunk_mb * 1024 * 1024
        self.transfer = TransferConfig(
            multipart_threshold=chunk, multipart_chunksize=chunk, use_threads=False
        )
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not _is_not_found(exc):
                raise StorageUnavailable(f"bucket {self.bucket!r}: {exc}") from exc
            with _mapped(None):
                self.client.create_bucket(Bucket=self.bucket)
        except _FAILURES as exc:
            raise StorageUnavailable(f"bucket {self.bucket!r}: {exc}") from exc

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> int:
        counter = _CountingReader(fileobj)
        extra = {"ContentType": content_type} if content_type else None
        with _mapped(None):
            self.client.upload_fileobj(counter, self.bucket, key, ExtraArgs=extra, Config=self.transfer)
        return counter.count

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": data}
        if content_type:
            kwargs["ContentType"] = content_type
        with _mapped(None):
            self.client.put_object(**kwargs)

    def _get(self, key: str) -> Any:
        with _mapped(key):
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]

    def get_bytes(self, key: str) -> bytes:
        body = self._get(key)
        try:
            with _mapped(key):
                return bytes(body.read())
        finally:
            body.close()

    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        body = self._get(key)
        return _stream(key, body, chunk_size)

    def download_to(self, key: str, path: str) -> None:
        with _mapped(key):
            self.client.download_file(self.bucket, key, path, Config=self.transfer)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            with _mapped(key):
                head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
                return head
        except ObjectNotFound:
            return None

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return int(head["ContentLength"])

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _mapped(None):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]

    def delete(self, key: str) -> None:
        with _mapped(None):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        batch: list[dict[str, str]] = []
        for key in self.list_keys(prefix):
            batch.append({"Key": key})
            if len(batch) == 1000:
                deleted += self._delete_many(batch)
                batch = []
        if batch:
            deleted += self._delete_many(batch)
        return deleted

    def _delete_many(self, objects: list[dict[str, str]]) -> int:
        with _mapped(None):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        return len(objects)

    def presign_get(self, key: str, expires_s: int, filename: str | None = None) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return url

    def check(self) -> None:
        with _mapped(None):
            self.client.head_bucket(Bucket=self.bucket)


class _CountingReader:
    """Counts bytes as boto3 reads them, so uploads report their size without a second pass."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.count += len(data)
        return data


def _stream(key: str, body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        with _mapped(key):  # S3 going away mid-body surfaces here, after the first chunk
            yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
