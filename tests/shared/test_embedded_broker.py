"""The embedded broker never hands a consumer half a message."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from shared.config import Settings
from shared.queue import make_celery


def _produce(data_dir: str, count: int) -> None:
    app = make_celery(Settings(_env_file=None, data_dir=Path(data_dir)))  # type: ignore[call-arg]
    with app.connection_for_write() as conn:
        producer = conn.Producer()
        for index in range(count):
            producer.publish(
                {"n": index, "pad": "x" * 20_000},
                routing_key="probe",
                serializer="json",
                declare=[],
                retry=True,
            )


def test_concurrent_producers_and_a_consumer_lose_nothing(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    app = make_celery(settings)
    assert app.conf.broker_url == "ocrpfs://"
    producers = [
        multiprocessing.get_context("spawn").Process(target=_produce, args=(str(tmp_path), 150))
        for _ in range(3)
    ]
    for process in producers:
        process.start()
    seen: list[int] = []
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        while len(seen) < 450:
            message = channel.basic_get("probe", no_ack=True)
            if message is None:
                if not any(p.is_alive() for p in producers) and not os.listdir(settings.broker_dir / "queue"):
                    break
                continue
            seen.append(message.decode()["n"])
    for process in producers:
        process.join(timeout=30)
    assert len(seen) == 450
    assert sorted(seen) == sorted(list(range(150)) * 3)
    assert not [name for name in os.listdir(settings.broker_dir / "queue") if name.endswith(".part")]
