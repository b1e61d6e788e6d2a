"""The worker's heartbeat thread, in-process against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from shared import worker_liveness
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.session import session_scope
from worker.engines.base import EngineInfo
from worker.ops.liveness import InFlight, LivenessPublisher, WorkerIdentity

ENGINE = EngineInfo(name="tesseract", model="tesseract 5 (eng)", modes=("base", "gundam"))


def _settings(tmp_path: Path, **values: object) -> Settings:
    settings = Settings(_env_file=None, data_dir=tmp_path, worker_heartbeat_s=0.2, **values)  # type: ignore[call-arg]
    upgrade(settings.database_url)
    return settings


def _rows(settings: Settings) -> list[worker_liveness.WorkerState]:
    with session_scope(settings.database_url) as session:
        return worker_liveness.list_workers(session)


def test_the_publisher_writes_what_the_worker_runs_and_removes_it_on_stop(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    in_flight = InFlight()
    identity = WorkerIdentity.of_this_process("tesseract@box", settings, ["ocr.interactive", "ocr.batch"])
    publisher = LivenessPublisher(settings, identity, lambda: ENGINE, in_flight, metrics_port=9102)
    in_flight.started()
    in_flight.started()
    in_flight.finished()
    publisher.start()
    try:
        from tests.fixtures.services import wait_for

        wait_for(lambda: len(_rows(settings)) == 1, 10, "the first heartbeat")
        first = _rows(settings)[0]
        wait_for(lambda: _rows(settings)[0].seen_at > first.seen_at, 10, "a second heartbeat")
    finally:
        publisher.stop()
    assert first.id == identity.id
    assert first.id.startswith("wrk_")
    assert (first.engine, first.model, first.modes) == ("tesseract", "tesseract 5 (eng)", ("base", "gundam"))
    assert first.queues == ("ocr.interactive", "ocr.batch")
    assert first.tasks_in_flight == 1
    assert first.metrics_port == 9102
    assert first.concurrency == settings.worker_concurrency
    assert not first.gpu_present  # no NVML here
    assert _rows(settings) == []  # a clean stop leaves no stale row


def test_a_worker_without_an_engine_beats_too(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    identity = WorkerIdentity.of_this_process("service@box", settings, ["webhooks"])
    LivenessPublisher(settings, identity, lambda: None, InFlight(), None).beat()
    [row] = _rows(settings)
    assert (row.engine, row.model, row.modes, row.metrics_port) == (None, None, (), None)


def test_an_unreachable_database_does_not_stop_the_heartbeat_thread(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        worker_heartbeat_s=0.1,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    identity = WorkerIdentity.of_this_process("w@box", settings, ["ocr.batch"])
    publisher = LivenessPublisher(settings, identity, lambda: ENGINE, InFlight(), None)
    publisher.start()
    publisher.join(timeout=0.5)
    assert publisher.is_alive()  # failed beats are logged and retried
    publisher.stop()
    assert not publisher.is_alive()


def test_in_flight_never_goes_below_zero() -> None:
    counter = InFlight()
    counter.finished()
    counter.started()
    assert counter.count == 1
