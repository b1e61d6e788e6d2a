"""`ocrp batches ...`: list, show, cancel and retry back-fill batches, and read their manifests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ocrp.commands.connect import api_errors, api_option, client, echo_json, json_option, key_option
from ocrp.sdk import BatchResource, Client


def batch_line(batch: BatchResource) -> str:
    c = batch.counts
    return (
        f"{batch.id}  {batch.status}  succeeded {c.succeeded}  failed {c.failed}  skipped {c.skipped}  "
        f"canceled {c.canceled}  reused {c.reused}  pages {batch.progress.pages_done} "
        f"(text layer {batch.progress.pages_text_layer}, ocr {batch.progress.pages_ocr})"
    )


def print_failures(ocr: Client, batch: BatchResource, limit: int = 20) -> None:
    """Name what failed and say how to retry it, so a re-run is never a guess."""
    if not batch.counts.failed:
        return
    items = ocr.batch_tasks(batch.id, status="failed", limit=limit).data
    click.echo(f"{batch.counts.failed} document(s) failed:", err=True)
    for item in items:
        reason = f"{item.error.code}: {item.error.message}" if item.error else "failed"
        click.echo(f"  {item.source}  {item.task_id or ''}  {reason}", err=True)
    if batch.counts.failed > len(items):
        click.echo(
            f"  ... and {batch.counts.failed - len(items)} more (`ocrp batches failed {batch.id}`)", err=True
        )
    click.echo(f"retry them with: ocrp batches retry-failed {batch.id}", err=True)


@click.group()
def batches() -> None:
    """Back-fill batches (start one with `ocrp backfill`)."""


@batches.command("list")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@json_option
@api_option
@key_option
def list_batches(limit: int, as_json: bool, api: str | None, key: str | None) -> None:
    """Your batches, newest first."""
    with client(api, key) as ocr, api_errors(api):
        found = ocr.batches(limit=limit).data
    if as_json:
        echo_json(found)
        return
    for batch in found:
        click.echo(batch_line(batch))


@batches.command("show")
@click.argument("batch_id")
@json_option
@api_option
@key_option
def show(batch_id: str, as_json: bool, api: str | None, key: str | None) -> None:
    """A batch's state and counts, and what failed."""
    with client(api, key) as ocr, api_errors(api):
        batch = ocr.batch(batch_id)
        if as_json:
            echo_json(batch)
            return
        click.echo(batch_line(batch))
        print_failures(ocr, batch)


@batches.command("failed")
@click.argument("batch_id")
@json_option
@api_option
@key_option
def failed(batch_id: str, as_json: bool, api: str | None, key: str | None) -> None:
    """Every failed document of a batch, with its error."""
    with client(api, key) as ocr, api_errors(api):
        cursor = 0
        while True:
            page = ocr.batch_tasks(batch_id, status="failed", limit=1000, cursor=cursor)
            for item in page.data:
                if as_json:
                    click.echo(json.dumps(item.model_dump(mode="json")))
                else:
                    reason = f"{item.error.code}: {item.error.message}" if item.error else ""
                    click.echo(f"{item.source}  {item.task_id or ''}  {reason}")
            if page.next_cursor is None:
                return
            cursor = int(page.next_cursor)


@batches.command("cancel")
@click.argument("batch_id")
@api_option
@key_option
def cancel(batch_id: str, api: str | None, key: str | None) -> None:
    """Stop a batch: nothing more is queued, running tasks stop at their next page."""
    with client(api, key) as ocr, api_errors(api):
        click.echo(batch_line(ocr.cancel_batch(batch_id)))


@batches.command("retry-failed")
@click.argument("batch_id")
@api_option
@key_option
def retry_failed(batch_id: str, api: str | None, key: str | None) -> None:
    """Queue a batch's failed documents again."""
    with client(api, key) as ocr, api_errors(api):
        answer = ocr.retry_failed(batch_id)
    click.echo(f"{batch_id}  retrying {answer.retrying}  ({answer.batch.status})")


@batches.command("manifest")
@click.argument("batch_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write it here.")
@api_option
@key_option
def manifest(batch_id: str, out: Path | None, api: str | None, key: str | None) -> None:
    """The batch's manifest.jsonl: one line per document, with its task and results."""
    with client(api, key) as ocr, api_errors(api):
        lines = [json.dumps(entry, ensure_ascii=False) for entry in ocr.manifest(batch_id)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        click.echo(f"manifest saved to {out} ({len(lines)} documents)")


COMMANDS = [batches]
