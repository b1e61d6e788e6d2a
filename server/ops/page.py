"""The `/ops` dashboard, rendered on the server from `OpsStats`.

`render_page` gives the whole document (template `ops.html`: inline CSS and a few lines of
script, nothing loaded from elsewhere); `render_body` gives the part the page swaps in when it
refreshes itself from `/ops/fragment`. Every figure the page shows carries `data-stat`, the
path of the same figure in `GET /v1/ops/stats`, so that tests (and curious operators) can check
one against the other.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.resources import files

from server.ops.charts import PALETTE, Bar, Series, bar_chart, line_chart
from server.ops.schemas import OpsStats, WorkerStats

NONE = "\u2013"  # an en dash where a figure is unknown


@lru_cache(maxsize=1)
def _template() -> str:
    return files("server.ops").joinpath("ops.html").read_text(encoding="utf-8")


def stat(path: str, value: object, shown: str | None = None) -> str:
    text = shown if shown is not None else (NONE if value is None else str(value))
    return f'<span data-stat="{escape(path)}">{escape(text)}</span>'


def ago(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def clock(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value else NONE


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tile(label: str, value_html: str, tone: str = "") -> str:
    return (
        f'<div class="tile {tone}"><div class="value">{value_html}</div>'
        f'<div class="label">{label}</div></div>'
    )


def _tiles(stats: OpsStats) -> str:
    alive = sum(1 for w in stats.workers if w.state == "alive")
    stale = len(stats.workers) - alive
    t, tp = stats.tasks, stats.throughput
    tiles = [
        _tile("tasks queued", stat("tasks.queued", t.queued)),
        _tile("tasks running", stat("tasks.running", t.running)),
        _tile("pages / min (5 min)", stat("throughput.pages_per_minute", tp.pages_per_minute)),
        _tile("pages done, last hour", stat("throughput.pages_succeeded", tp.pages_succeeded)),
        _tile(
            "pages failed, last hour",
            stat("throughput.pages_failed", tp.pages_failed),
            "bad" if tp.pages_failed else "",
        ),
        _tile(
            "tasks failed, last hour",
            stat("throughput.tasks_failed", tp.tasks_failed),
            "bad" if tp.tasks_failed else "",
        ),
        _tile("workers alive", stat("workers.alive", alive), "" if alive else "bad"),
        _tile("workers stale", stat("workers.stale", stale), "warn" if stale else ""),
    ]
    return '<section class="tiles">' + "".join(tiles) + "</section>"


def _queues(stats: OpsStats) -> str:
    rows = [
        [
            f"<code>{escape(q.name)}</code>",
            stat(f"queues.{q.name}.depth", q.depth),
            stat(f"queues.{q.name}.queued_tasks", q.queued_tasks),
            stat(f"queues.{q.name}.running_tasks", q.running_tasks),
            ago(q.oldest_queued_age_s),
        ]
        for q in stats.queues
    ]
    table = _table(["queue", "broker depth", "queued tasks", "running tasks", "oldest waiting"], rows, "")
    start, end = stats.generated_at.timestamp() - stats.throughput.window_s, stats.generated_at.timestamp()
    series = [
        Series(h.queue, [(p.at.timestamp(), p.depth) for p in h.points], PALETTE[i % len(PALETTE)])
        for i, h in enumerate(stats.queue_history)
    ]
    depth_chart = line_chart("Queue depth, last hour", series, start, end)
    bars = [
        Bar(p.minute.timestamp(), (p.pages_succeeded, p.pages_failed)) for p in stats.throughput.per_minute
    ]
    pages_chart = bar_chart(
        "Pages per minute, last hour", bars, ("pages done", "pages failed"), start, end, 60
    )
    return (
        f"<section><h2>Queues</h2>{table}<div class='charts'>"
        f"<div><h3>Queue depth, last hour</h3>{depth_chart}</div>"
        f"<div><h3>Throughput, pages per minute</h3>{pages_chart}</div></div></section>"
    )


def _in_flight(stats: OpsStats) -> str:
    rows = [
        [
            f"<code>{escape(t.id)}</code>",
            escape(t.owner),
            escape(t.queue),
            escape(t.worker or NONE),
            escape(t.filename or NONE),
            f"{t.pages_done} / {t.pages_total if t.pages_total is not None else '?'}",
            str(t.attempts),
            clock(t.started_at),
            ago(t.heartbeat_age_s),
        ]
        for t in stats.in_flight
    ]
    headers = ["task", "owner", "queue", "worker", "file", "pages", "attempt", "started", "heartbeat"]
    return (
        f"<section><h2>Tasks in flight ({stat('in_flight.count', len(stats.in_flight))})</h2>"
        + _table(headers, rows, "No task is running.")
        + "</section>"
    )


def _failures(stats: OpsStats) -> str:
    codes = "".join(
        f'<span class="chip"><code>{escape(c.code)}</code> {stat(f"failure_codes.{c.code}", c.tasks)}</span>'
        for c in stats.failure_codes
    )
    rows = [
        [
            clock(f.finished_at),
            f"<code>{escape(f.id)}</code>",
            escape(f.queue),
            escape(f.filename or NONE),
            f"<code>{escape(f.code or 'unknown')}</code>",
            escape((f.message or "")[:300]),
        ]
        for f in stats.recent_failures
    ]
    table = _table(["finished", "task", "queue", "file", "code", "reason"], rows, "No failed task.")
    chips = f'<p class="chips">Last hour: {codes}</p>' if codes else ""
    return f"<section><h2>Recent failures</h2>{chips}{table}</section>"


def _gpu_cell(worker: WorkerStats) -> str:
    if not worker.gpus:
        return '<span class="muted">no GPU</span>'
    parts = []
    for g in worker.gpus:
        share = g.memory_used_bytes / g.memory_total_bytes if g.memory_total_bytes else 0
        util = f", {g.utilization_percent}% busy" if g.utilization_percent is not None else ""
        path = f"workers.{worker.id}.gpus.{g.index}"
        parts.append(
            f"<div>{escape(g.name)}: "
            f"{stat(path + '.memory_used_bytes', g.memory_used_bytes, gib(g.memory_used_bytes))} / "
            f"{stat(path + '.memory_total_bytes', g.memory_total_bytes, gib(g.memory_total_bytes))}{util}"
            f'<div class="meter"><i style="width:{share * 100:.0f}%"></i></div></div>'
        )
    return "".join(parts)


def _workers(stats: OpsStats) -> str:
    rows = [
        [
            f"<strong>{escape(w.node)}</strong><br><span class='muted'>{escape(w.host)} pid {w.pid}</span>",
            f"{escape(w.engine or NONE)}<br><span class='muted'>{escape(w.model or '')}</span>",
            escape(", ".join(w.queues)),
            f"{stat(f'workers.{w.id}.tasks_in_flight', w.tasks_in_flight)} / {w.concurrency}",
            _gpu_cell(w),
            ago(w.heartbeat_age_s),
            f'<span class="badge {w.state}" data-stat="workers.{escape(w.id)}.state">{w.state}</span>',
        ]
        for w in stats.workers
    ]
    headers = ["worker", "engine", "queues", "busy", "GPU", "heartbeat", "state"]
    return (
        "<section><h2>Workers</h2>" + _table(headers, rows, "No worker has sent a heartbeat.") + "</section>"
    )


def _batches(stats: OpsStats) -> str:
    rows = [
        [
            f"<code>{escape(b.id)}</code>",
            escape(b.name or NONE),
            f"{stat(f'batches.{b.id}.tasks_done', b.tasks_done)} / {b.tasks_total}",
            str(b.tasks_failed),
            NONE if b.tasks_per_minute is None else f"{b.tasks_per_minute:.1f}",
            ago(b.eta_s),
        ]
        for b in stats.batches
    ]
    headers = ["batch", "name", "done", "failed", "tasks / min", "ETA"]
    return (
        "<section><h2>Batches in progress</h2>"
        + _table(headers, rows, "No batch in progress.")
        + "</section>"
    )


def render_body(stats: OpsStats) -> str:
    generated = f'<p class="muted" id="generated">Figures of {stats.generated_at:%Y-%m-%d %H:%M:%S} UTC</p>'
    sections = (_tiles, _queues, _in_flight, _failures, _workers, _batches)
    return generated + "".join(section(stats) for section in sections)


def render_page(stats: OpsStats) -> str:
    return _template().replace("{{refresh_s}}", str(stats.refresh_s)).replace("{{body}}", render_body(stats))
