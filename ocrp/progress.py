"""Progress bars for long work: one bar a task, advanced by pages."""

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


def update_bar(progress: Progress, bar: Any, task: dict[str, Any]) -> None:
    p = task["progress"]
    total = p["pages_total"]
    status = task["status"]
    if p["pages_failed"]:
        status += f" ({p['pages_failed']} failed)"
    progress.update(bar, total=total, completed=p["pages_done"], status=status)
