"""Checks at submit that an S3 source or output prefix answers, so that a typo is a 4xx now
rather than a failed batch later."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from shared.batches.sources import S3Prefix
from shared.config import Settings
from shared.errors import TransientError, Unprocessable
from shared.storage.s3 import make_s3_client

_MISSING = {"NoSuchBucket", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def _client(settings: Settings) -> Any:
    return make_s3_client(settings)


def _classify(exc: Exception, where: str, field: str) -> Exception:
    if isinstance(exc, NoCredentialsError):
        return Unprocessable(
            "the platform has no S3 credentials; the operator sets OCR_S3_ACCESS_KEY_ID and "
            "OCR_S3_SECRET_ACCESS_KEY",
            "s3_not_configured",
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in _MISSING:
            return Unprocessable(f"{where} does not exist", f"{field}_not_found")
        if code in _DENIED:
            return Unprocessable(f"the platform's S3 credentials may not read {where}", f"{field}_forbidden")
    return TransientError(
        f"S3 did not answer for {where}; retry shortly", "storage_unavailable", retry_after=5
    )


def check_source(settings: Settings, source: S3Prefix) -> None:
    """The bucket exists, may be listed, and holds something under the prefix."""
    try:
        page = _client(settings).list_objects_v2(Bucket=source.bucket, Prefix=source.prefix, MaxKeys=1)
    except (BotoCoreError, ClientError) as exc:
        raise _classify(exc, source.uri, "source") from exc
    if not page.get("Contents"):
        raise Unprocessable(f"there is no object under {source.uri}", "source_empty")


def check_output(settings: Settings, output: S3Prefix) -> None:
    try:
        _client(settings).head_bucket(Bucket=output.bucket)
    except (BotoCoreError, ClientError) as exc:
        raise _classify(exc, f"s3://{output.bucket}", "output") from exc
