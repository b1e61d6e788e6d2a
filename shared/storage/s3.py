"""Storage in an S3-compatible bucket (AWS, MinIO, SeaweedFS...) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.filenames import content_disposition
from shared.storage.base import ObjectNotFound, StorageError
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
                raise StorageError(f"bucket {self.bucket!r}: {exc}") from exc
            self.client.create_bucket(Bucket=self.bucket)

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> int:
        counter = _CountingReader(fileobj)
        extra = {"ContentType": content_type} if content_type else None
        try:
            self.client.upload_fileobj(counter, self.bucket, key, ExtraArgs=extra, Config=self.transfer)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"upload of {key!r} failed: {exc}") from exc
        return counter.count

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": data}
        if content_type:
            kwargs["ContentType"] = content_type
        try:
            self.client.put_object(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"upload of {key!r} failed: {exc}") from exc

    def _get(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if _is_not_found(exc):
                raise ObjectNotFound(key) from None
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc

    def get_bytes(self, key: str) -> bytes:
        body = self._get(key)
        try:
            return bytes(body.read())
        finally:
            body.close()

    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        body = self._get(key)
        return _stream(body, chunk_size)

    def download_to(self, key: str, path: str) -> None:
        try:
            self.client.download_file(self.bucket, key, path, Config=self.transfer)
        except ClientError as exc:
            if _is_not_found(exc):
                raise ObjectNotFound(key) from None
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
            return head
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return int(head["ContentLength"])

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc

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
        try:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc
        return len(objects)

    def presign_get(self, key: str, expires_s: int, filename: str | None = None) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return url

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"bucket {self.bucket!r} unreachable: {exc}") from exc


class _CountingReader:
    """Counts bytes as boto3 reads them, so uploads report their size without a second pass."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.count += len(data)
        return data


def _stream(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
