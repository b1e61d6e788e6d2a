"""Worker liveness: what each worker process runs and how it is doing, read by the API. Rows
of `worker_heartbeats`; not to be confused with a task's lease (`Task.heartbeat_at`).

Workers publish (`publish`) every `worker_heartbeat_s` and remove their row on a clean shutdown
(`remove`). Readers get `WorkerState`s (`list_workers`) or the models connected workers serve
(`served_models`, behind `GET /v1/models`). A worker not heard from for `worker_stale_after_s` is
stale: probably killed; its row is pruned `worker_forget_after_s` after it was last seen.

Callers pass the session and commit (the boundary owns the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.db.models import WorkerLiveness
from shared.gpus import GpuState


@dataclass(frozen=True)
class WorkerState:
    id: str
    node: str
    host: str
    pid: int
    engine: str | None
    model: str | None
    modes: tuple[str, ...]
    queues: tuple[str, ...]
    concurrency: int
    tasks_in_flight: int
    started_at: datetime
    seen_at: datetime
    gpus: tuple[GpuState, ...] = ()
    metrics_port: int | None = None

    @property
    def gpu_present(self) -> bool:
        return bool(self.gpus)

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.seen_at).total_seconds())

    def alive(self, now: datetime, stale_after_s: float) -> bool:
        return self.age_s(now) <= stale_after_s


@dataclass(frozen=True)
class ServedModel:
    """One engine and model that live workers serve, for `GET /v1/models`."""

    engine: str
    model: str | None
    modes: tuple[str, ...]
    gpu: bool
    workers: int
    queues: tuple[str, ...] = field(default=())
    gpus: tuple[str, ...] = field(default=())  # "host:index" of every GPU serving it


def _values(state: WorkerState) -> dict[str, object]:
    return {
        "node": state.node,
        "host": state.host,
        "pid": state.pid,
        "engine": state.engine,
        "model": state.model,
        "modes": list(state.modes),
        "gpu_present": state.gpu_present,
        "gpus": [gpu.to_json() for gpu in state.gpus],
        "queues": list(state.queues),
        "concurrency": state.concurrency,
        "tasks_in_flight": state.tasks_in_flight,
        "metrics_port": state.metrics_port,
        "started_at": state.started_at,
        "seen_at": state.seen_at,
    }


def publish(session: Session, state: WorkerState) -> None:
    """Write the worker's latest heartbeat. Only the worker itself writes its row, so an update
    followed by an insert when nothing was updated cannot race."""
    values = _values(state)
    result = session.execute(update(WorkerLiveness).where(WorkerLiveness.id == state.id).values(**values))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(WorkerLiveness(id=state.id, **values))
    session.flush()


def remove(session: Session, worker_id: str) -> None:
    session.execute(delete(WorkerLiveness).where(WorkerLiveness.id == worker_id))


def prune(session: Session, now: datetime, forget_after_s: float) -> int:
    """Delete heartbeats of workers not seen for `forget_after_s`; returns how many."""
    cutoff = now - timedelta(seconds=forget_after_s)
    result = session.execute(delete(WorkerLiveness).where(WorkerLiveness.seen_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result


def _state(row: WorkerLiveness) -> WorkerState:
    return WorkerState(
        id=row.id,
        node=row.node,
        host=row.host,
        pid=row.pid,
        engine=row.engine,
        model=row.model,
        modes=tuple(row.modes or ()),
        queues=tuple(row.queues or ()),
        concurrency=row.concurrency,
        tasks_in_flight=row.tasks_in_flight,
        started_at=row.started_at,
        seen_at=row.seen_at,
        gpus=tuple(GpuState.from_json(g) for g in row.gpus or ()),
        metrics_port=row.metrics_port,
    )


def list_workers(session: Session) -> list[WorkerState]:
    """Every worker with a heartbeat row, alive or stale, most recently seen first."""
    rows = session.scalars(select(WorkerLiveness).order_by(WorkerLiveness.seen_at.desc()))
    return [_state(row) for row in rows]


def live_workers(session: Session, now: datetime, stale_after_s: float) -> list[WorkerState]:
    cutoff = now - timedelta(seconds=stale_after_s)
    rows = session.scalars(
        select(WorkerLiveness).where(WorkerLiveness.seen_at >= cutoff).order_by(WorkerLiveness.node)
    )
    return [_state(row) for row in rows]


def served_models(workers: list[WorkerState]) -> list[ServedModel]:
    """Group workers that run an engine by (engine, model): a pure function of the states."""
    groups: dict[tuple[str, str | None], list[WorkerState]] = {}
    for worker in workers:
        if worker.engine:
            groups.setdefault((worker.engine, worker.model), []).append(worker)
    models = []
    for (engine, model), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        modes = sorted({mode for w in members for mode in w.modes})
        queues = sorted({queue for w in members for queue in w.queues})
        models.append(
            ServedModel(
                engine=engine,
                model=model,
                modes=tuple(modes),
                gpu=any(w.gpu_present for w in members),
                workers=len(members),
                queues=tuple(queues),
                gpus=tuple(sorted({f"{w.host}:{g.index}" for w in members for g in w.gpus})),
            )
        )
    return models
