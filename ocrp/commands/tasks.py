"""Commands for tasks on a running platform: submit, status, list, watch, fetch, cancel, delete,
retry. Built on the SDK (`ocrp.sdk`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from ocrp.commands.connect import (
    api_errors,
    api_option,
    async_client,
    client,
    echo_json,
    json_option,
    key_option,
    one_line,
)
from ocrp.commands.task_options import task_option_flags
from ocrp.progress import console, task_progress, update_bar, update_bar_from_event
from ocrp.sdk import AsyncClient, Client, Event, TaskResource

REMOTE = ("http://", "https://", "s3://")


def _document(source: str) -> str | Path:
    if source.startswith(REMOTE):
        return source
    path = Path(source)
    if not path.is_file():
        raise click.BadParameter(
            f"{source} is not a file, an http(s) URL or an s3:// URI", param_hint="SOURCES"
        )
    return path


def _name(source: str | Path) -> str:
    return source.name if isinstance(source, Path) else source.rsplit("/", 1)[-1] or source


def task_line(task: TaskResource) -> str:
    p = task.progress
    line = f"{task.id}  {task.status}  pages {p.pages_done}/{p.pages_total or '?'}"
    if p.pages_failed:
        line += f"  failed {p.pages_failed}"
    if task.error:
        line += f"  {task.error.code}: {task.error.message}"
    return line


# --------------------------------------------------------------------------- submit
async def _submit_all(
    ocr: AsyncClient, sources: list[str | Path], options: dict[str, Any], parallel: int
) -> list[TaskResource | BaseException]:
    room = asyncio.Semaphore(parallel)

    async def one(source: str | Path) -> TaskResource:
        async with room:
            return await ocr.submit(source, **options)

    return await asyncio.gather(*(one(s) for s in sources), return_exceptions=True)


async def _wait_all(ocr: AsyncClient, tasks: list[TaskResource], names: list[str]) -> list[TaskResource]:
    """Every task followed at once, each on its own live bar."""
    with task_progress() as progress:

        async def one(task: TaskResource, name: str) -> TaskResource:
            bar = progress.add_task(name, total=None, status=task.status)

            def moved(event: Event) -> None:
                update_bar_from_event(progress, bar, event.event, event.json())

            done = await ocr.wait(task.id, on_event=moved)
            update_bar(progress, bar, done.model_dump(mode="json"))
            return done

        return list(await asyncio.gather(*(one(t, n) for t, n in zip(tasks, names, strict=True))))


@click.command()
@click.argument("sources", nargs=-1, required=True)
@task_option_flags
@click.option("--wait", is_flag=True, help="Wait for the tasks, each with a live progress bar.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --wait: download results into OUT/<task id>/.",
)
@click.option("--parallel", type=click.IntRange(1, 32), default=4, show_default=True, help="Uploads at once.")
@json_option
@api_option
@key_option
def submit(
    sources: tuple[str, ...],
    wait: bool,
    out: Path | None,
    parallel: int,
    as_json: bool,
    api: str | None,
    key: str | None,
    **options: Any,
) -> None:
    """Submit documents: files, http(s) URLs or s3:// URIs. Prints the task ids (or, with
    --wait, follows them all and prints how each ended)."""
    documents = [_document(s) for s in sources]
    options = {k: v for k, v in options.items() if v is not None}
    with api_errors(api):
        finished, refused = asyncio.run(_submit_and_wait(api, key, documents, options, parallel, wait))
    if as_json:
        echo_json(finished)
    else:
        for task in finished:
            click.echo(task_line(task) if wait else task.id)
    if out is not None and wait:
        with client(api, key) as ocr, api_errors(api):
            for task in finished:
                if task.status == "succeeded":
                    files = ocr.download(task, out / task.id)
                    click.echo(f"  {task.id}  {files.markdown.parent}", err=as_json)
    for source, error in refused:
        click.echo(f"{_name(source)}: {one_line(error, api)}", err=True)
    if refused or (wait and any(t.status != "succeeded" for t in finished)):
        sys.exit(1)


async def _submit_and_wait(
    api: str | None,
    key: str | None,
    documents: list[str | Path],
    options: dict[str, Any],
    parallel: int,
    wait: bool,
) -> tuple[list[TaskResource], list[tuple[str | Path, Exception]]]:
    async with async_client(api, key) as ocr:
        answers = await _submit_all(ocr, documents, options, parallel)
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer  # KeyboardInterrupt and the like
        accepted = [(d, a) for d, a in zip(documents, answers, strict=True) if isinstance(a, TaskResource)]
        refused = [(d, a) for d, a in zip(documents, answers, strict=True) if isinstance(a, Exception)]
        tasks = [t for _, t in accepted]
        if wait and tasks:
            tasks = await _wait_all(ocr, tasks, [_name(d) for d, _ in accepted])
        return tasks, refused


# --------------------------------------------------------------------------- one task
@click.command()
@click.argument("task_id")
@json_option
@api_option
@key_option
def status(task_id: str, as_json: bool, api: str | None, key: str | None) -> None:
    """Show a task's status and progress."""
    with client(api, key) as ocr, api_errors(api):
        task = ocr.task(task_id)
    if as_json:
        echo_json(task)
        return
    click.echo(task_line(task))


