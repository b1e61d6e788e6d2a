"""The after-commit outbox, on a real SQLite session: messages leave on the commit, never
before it, never after a rollback, and one failing send neither stops the others nor the commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shared.outbox import outbox


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY)"))
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_messages_leave_on_the_commit_in_order(session: Session) -> None:
    sent: list[str] = []
    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(lambda: sent.append("first"), "test.failed")
    outbox(session).add(lambda: sent.append("second"), "test.failed")
    session.flush()
    assert sent == [], "nothing leaves before the commit"
    session.commit()
    assert sent == ["first", "second"]
    session.commit()
    assert sent == ["first", "second"], "sent once"


def test_a_message_sees_the_committed_row(session: Session, tmp_path: Path) -> None:
    seen: list[int] = []
    other = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")

    def read_from_another_connection() -> None:
        with other.connect() as connection:
            seen.append(int(connection.execute(text("SELECT count(*) FROM rows")).scalar_one()))

    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(read_from_another_connection, "test.failed")
    session.commit()
    other.dispose()
    assert seen == [1]


def test_a_rollback_drops_the_messages(session: Session) -> None:
    sent: list[str] = []
    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(lambda: sent.append("lost"), "test.failed")
    session.rollback()
    session.execute(text("INSERT INTO rows VALUES (2)"))
    outbox(session).add(lambda: sent.append("kept"), "test.failed")
    session.commit()
    assert sent == ["kept"]


def test_closing_without_a_commit_drops_the_messages(session: Session) -> None:
    sent: list[str] = []
    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(lambda: sent.append("lost"), "test.failed")
    session.close()
    session.execute(text("INSERT INTO rows VALUES (2)"))
    session.commit()
    assert sent == []


def test_releasing_a_savepoint_sends_nothing_yet(session: Session) -> None:
    sent: list[str] = []
    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(lambda: sent.append("outer"), "test.failed")
    with session.begin_nested():
        session.execute(text("INSERT INTO rows VALUES (2)"))
    assert sent == []
    session.commit()
    assert sent == ["outer"]


def test_a_failing_send_is_logged_and_the_rest_still_leave(session: Session) -> None:
    sent: list[str] = []

    def broker_down() -> None:
        raise ConnectionError("broker unreachable")

    session.execute(text("INSERT INTO rows VALUES (1)"))
    outbox(session).add(broker_down, "test.enqueue.failed", task_id="tsk_1")
    outbox(session).add(lambda: sent.append("after"), "test.failed")
    session.commit()
    assert sent == ["after"]
    assert session.execute(text("SELECT count(*) FROM rows")).scalar_one() == 1, "the commit stands"
