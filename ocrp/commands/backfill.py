"""`ocrp backfill SOURCE`: submit a batch and follow it with a live progress bar.

SOURCE is an `s3://bucket/prefix/`, a local folder (sent as one tar archive), a local zip or
tar archive, or a local text file of URLs (the server tells the last two apart by content). The
batch runs on the server: Ctrl-C only stops following it. Running the same command again finds
the same batch (through an idempotency key derived from the source and the options) and follows
it instead of starting a second one; `--batch ID` follows a given batch. `--output` mirrors the
results to an `s3://` prefix (server side) or downloads them into a local folder.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ocrp.commands.batches import batch_line, print_failures
from ocrp.commands.connect import api_errors, api_option, client, key_option
from ocrp.commands.task_options import task_option_flags
from ocrp.progress import batch_progress, console, update_batch_bar
from ocrp.sdk import BatchResource, Client

FINISHED = {"completed", "failed", "canceled"}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def idempotency_key(source: str, request: dict[str, Any]) -> str:
    """The same source (by content, for files) and options always give the same key."""
    body = json.dumps({"source": source, **request}, sort_keys=True)
    return "backfill-" + hashlib.sha256(body.encode()).hexdigest()[:40]


def folder_files(folder: Path) -> list[Path]:
    """The folder's regular files, hidden ones left out, in a stable order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def folder_identity(folder: Path, files: list[Path]) -> str:
    """Names, sizes and modification times: the same folder, unchanged, gives the same batch."""
    listing = [(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return "folder:" + hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def tar_folder(folder: Path, files: list[Path], target: Path) -> None:
    # uncompressed: PDFs and images are compressed already, and the server inflates less
    with tarfile.open(target, "w") as archive:
        for path in files:
            archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)


def _resume(ocr: Client, key: str) -> BatchResource | None:
    found = ocr.batches(idempotency_key=key).data
    if found:
        console.print(f"resuming batch {found[0].id} ({found[0].status})")
        return found[0]
    return None


def _submit(ocr: Client, source: str, request: dict[str, Any], glob: str | None) -> BatchResource:
    if source.startswith("s3://"):
        key = idempotency_key(f"{source}\0{glob or ''}", request)
        return _resume(ocr, key) or ocr.create_batch(
            s3_prefix=source, glob=glob, idempotency_key=key, **request
        )
    path = Path(source)
    if glob:
        raise click.BadParameter("--glob only applies to an s3:// source", param_hint="--glob")
    if path.is_dir():
        return _submit_folder(ocr, path, request)
    if not path.is_file():
        raise click.BadParameter(
            f"{source} is neither an s3:// prefix, a folder nor a file", param_hint="SOURCE"
        )
    key = idempotency_key(f"file:{file_digest(path)}", request)
    if found := _resume(ocr, key):
        return found
    console.print(f"uploading {path.name} ({path.stat().st_size:,} bytes)")
    return ocr.upload_batch(path, idempotency_key=key, **request)


def _submit_folder(ocr: Client, folder: Path, request: dict[str, Any]) -> BatchResource:
    files = folder_files(folder)
    if not files:
        raise click.BadParameter(f"{folder} holds no files", param_hint="SOURCE")
    key = idempotency_key(folder_identity(folder, files), request)
    if found := _resume(ocr, key):
        return found
    with tempfile.TemporaryDirectory(prefix="ocrp-backfill-") as scratch:
        archive = Path(scratch) / f"{folder.resolve().name or 'folder'}.tar"
        tar_folder(folder, files, archive)
        console.print(
            f"uploading {len(files)} files from {folder} ({archive.stat().st_size:,} bytes as one tar)"
        )
        return ocr.upload_batch(archive, idempotency_key=key, **request)


def follow(ocr: Client, batch: BatchResource, interval: float) -> BatchResource:
    with batch_progress() as progress:
        bar = progress.add_task(
            batch.id, total=None, docs="0", pages=0, failed=0, rate="-", eta="?", status=""
        )
        while True:
            update_batch_bar(progress, bar, batch.model_dump(mode="json"))
            if batch.status in FINISHED:
                return batch
            time.sleep(interval)
            batch = ocr.batch(batch.id)


def succeeded_items(ocr: Client, batch_id: str) -> Iterator[tuple[str, str]]:
    """(source, task id) of every succeeded document, in source order."""
    cursor = 0
    while True:
        page = ocr.batch_tasks(batch_id, status="succeeded", limit=1000, cursor=cursor)
        for item in page.data:
            if item.task_id:
                yield item.source, item.task_id
        if page.next_cursor is None:
            return
        cursor = int(page.next_cursor)


def local_name(source: str) -> Path:
    """Where a document's results go under --output: its path within the source, without the
    scheme and bucket, and never outside the output folder."""
    tail = source.split("://", 1)[-1]
    if "://" in source:
        tail = tail.split("/", 1)[-1]
    parts = [p for p in Path(tail).parts if p not in ("", ".", "..", "/")]
    return Path(*parts) if parts else Path("document")


def download_results(ocr: Client, batch: BatchResource, out_dir: Path) -> int:
    count = 0
    for source, task_id in succeeded_items(ocr, batch.id):
        stem = out_dir / local_name(source)
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_name(stem.name + ".md").write_text(ocr.markdown(task_id))
        stem.with_name(stem.name + ".layout.json").write_text(
            json.dumps(ocr.layout(task_id), ensure_ascii=False)
        )
        count += 1
    return count


@click.command()
@click.argument("source", required=False)
@click.option(
    "--output",
    default=None,
    help="s3://bucket/prefix/ to mirror markdown and layout into (server side), "
    "or a local folder to download them to.",
)
@click.option("--webhook", "webhook_url_batch", default=None, help="URL that receives batch.completed.")
@click.option("--glob", default=None, help="With an s3:// source: fnmatch pattern on keys, e.g. '*.pdf'.")
@click.option("--dedupe", is_flag=True, help="Reuse results of identical documents processed before.")
@task_option_flags
@click.option("--batch", "batch_id", default=None, help="Follow this batch instead of submitting.")
@click.option("--no-wait", is_flag=True, help="Print the batch id and return at once.")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Download manifest.jsonl here when the batch ends.",
)
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between polls.")
@api_option
@key_option
def backfill(
    source: str | None,
    output: str | None,
    webhook_url_batch: str | None,
    batch_id: str | None,
    no_wait: bool,
    manifest_path: Path | None,
    interval: float,
    glob: str | None,
    api: str | None,
    key: str | None,
    **request: Any,
) -> None:
    """Back-fill SOURCE (s3://bucket/prefix/, a folder, a zip/tar archive, or a file of URLs) and
    show its progress. Ctrl-C stops watching; the batch keeps running, and the same command resumes."""
    if (source is None) == (batch_id is None):
        raise click.UsageError("give a SOURCE, or --batch ID to follow an existing batch")
    request = {k: v for k, v in request.items() if v not in (None, False)}
    request["webhook_url"] = webhook_url_batch or request.get("webhook_url")
    local_output = Path(output) if output and not output.startswith("s3://") else None
    if output and local_output is None:
        request["output_prefix"] = output
    request = {k: v for k, v in request.items() if v is not None}
    with client(api, key) as ocr, api_errors(api):
        batch = ocr.batch(batch_id) if batch_id else _submit(ocr, str(source), request, glob)
        if no_wait:
            click.echo(batch.id)
            return
        try:
            batch = follow(ocr, batch, interval)
        except KeyboardInterrupt:
            console.print(
                f"\nstopped watching; batch {batch.id} keeps running on the server. "
                f"Run the same command again, or `ocrp backfill --batch {batch.id}`, to follow it."
            )
            raise SystemExit(130) from None
        click.echo(batch_line(batch))
        if batch.manifest:
            click.echo(f"manifest  {batch.manifest}")
        if local_output is not None:
            count = download_results(ocr, batch, local_output)
            click.echo(f"results of {count} documents saved under {local_output}")
        if manifest_path is not None and batch.manifest:
            lines = [json.dumps(entry, ensure_ascii=False) for entry in ocr.manifest(batch.id)]
            manifest_path.write_text("\n".join(lines) + "\n")
            click.echo(f"manifest saved to {manifest_path}")
        print_failures(ocr, batch)
    if batch.status != "completed" or batch.counts.failed:
        sys.exit(1)


COMMANDS = [backfill]
