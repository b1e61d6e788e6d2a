"""The worker's liveness row (not a task's lease): a thread that writes this process's state
to `worker_heartbeats` every `worker_heartbeat_s`, and deletes the row on a clean shutdown.

A killed worker leaves its row behind; it ages, the dashboard marks it stale, and the
`ops.sample` beat task prunes it after `worker_forget_after_s`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from shared import worker_liveness
from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import session_scope
from shared.gpus import NvmlSampler
from shared.ids import new_id
from shared.logs import get_logger
from worker.engines.base import EngineInfo

log = get_logger(__name__)


class InFlight:
    """How many Celery tasks this process is executing now (thread pool: one counter, locked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def started(self) -> None:
        with self._lock:
            self._count += 1

    def finished(self) -> None:
        with self._lock:
            self._count = max(0, self._count - 1)

    @property
    def count(self) -> int:
        with self._lock:
            return self._count


@dataclass(frozen=True)
class WorkerIdentity:
    id: str
    node: str
    host: str
    pid: int
    queues: tuple[str, ...]
    concurrency: int

    @classmethod
    def of_this_process(cls, node: str, settings: Settings, queues: list[str]) -> WorkerIdentity:
        return cls(
            id=new_id("wrk"),
            node=node,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=tuple(queues),
            concurrency=settings.worker_concurrency,
        )


class LivenessPublisher(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        identity: WorkerIdentity,
        engine_info: Callable[[], EngineInfo | None],
        in_flight: InFlight,
        metrics_port: int | None,
    ) -> None:
        super().__init__(daemon=True, name="worker-heartbeat")
        self.settings = settings
        self.identity = identity
        self.engine_info = engine_info
        self.in_flight = in_flight
        self.metrics_port = metrics_port
        self.gpus = NvmlSampler(os.environ.get("CUDA_VISIBLE_DEVICES"))
        self.started_at = utcnow()
        self._stop_event = threading.Event()

    def state(self) -> worker_liveness.WorkerState:
        info = self.engine_info()
        return worker_liveness.WorkerState(
            id=self.identity.id,
            node=self.identity.node,
            host=self.identity.host,
            pid=self.identity.pid,
            engine=info.name if info else None,
            model=info.model if info else None,
            modes=info.modes if info else (),
            queues=self.identity.queues,
            concurrency=self.identity.concurrency,
            tasks_in_flight=self.in_flight.count,
            started_at=self.started_at,
            seen_at=utcnow(),
            gpus=tuple(self.gpus.sample()),
            metrics_port=self.metrics_port,
        )

    def beat(self) -> None:
        state = self.state()
        with session_scope(self.settings.database_url, self.settings.database_pool_size) as session:
            worker_liveness.publish(session, state)

    def run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception as exc:  # the database blinked: the next beat tries again
                log.warning("worker.heartbeat.failed", worker=self.identity.id, reason=str(exc)[:200])
            if self._stop_event.wait(self.settings.worker_heartbeat_s):
                return

    def stop(self) -> None:
        """Stop beating and delete the row: a worker that shut down cleanly is not "stale"."""
        self._stop_event.set()
        self.join(timeout=10)
        try:
            with session_scope(self.settings.database_url, self.settings.database_pool_size) as session:
                worker_liveness.remove(session, self.identity.id)
        except Exception as exc:
            log.warning("worker.heartbeat.remove_failed", worker=self.identity.id, reason=str(exc)[:200])
        self.gpus.close()
        log.info("worker.heartbeat.stopped", worker=self.identity.id)
