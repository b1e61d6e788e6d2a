"""Following a task: the row first, then live events in order, the end at a terminal status,
and the row as the truth when an event was lost."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import update

from server.events.state import read_state
from server.events.watch import WatchTiming, watch_task
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.events import EventFeed, EventPublisher
from shared.events.db_store import DbEventFeed, DbEventPublisher
from shared.events.model import delta_event, status_event
from shared.events.redis_store import RedisEventFeed, RedisEventPublisher
from shared.ids import new_id

TASK = new_id("tsk")
FAST = WatchTiming(idle_s=0.1, row_check_s=0.3)


@dataclass
class Store:
    publisher: EventPublisher
    feed: EventFeed
    before_all: str


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Store:
    if request.param == "database":
        url = settings.database_url
        return Store(DbEventPublisher(url), DbEventFeed(url, poll_s=0.05), "0")
    redis_url = request.getfixturevalue("redis_url")
    return Store(RedisEventPublisher(redis_url, 100, 60), RedisEventFeed(redis_url), "0-0")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        session.add(
            Task(
                id=TASK,
                owner="alice",
                status=TaskStatus.running,
                source_kind="upload",
                options={},
                pages_total=2,
                pages_done=1,
            )
        )
    return settings


def follow(
    settings: Settings, feed: EventFeed, owner: str = "alice", after: str | None = None
) -> list[dict[str, object]]:

    async def go() -> list[dict[str, object]]:
        seen = []
        async for stored in watch_task(
            feed, TASK, lambda: read_state(settings, owner, TASK), after=after, timing=FAST
        ):
            if stored is not None:
                seen.append({"id": stored.id, "type": stored.event.type.value, **stored.event.data})
        return seen

    return asyncio.run(asyncio.wait_for(go(), 30))


def test_the_current_state_comes_first_then_live_events_until_the_end(
    settings: Settings, store: Store
) -> None:
    publisher = store.publisher
    publisher.publish(delta_event(TASK, 1, 0, "before the watcher came"))

    def worker() -> None:
        publisher.publish(delta_event(TASK, 2, 0, "page two"))
        with session_scope(settings.database_url) as session:
            session.execute(update(Task).where(Task.id == TASK).values(status=TaskStatus.succeeded))
        publisher.publish(status_event(TASK, TaskStatus.succeeded))

    threading.Timer(0.3, worker).start()
    seen = follow(settings, store.feed)
    assert [(e["type"], e.get("status") or e.get("text")) for e in seen] == [
        ("status", "running"),
        ("delta", "page two"),
        ("status", "succeeded"),
    ]
    assert seen[0]["progress"] == {
        "pages_done": 1,
        "pages_total": 2,
        "pages_failed": 0,
        "pages_truncated": 0,
        "percent": 50.0,
    }


def test_a_lost_terminal_event_still_ends_the_stream_with_the_rows_state(
    settings: Settings, store: Store
) -> None:
    def canceled_without_event() -> None:
        with session_scope(settings.database_url) as session:
            session.execute(
                update(Task)
                .where(Task.id == TASK)
                .values(
                    status=TaskStatus.canceled, error_code="canceled", error_message="canceled by request"
                )
            )

    threading.Timer(0.3, canceled_without_event).start()
    seen = follow(settings, store.feed)
    assert seen[-1]["status"] == "canceled"
    assert seen[-1]["error"] == {"code": "canceled", "message": "canceled by request"}


def test_a_reconnecting_watcher_resumes_after_its_last_event_id(settings: Settings, store: Store) -> None:
    publisher = store.publisher
    for n in range(3):
        publisher.publish(delta_event(TASK, 1, n, f"d{n}"))
    publisher.publish(status_event(TASK, TaskStatus.succeeded))
    with session_scope(settings.database_url) as session:
        session.execute(update(Task).where(Task.id == TASK).values(status=TaskStatus.running))
    first_id = follow(settings, store.feed, after=store.before_all)[1]["id"]
    seen = follow(settings, store.feed, after=str(first_id))
    assert [e.get("text") or e.get("status") for e in seen] == ["running", "d1", "d2", "succeeded"]


def test_another_owners_task_shows_nothing(settings: Settings) -> None:
    assert follow(settings, DbEventFeed(settings.database_url), owner="mallory") == []


def test_with_redis_down_the_rows_still_carry_the_stream_to_its_end(settings: Settings) -> None:
    def succeeded() -> None:
        with session_scope(settings.database_url) as session:
            session.execute(update(Task).where(Task.id == TASK).values(status=TaskStatus.succeeded))

    threading.Timer(0.3, succeeded).start()
    seen = follow(settings, RedisEventFeed("redis://127.0.0.1:1/0"))
    assert [e["status"] for e in seen] == ["running", "succeeded"]
