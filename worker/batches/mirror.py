"""Copy a succeeded task's markdown and layout under the batch's output prefix, at the path
that mirrors its source object (`shared.batches.outputs`)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.batches.outputs import output_keys, relative_stem
from shared.batches.sources import output_prefix, parse_s3_prefix
from shared.db.models import Batch
from shared.errors import TransientError
from shared.storage import Storage

_PERMANENT = {"NoSuchBucket", "AccessDenied", "403", "404", "InvalidAccessKeyId", "AllAccessDisabled"}


class OutputFailed(Exception):
    """The output bucket refuses the write for good (gone, or access revoked)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def mirror_result(
    client: Any, storage: Storage, batch: Batch, source_ref: str, result_keys: dict[str, Any]
) -> dict[str, str]:
    """Write the two objects; returns their s3:// URIs. Transient failures raise TransientError."""
    assert batch.output_prefix is not None
    out = output_prefix(batch.output_prefix)
    source_prefix = (
        parse_s3_prefix(batch.source_uri, "s3_prefix").prefix
        if batch.source_kind == "s3" and batch.source_uri
        else ""
    )
    stem = relative_stem(source_ref, kind=batch.source_kind, source_prefix=source_prefix or "")
    targets = output_keys(out.prefix, stem)
    written: dict[str, str] = {}
    for name, content_type in (("markdown", "text/markdown; charset=utf-8"), ("layout", "application/json")):
        body = storage.get_bytes(str(result_keys[name]))
        try:
            client.put_object(Bucket=out.bucket, Key=targets[name], Body=body, ContentType=content_type)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _PERMANENT:
                raise OutputFailed(f"writing s3://{out.bucket}/{targets[name]} failed: {code}") from exc
            raise TransientError(f"writing the output failed: {exc}", "output_unavailable") from exc
        except BotoCoreError as exc:
            raise TransientError(f"writing the output failed: {exc}", "output_unavailable") from exc
        written[name] = f"s3://{out.bucket}/{targets[name]}"
    return written


def upload_manifest(client: Any, batch: Batch, path: str) -> str:
    assert batch.output_prefix is not None
    out = output_prefix(batch.output_prefix)
    key = f"{out.prefix}manifest.jsonl"
    try:
        client.upload_file(path, out.bucket, key, ExtraArgs={"ContentType": "application/x-ndjson"})
    except (BotoCoreError, ClientError) as exc:
        raise TransientError(
            f"writing the manifest to the output prefix failed: {exc}", "output_unavailable"
        ) from exc
    return f"s3://{out.bucket}/{key}"
