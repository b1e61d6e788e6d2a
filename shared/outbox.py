"""Messages sent once a transaction is committed: the one "send after commit" of every boundary
(API requests, the worker's terminal hooks, the sweeps).

    outbox(session).add(functools.partial(enqueue_process, celery, task.id, task.queue),
                        "task.enqueue.failed", task_id=task.id)
    session.commit()    # sends them, in the order added; a rollback drops them instead

A message must never point at a row its reader cannot see yet, and a message about a row that
was rolled back must never leave: so messages wait on the session, are sent by its commit and
dropped when its transaction ends any other way. A send that fails is logged, not raised: the
commit stands, and every message here has a sweep that sends again what a lost one left undone
(the task sweep, the webhook sweep, the batch watchdog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shared.logs import get_logger

log = get_logger(__name__)
_KEY = "shared.outbox"


@dataclass(frozen=True)
class Message:
    send: Callable[[], None]
    failure_event: str  # logged, with `context`, when the send raises
    context: dict[str, str] = field(default_factory=dict)


class Outbox:
    """What waits on one session's commit."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def add(self, send: Callable[[], None], failure_event: str, **context: str) -> None:
        self.messages.append(Message(send, failure_event, context))

    def send_all(self) -> None:
        messages, self.messages = self.messages, []
        for message in messages:
            try:
                message.send()
            except Exception as exc:
                log.warning(message.failure_event, error=str(exc), **message.context)

    def drop(self) -> None:
        self.messages.clear()


def outbox(session: Session) -> Outbox:
    """The outbox of `session`, made on first use."""
    box = session.info.get(_KEY)
    if box is None:
        box = session.info[_KEY] = Outbox()
    assert isinstance(box, Outbox)
    return box


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    # releasing a savepoint also "commits": only the outermost transaction makes rows visible
    box = session.info.get(_KEY)
    if box is not None and not session.in_nested_transaction():
        box.send_all()


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # after a commit the box is already empty; after a rollback or a close it is not sent
    box = session.info.get(_KEY)
    if box is not None and transaction.parent is None:
        box.drop()
