"""Both event stores, real: Redis streams and the `task_events` table (SQLite and PostgreSQL).
Events come back in order after any cursor, a blocked reader wakes when one lands, and storage
stays bounded."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from sqlalchemy import event, func, select

from shared.clock import utcnow
from shared.db.models import Task, TaskEventRow, TaskStatus
from shared.db.session import get_engine, session_scope
from shared.events import EventFeed, EventPublisher, StoredEvent
from shared.events.db_store import DbEventFeed, DbEventPublisher, prune_events
from shared.events.model import delta_event, status_event
from shared.events.redis_store import RedisEventFeed, RedisEventPublisher, stream_key


@dataclass
class Store:
    publisher: EventPublisher
    feed: EventFeed
    before_all: str


def _task(database_url: str, task_id: str) -> None:
    with session_scope(database_url) as session:
        session.add(
            Task(id=task_id, owner="default", status=TaskStatus.running, source_kind="upload", options={})
        )


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, database_url: str) -> Iterator[Store]:
    _task(database_url, "tsk_a")
    _task(database_url, "tsk_b")
    if request.param == "database":
        yield Store(DbEventPublisher(database_url), DbEventFeed(database_url, poll_s=0.05), "0")
        return
    url = request.getfixturevalue("redis_url")
    publisher = RedisEventPublisher(url, max_per_task=1000, retention_s=60)
    yield Store(publisher, RedisEventFeed(url), "0-0")
    publisher.close()


def read_all(feed: EventFeed, task_id: str, after: str, wait_s: float = 0.0) -> list[StoredEvent]:
    async def go() -> list[StoredEvent]:
        async with feed.subscribe(task_id) as subscription:
            return await subscription.read(after, wait_s)

    return asyncio.run(go())


def latest(feed: EventFeed, task_id: str) -> str:
    async def go() -> str:
        async with feed.subscribe(task_id) as subscription:
            return await subscription.latest()

    return asyncio.run(go())


def test_events_come_back_in_order_after_any_cursor(store: Store) -> None:
    assert latest(store.feed, "tsk_a") == store.before_all
    for n in range(3):
        store.publisher.publish(delta_event("tsk_a", 1, n, f"part {n}"))
    store.publisher.publish(delta_event("tsk_b", 1, 0, "another task"))
    events = read_all(store.feed, "tsk_a", store.before_all)
    assert [e.event.data["text"] for e in events] == ["part 0", "part 1", "part 2"]
    assert latest(store.feed, "tsk_a") == events[-1].id
    assert all(store.feed.valid_cursor(e.id) for e in events)
    after_first = read_all(store.feed, "tsk_a", events[0].id)
    assert [e.event.data["text"] for e in after_first] == ["part 1", "part 2"]
    assert read_all(store.feed, "tsk_a", events[-1].id) == []


def test_a_waiting_reader_wakes_when_an_event_lands(store: Store) -> None:
    cursor = latest(store.feed, "tsk_a")
    timer = threading.Timer(0.3, store.publisher.publish, [status_event("tsk_a", TaskStatus.succeeded)])
    timer.start()
    began = time.monotonic()
    events = read_all(store.feed, "tsk_a", cursor, wait_s=10)
    timer.join()
    assert [e.event.data["status"] for e in events] == ["succeeded"]
    assert events[0].event.is_terminal
    assert time.monotonic() - began < 5


def test_a_read_with_nothing_new_returns_empty_after_its_wait(store: Store) -> None:
    began = time.monotonic()
    assert read_all(store.feed, "tsk_a", latest(store.feed, "tsk_a"), wait_s=0.4) == []
    assert 0.3 < time.monotonic() - began < 5


def test_many_idle_watchers_share_one_look_at_the_store_and_only_the_right_one_wakes(
    store: Store, database_url: str
) -> None:
    watched = [f"tsk_w{i:03d}" for i in range(40)]
    for task_id in watched:
        _task(database_url, task_id)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async def scenario() -> dict[str, list[StoredEvent]]:
        async with contextlib.AsyncExitStack() as stack:
            subs = {t: await stack.enter_async_context(store.feed.subscribe(t)) for t in watched}
            cursors = {t: await sub.latest() for t, sub in subs.items()}
            await asyncio.gather(*(sub.read(cursors[t], 0.01) for t, sub in subs.items()))
            event.listen(get_engine(database_url), "before_cursor_execute", count)
            try:
                threading.Timer(0.3, store.publisher.publish, [status_event("tsk_w007", "succeeded")]).start()
                reads = await asyncio.gather(*(sub.read(cursors[t], 1.5) for t, sub in subs.items()))
            finally:
                event.remove(get_engine(database_url), "before_cursor_execute", count)
            return dict(zip(watched, reads, strict=True))

    began = time.monotonic()
    seen = asyncio.run(scenario())
    assert [t for t, events in seen.items() if events] == ["tsk_w007"]
    assert seen["tsk_w007"][0].event.data["status"] == "succeeded"
    if store.before_all == "0":  # the table: a statement per poll (and the one read), not per watcher
        assert len(statements) <= 2 + (time.monotonic() - began) / 0.05, len(statements)


def test_cursors_of_the_other_store_are_refused(store: Store) -> None:
    other = "1700000000000-0" if store.before_all == "0" else "42"
    assert not store.feed.valid_cursor(other)
    assert not store.feed.valid_cursor("'; drop table tasks")


def test_a_redis_stream_is_capped_and_expires(redis_url: str) -> None:
    publisher = RedisEventPublisher(redis_url, max_per_task=100, retention_s=30)
    for n in range(600):
        publisher.publish(delta_event("tsk_cap", 1, n, "x"))
    client = redis.Redis.from_url(redis_url)
    # MAXLEN ~ trims whole stream nodes (100 entries each), never below the cap
    assert 100 <= client.xlen(stream_key("tsk_cap")) <= 300
    assert 0 < client.ttl(stream_key("tsk_cap")) <= 30
    publisher.close()


def test_publishing_to_a_store_that_is_down_never_raises(database_url: str) -> None:
    RedisEventPublisher("redis://127.0.0.1:1/0", 10, 10).publish(delta_event("tsk_x", 1, 0, "lost"))
    DbEventPublisher(database_url).publish(delta_event("tsk_missing", 1, 0, "no such task"))
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(TaskEventRow)) == 0


def test_old_events_are_pruned_and_a_deleted_task_takes_its_events(database_url: str) -> None:
    _task(database_url, "tsk_old")
    _task(database_url, "tsk_new")
    publisher = DbEventPublisher(database_url)
    publisher.publish(delta_event("tsk_old", 1, 0, "old"))
    publisher.publish(delta_event("tsk_new", 1, 0, "new"))
    with session_scope(database_url) as session:
        row = session.scalars(select(TaskEventRow).where(TaskEventRow.task_id == "tsk_old")).one()
        row.created_at = utcnow() - timedelta(hours=2)
    with session_scope(database_url) as session:
        assert prune_events(session, utcnow() - timedelta(hours=1)) == 1
    with session_scope(database_url) as session:
        session.delete(session.get(Task, "tsk_new"))
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(TaskEventRow)) == 0


def test_a_task_is_watched_while_a_subscription_reads_it_and_the_mark_is_no_event(store: Store) -> None:
    assert not store.publisher.watched("tsk_a")
    store.publisher.publish(delta_event("tsk_a", 1, 0, "text"))

    async def watch() -> tuple[bool, bool, list[StoredEvent]]:
        async with store.feed.subscribe("tsk_a") as subscription:
            during = await asyncio.to_thread(store.publisher.watched, "tsk_a")
            other = await asyncio.to_thread(store.publisher.watched, "tsk_b")
            events = await subscription.read(store.before_all, 0)
        return during, other, events

    during, other, events = asyncio.run(watch())
    assert during
    assert not other
    assert [e.event.type for e in events] == ["delta"]  # the watch mark is not an event