@click.command("list")
@click.option(
    "--status", "status_filter", type=click.Choice(["queued", "running", "succeeded", "failed", "canceled"])
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@api_option
@key_option
def list_tasks(
    status_filter: str | None, limit: int, as_json: bool, api: str | None, key: str | None
) -> None:
    """List your tasks, newest first."""
    found: list[TaskResource] = []
    with client(api, key) as ocr, api_errors(api):
        for task in ocr.iter_tasks(status_filter, page_size=min(limit, 200)):
            found.append(task)
            if len(found) >= limit:
                break
    if as_json:
        echo_json(found)
        return
    for task in found:
        name = task.source.filename or task.source.uri or ""
        click.echo(f"{task_line(task)}  {task.timings.created_at:%Y-%m-%d %H:%M:%S}  {name}")


@click.command()
@click.argument("task_id")
@click.option("--text", is_flag=True, help="Print the pages' text as it is read (delta events).")
@json_option
@api_option
@key_option
def watch(task_id: str, text: bool, as_json: bool, api: str | None, key: str | None) -> None:
    """Follow a task's live events until it ends (exit status 1 unless it succeeded)."""

    def show(event: Event) -> None:
        data = event.json()
        if as_json:
            click.echo(event.data)
        elif event.event == "delta" and text:
            click.echo(data["text"], nl=False)
        elif event.event == "page":
            p = data.get("progress") or {}
            click.echo(
                f"page {data['page']} {data['status']}  ({p.get('pages_done')}/{p.get('pages_total')})"
            )
        elif event.event == "status":
            click.echo(
                f"status {data['status']}" + (f"  {data['error']['code']}" if data.get("error") else "")
            )

    with client(api, key) as ocr, api_errors(api):
        done = ocr.wait(task_id, on_event=show)
    if done.status != "succeeded":
        sys.exit(1)


@click.command()
@click.argument("task_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@api_option
@key_option
def fetch(task_id: str, out: Path, api: str | None, key: str | None) -> None:
    """Download a finished task's full.md, layout.json and images."""
    with client(api, key) as ocr, api_errors(api):
        task = ocr.task(task_id)
        if task.status != "succeeded":
            raise click.ClickException(f"task {task_id} is {task.status}; nothing to fetch")
        files = ocr.download(task, out)
    _print_files(files.markdown, files.layout, files.images)


def _print_files(markdown: Path, layout: Path, images: list[Path]) -> None:
    click.echo(f"full.md      {markdown.resolve()}")
    click.echo(f"layout.json  {layout.resolve()}")
    click.echo(f"images       {(markdown.parent / 'images').resolve()} ({len(images)} files)")


@click.command()
@click.argument("task_ids", nargs=-1, required=True)
@json_option
@api_option
@key_option
def cancel(task_ids: tuple[str, ...], as_json: bool, api: str | None, key: str | None) -> None:
    """Cancel tasks: a queued one at once, a running one at its next page."""
    with client(api, key) as ocr, api_errors(api):
        tasks = [ocr.cancel(t) for t in task_ids]
    if as_json:
        echo_json(tasks)
        return
    for task in tasks:
        state = "cancel requested" if task.cancel_requested and task.status == "running" else task.status
        click.echo(f"{task.id}  {state}")


@click.command()
@click.argument("task_ids", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@api_option
@key_option
def delete(task_ids: tuple[str, ...], yes: bool, api: str | None, key: str | None) -> None:
    """Delete finished tasks with their stored input and results (cancel running ones first)."""
    if not yes:
        click.confirm(f"delete {len(task_ids)} task(s) and their results for good?", abort=True)
    with client(api, key) as ocr, api_errors(api):
        for task_id in task_ids:
            ocr.delete(task_id)
            click.echo(f"{task_id}  deleted")


@click.command()
@click.argument("task_ids", nargs=-1, required=True)
@json_option
@api_option
@key_option
def retry(task_ids: tuple[str, ...], as_json: bool, api: str | None, key: str | None) -> None:
    """Put failed tasks back in the queue (pages that succeeded are kept)."""
    with client(api, key) as ocr, api_errors(api):
        tasks = [ocr.retry_task(t) for t in task_ids]
    if as_json:
        echo_json(tasks)
        return
    for task in tasks:
        click.echo(f"{task.id}  {task.status}")


def run_demo(url: str, path: Path, out_root: Path, api_key: str | None = None) -> TaskResource:
    """Submit one document through the HTTP API, wait with a progress bar, download the results."""

    async def submit_and_wait() -> TaskResource:
        async with AsyncClient(url, api_key) as ocr:
            task = await ocr.submit(path)
            console.print(f"submitted {path.name} as {task.id}")
            [done] = await _wait_all(ocr, [task], [path.name])
            return done

    done = asyncio.run(submit_and_wait())
    if done.status != "succeeded":
        raise click.ClickException(f"the demo task {done.status}: {done.error}")
    with Client(url, api_key) as ocr:
        files = ocr.download(done, out_root / done.id)
    _print_files(files.markdown, files.layout, files.images)
    return done


COMMANDS = [submit, status, list_tasks, watch, fetch, cancel, delete, retry]
