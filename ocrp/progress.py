"""Progress bars for long work: one bar a task (advanced by pages), one bar a batch (by documents)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def task_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def task_fields(status: str, progress: dict[str, Any] | None) -> dict[str, Any]:
    """A task bar's numbers from a status and a progress object (pure)."""
    if progress is None:
        return {"status": status}
    if progress["pages_failed"]:
        status += f" ({progress['pages_failed']} failed)"
    return {"total": progress["pages_total"], "completed": progress["pages_done"], "status": status}


def update_bar(progress: Progress, bar: Any, task: dict[str, Any]) -> None:
    progress.update(bar, **task_fields(task["status"], task["progress"]))


def update_bar_from_event(progress: Progress, bar: Any, event: str, data: dict[str, Any]) -> None:
    """A live event moves the bar: `status` events carry the task's state, `page` events the
    page's (so only their progress counts)."""
    if event == "status":
        progress.update(bar, **task_fields(str(data["status"]), data.get("progress")))
    elif event == "page" and data.get("progress"):
        fields = task_fields("running", data["progress"])
        progress.update(bar, total=fields["total"], completed=fields["completed"])


def batch_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[docs]} docs"),
        TextColumn("{task.fields[pages]} pages"),
        TextColumn("[red]{task.fields[failed]} failed"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("ETA {task.fields[eta]}"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def batch_fields(batch: dict[str, Any]) -> dict[str, Any]:
    """The bar's numbers from a batch resource (pure, so it is testable without a terminal)."""
    progress, counts, source = batch["progress"], batch["counts"], batch["source"]
    total = source["total"]
    done = progress["documents_done"]
    known = total if total is not None else max(source["listed"], done)
    rate = progress["documents_per_min"]
    eta = _duration(progress["eta_s"]) + ("+" if progress["eta_partial"] and progress["eta_s"] else "")
    return {
        "total": known or None,
        "completed": done,
        "docs": f"{done}/{known if total is not None else f'{known}+'}",
        "pages": progress["pages_done"],
        "failed": counts["failed"],
        "rate": f"{rate:.1f} docs/min" if rate is not None else "-",
        "eta": eta if batch["finished_at"] is None else "0:00",
        "status": batch["status"],
    }


def update_batch_bar(progress: Progress, bar: Any, batch: dict[str, Any]) -> None:
    progress.update(bar, **batch_fields(batch))
