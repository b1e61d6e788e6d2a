"""The embedded broker serves a consumer's queues in the order it lists them; kombu's stock
filesystem transport alternates between them."""

from __future__ import annotations

from pathlib import Path

from kombu import Consumer, Queue

from shared.config import Settings
from shared.queue import QUEUE_BATCH, QUEUE_INTERACTIVE, make_celery


def _delivery_order(tmp_path: Path, ordered: bool) -> list[str]:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    app = make_celery(settings)
    if not ordered:
        app.conf.broker_url = "filesystem://"  # kombu's stock transport, for contrast
    for i in range(4):
        app.send_task("probe", args=[f"batch-{i}"], queue=QUEUE_BATCH)
    for i in range(2):
        app.send_task("probe", args=[f"interactive-{i}"], queue=QUEUE_INTERACTIVE)
    order: list[str] = []

    def received(body: list[list[str]], message: object) -> None:
        order.append(body[0][0])
        message.ack()  # type: ignore[attr-defined]

    with app.connection_for_read() as conn, conn.channel() as channel:
        queues = [Queue(QUEUE_INTERACTIVE), Queue(QUEUE_BATCH)]
        with Consumer(channel, queues=queues, callbacks=[received], accept=["json"]):
            for _ in range(6):
                conn.drain_events(timeout=5)
    return order


def test_interactive_messages_are_served_before_any_waiting_batch_message(tmp_path: Path) -> None:
    order = _delivery_order(tmp_path / "ordered", ordered=True)
    assert sorted(order[:2]) == ["interactive-0", "interactive-1"]
    assert sorted(order[2:]) == [f"batch-{i}" for i in range(4)]


def test_the_stock_transport_would_interleave_them(tmp_path: Path) -> None:
    order = _delivery_order(tmp_path / "stock", ordered=False)
    assert order[1].startswith("batch-")
