"""`ocrp backfill SOURCE`: submit a batch and follow it with a live progress bar.

SOURCE is an `s3://bucket/prefix/`, a local zip or tar archive, or a local text file of URLs
(the server tells the last two apart by content). The batch runs on the server: Ctrl-C only
stops following it. Running the same command again finds the same batch (through an
idempotency key derived from the source and the options) and follows it instead of starting a
second one; `--batch ID` follows a given batch.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import click

from ocrp.client import ApiError, Client
from ocrp.commands.client import api_option, key_option
from ocrp.progress import batch_progress, console, update_batch_bar

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


def _submit(client: Client, source: str, request: dict[str, Any], glob: str | None) -> dict[str, Any]:
    if source.startswith("s3://"):
        key = idempotency_key(f"{source}\0{glob or ''}", request)
        found = client.find_batch(key)
        if found is not None:
            console.print(f"resuming batch {found['id']} ({found['status']})")
            return found
        return client.submit_batch(s3_prefix=source, glob=glob, idempotency_key=key, **request)
    path = Path(source)
    if not path.is_file():
        raise click.BadParameter(f"{source} is neither an s3:// prefix nor a file", param_hint="SOURCE")
    if glob:
        raise click.BadParameter("--glob only applies to an s3:// source", param_hint="--glob")
    key = idempotency_key(f"file:{file_digest(path)}", request)
    found = client.find_batch(key)
    if found is not None:
        console.print(f"resuming batch {found['id']} ({found['status']})")
        return found
    console.print(f"uploading {path.name} ({path.stat().st_size:,} bytes)")
    return client.upload_batch(path, idempotency_key=key, **request)


def follow(client: Client, batch: dict[str, Any], interval: float) -> dict[str, Any]:
    with batch_progress() as progress:
        bar = progress.add_task(
            batch["id"], total=None, docs="0", pages=0, failed=0, rate="-", eta="?", status=""
        )
        while True:
            update_batch_bar(progress, bar, batch)
            if batch["status"] in FINISHED:
                return batch
            time.sleep(interval)
            batch = client.batch(batch["id"])


def _summary(batch: dict[str, Any]) -> None:
    counts = batch["counts"]
    click.echo(
        f"{batch['id']}  {batch['status']}  succeeded {counts['succeeded']}  failed {counts['failed']}  "
        f"skipped {counts['skipped']}  canceled {counts['canceled']}  reused {counts['reused']}  "
        f"pages {batch['progress']['pages_done']}"
    )
    if batch["error"]:
        click.echo(f"error  {batch['error']['code']}: {batch['error']['message']}")
    if batch["manifest"]:
        click.echo(f"manifest  {batch['manifest']}")


@click.command()
@click.argument("source", required=False)
@click.option(
    "--output", "output_prefix", default=None, help="s3://bucket/prefix/ to mirror markdown and layout into."
)
@click.option("--webhook", "webhook_url", default=None, help="URL that receives batch.completed.")
@click.option("--glob", default=None, help="With an s3:// source: fnmatch pattern on keys, e.g. '*.pdf'.")
@click.option("--dedupe", is_flag=True, help="Reuse results of identical documents processed before.")
@click.option("--mode", type=click.Choice(["tiny", "small", "base", "large", "gundam"]), default=None)
@click.option(
    "--prompt", type=click.Choice(["document", "free_ocr", "figure", "image", "custom"]), default=None
)
@click.option("--custom-prompt", default=None)
@click.option("--dpi", type=int, default=None)
@click.option("--pages", default=None, help="e.g. 1-3,7")
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
    batch_id: str | None,
    no_wait: bool,
    manifest_path: Path | None,
    interval: float,
    glob: str | None,
    api: str | None,
    key: str | None,
    **request: Any,
) -> None:
    """Back-fill SOURCE (s3://bucket/prefix/, a zip/tar archive, or a file of URLs) and show
    its progress. Ctrl-C stops watching; the batch keeps running, and the same command resumes."""
    if (source is None) == (batch_id is None):
        raise click.UsageError("give a SOURCE, or --batch ID to follow an existing batch")
    request = {k: v for k, v in request.items() if v not in (None, False)}
    with Client(api, key) as client:
        try:
            batch = client.batch(batch_id) if batch_id else _submit(client, str(source), request, glob)
            if no_wait:
                click.echo(batch["id"])
                return
            try:
                batch = follow(client, batch, interval)
            except KeyboardInterrupt:
                console.print(
                    f"\nstopped watching; batch {batch['id']} keeps running on the server. "
                    f"Run the same command again, or `ocrp backfill --batch {batch['id']}`, to follow it."
                )
                raise SystemExit(130) from None
            _summary(batch)
            if manifest_path is not None and batch["manifest"]:
                client.download(f"/v1/batches/{batch['id']}/manifest.jsonl", manifest_path)
                click.echo(f"manifest saved to {manifest_path}")
        except ApiError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message} (HTTP {exc.status})") from exc
    if batch["status"] != "completed" or batch["counts"]["failed"]:
        raise SystemExit(1)


COMMANDS = [backfill]
