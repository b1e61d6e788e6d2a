"""Commands that use a running platform over HTTP: `submit`, `status`, `fetch`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ocrp.client import ApiError, Client
from ocrp.progress import console, task_progress, update_bar

api_option = click.option("--api", envvar="OCR_API_URL", default=None, help="API base URL (OCR_API_URL).")
key_option = click.option("--key", envvar="OCR_API_KEY", default=None, help="API key (OCR_API_KEY).")


def _client(api: str | None, key: str | None) -> Client:
    return Client(api, key)


def _fail(exc: ApiError) -> click.ClickException:
    return click.ClickException(f"{exc.code}: {exc.message} (HTTP {exc.status})")


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--mode", type=click.Choice(["tiny", "small", "base", "large", "gundam"]), default=None)
@click.option(
    "--prompt", type=click.Choice(["document", "free_ocr", "figure", "image", "custom"]), default=None
)
@click.option("--custom-prompt", default=None)
@click.option("--dpi", type=int, default=None)
@click.option("--pages", default=None, help="e.g. 1-3,7")
@click.option("--webhook-url", default=None)
@click.option("--wait", is_flag=True, help="Wait for the tasks, with a progress bar.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --wait: download results into OUT/<task id>/.",
)
@api_option
@key_option
def submit(
    files: tuple[Path, ...], wait: bool, out: Path | None, api: str | None, key: str | None, **options: Any
) -> None:
    """Upload documents; print their task ids (or wait and fetch the results)."""
    with _client(api, key) as client:
        try:
            tasks = [client.submit_file(path, **options) for path in files]
        except ApiError as exc:
            raise _fail(exc) from exc
        if not wait:
            for task in tasks:
                click.echo(task["id"])
            return
        finished = _wait_all(client, tasks, [p.name for p in files])
        failed = 0
        for task in finished:
            line = f"{task['id']}  {task['status']}"
            if task["error"]:
                line += f"  {task['error']['code']}: {task['error']['message']}"
                failed += task["status"] != "succeeded"
            click.echo(line)
            if out is not None and task["status"] == "succeeded":
                paths = client.fetch_results(task, out / task["id"])
                click.echo(f"  full.md      {paths['markdown']}")
                click.echo(f"  layout.json  {paths['layout']}")
                click.echo(f"  images       {paths['images_dir']} ({len(paths['images'])} files)")
        if failed:
            raise SystemExit(1)


def _wait_all(client: Client, tasks: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with task_progress() as progress:
        bars = [progress.add_task(name, total=None, status="queued") for name in names]
        for task, bar in zip(tasks, bars, strict=True):
            results.append(client.wait(task["id"], on_update=lambda t, b=bar: update_bar(progress, b, t)))
    return results


@click.command()
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole task resource.")
@api_option
@key_option
def status(task_id: str, as_json: bool, api: str | None, key: str | None) -> None:
    """Show a task's status and progress."""
    with _client(api, key) as client:
        try:
            task = client.task(task_id)
        except ApiError as exc:
            raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps(task, indent=2))
        return
    p = task["progress"]
    click.echo(
        f"{task['id']}  {task['status']}  pages {p['pages_done']}/{p['pages_total'] or '?'}"
        f"  failed {p['pages_failed']}  truncated {p['pages_truncated']}"
    )
    if task["error"]:
        click.echo(f"error  {task['error']['code']}: {task['error']['message']}")


@click.command()
@click.argument("task_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@api_option
@key_option
def fetch(task_id: str, out: Path, api: str | None, key: str | None) -> None:
    """Download a finished task's full.md, layout.json and images."""
    with _client(api, key) as client:
        try:
            task = client.task(task_id)
            if task["status"] != "succeeded":
                raise click.ClickException(f"task {task_id} is {task['status']}; nothing to fetch")
            paths = client.fetch_results(task, out)
        except ApiError as exc:
            raise _fail(exc) from exc
    click.echo(
        f"full.md      {paths['markdown']}\nlayout.json  {paths['layout']}\n"
        f"images       {paths['images_dir']} ({len(paths['images'])} files)"
    )


def run_demo(url: str, path: Path, out_root: Path, api_key: str | None = None) -> dict[str, Any]:
    """Submit one document through the HTTP API, wait with a progress bar, download the results."""
    with Client(url, api_key) as client:
        task = client.submit_file(path)
        console.print(f"submitted {path.name} as {task['id']}")
        [done] = _wait_all(client, [task], [path.name])
        if done["status"] != "succeeded":
            raise click.ClickException(f"the demo task {done['status']}: {done['error']}")
        paths = client.fetch_results(done, out_root / done["id"])
    click.echo(f"full.md      {paths['markdown'].resolve()}")
    click.echo(f"layout.json  {paths['layout'].resolve()}")
    click.echo(f"images       {paths['images_dir'].resolve()} ({len(paths['images'])} files)")
    return done


COMMANDS = [submit, status, fetch]
